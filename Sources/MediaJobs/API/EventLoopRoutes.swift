import Foundation
import NIOCore
import NIOHTTP1

/// The hot read routes ``SendfileHandler`` answers itself, on the event loop: `GET /suno/fetch/{id}`
/// (what polling clients call most) and plain `GET`/`HEAD /files/{task}/{file}`.
///
/// Through the router, every request hops from the event loop to a Swift task and back, with
/// Hummingbird's per-request work (router, middleware chain, response writer) in between: for a
/// status read that was two fifths of the server's CPU per request, for a 1 MB file a third
/// (BENCHMARKS.md, figures 2 and 4). nginx answers on its event loop, and so do these routes: a
/// synchronous point read of the store (microseconds, see ``SQLiteDirectReader``), then the same
/// checks and the same bytes as the routed handlers, whose code they share.
///
/// They answer successes only. Anything else (another method or HTTP version, a path the router
/// might read differently, a missing or refused key, an unknown task, any error) returns nil and
/// goes to the router, which answers it the usual way, error envelope included.
struct EventLoopRoutes: Sendable {
    var keys: APIKeyRing
    var metrics: ServiceMetrics
    /// The `Server` header every answer carries.
    var serverName: String
    var status: StatusFastPath
    var files: FilesFastPath

    /// A whole answer: the head, and the body when it is not a file (a file goes out as a
    /// ``SendfileMarker`` in the head).
    struct Answer {
        var head: HTTPResponseHead
        var body: ByteBuffer?
    }

    /// What one route made of a request.
    struct RouteAnswer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer?
    }

    /// The answer to `head`, or nil when the router should answer it.
    func answer(_ head: HTTPRequestHead) -> Answer? {
        let started = ContinuousClock.now
        // Requests with a body, HTTP/1.0 and `Connection: close` are rare here and have framing
        // rules of their own: the router's.
        guard head.version == .http1_1, head.isKeepAlive, !head.headers.contains(name: "content-length"),
            !head.headers.contains(name: "transfer-encoding")
        else { return nil }
        let route: String
        let answer: RouteAnswer?
        if head.method == .GET, let segments = Self.plainSegments(head.uri, after: StatusFastPath.prefix, count: 1) {
            route = StatusFastPath.route
            answer = requester(head).flatMap { status.answer(id: segments[0], requester: $0.owner) }
        } else if head.method == .GET || head.method == .HEAD, let segments = Self.plainSegments(head.uri, after: FilesFastPath.prefix, count: 2) {
            route = FilesFastPath.route
            answer = requester(head).flatMap { files.answer(head, taskID: segments[0], fileName: segments[1], requester: $0.owner) }
        } else {
            return nil
        }
        guard var answer else { return nil }
        answer.headers.add(name: "date", value: HTTPDate.format(Date()))
        answer.headers.add(name: "server", value: serverName)
        metrics.httpRequest(method: head.method.rawValue, route: route, status: Int(answer.status.code), duration: ContinuousClock.now - started)
        return Answer(head: HTTPResponseHead(version: head.version, status: answer.status, headers: answer.headers), body: answer.body)
    }

    /// Who asks, as ``APIKeyAuthMiddleware`` decides it.
    struct Requester {
        /// The key's owner id; nil when the server runs without keys.
        var owner: String?
    }

    /// Nil when keys are required and the request carries none that is valid (the router answers 401).
    private func requester(_ head: HTTPRequestHead) -> Requester? {
        guard !keys.isOpen else { return Requester(owner: nil) }
        guard let token = BearerToken.parse(head.headers.first(name: "authorization")), let owner = keys.owner(presenting: token) else { return nil }
        return Requester(owner: owner)
    }

    /// The `count` segments of `uri`'s path after `prefix` (a query is ignored, as the router
    /// does); nil for anything the router might read differently (percent-escapes, dot segments,
    /// empty segments, another number of them).
    ///
    /// Scans bytes: `Substring.contains("%")` goes through Foundation's string search, which made
    /// this a third of the event loop's own work per `/files` request.
    static func plainSegments(_ uri: String, after prefix: String, count: Int) -> [String]? {
        var path = uri.utf8[...]
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        guard path.starts(with: prefix.utf8), !path.contains(UInt8(ascii: "%")), !path.contains(UInt8(ascii: "#")) else { return nil }
        let segments = path.dropFirst(prefix.utf8.count).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.count == count,
            segments.allSatisfy({ !$0.isEmpty && !$0.elementsEqual(".".utf8) && !$0.elementsEqual("..".utf8) })
        else { return nil }
        return segments.map { String(Substring($0)) }
    }
}

/// `GET /suno/fetch/{id}` on the event loop: the read, the visibility rule and the JSON of
/// ``MusicController``'s `fetch`.
struct StatusFastPath: Sendable {
    static let prefix = "/suno/fetch/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/suno/fetch/{id}"

    /// A task's status and artifacts, read synchronously (see ``SQLiteTaskStore/readStatus(id:)``).
    var lookup: @Sendable (_ id: String) throws -> (TaskStatusRecord, [TaskArtifact])?
    var representations: TaskRepresentations

    func answer(id: String, requester: String?) -> EventLoopRoutes.RouteAnswer? {
        guard let found = try? lookup(id), let (record, artifacts) = try? TaskService.admitStatus(found, id: id, kind: .music, owner: requester)
        else { return nil }
        let body = JSONWriter.buffer(MusicController<MediaJobsRequestContext>.statusAnswer(record, artifacts: artifacts, representations))
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: JSONResponse.contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        return .init(status: .ok, headers: headers, body: body)
    }
}

/// Plain `GET`/`HEAD /files/{task}/{file}` on the event loop: ``ArtifactGate`` and
/// ``ArtifactResponse`` as in ``FilesController``, the bytes sent by ``SendfileHandler``.
struct FilesFastPath: Sendable {
    static let prefix = "/files/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/files/{task}/{file}"

    /// The artifact row and its task's owner, read synchronously (see ``SQLiteTaskStore/readArtifact(taskID:fileName:)``).
    var lookup: @Sendable (_ taskID: String, _ fileName: String) throws -> (artifact: TaskArtifact, owner: String?)?
    var storage: ArtifactStorage

    /// The head of the answer, with the sendfile marker for a `GET` with bytes to send.
    func answer(_ head: HTTPRequestHead, taskID: String, fileName: String, requester: String?) -> EventLoopRoutes.RouteAnswer? {
        // Every refusal (404, 410, 416) and every error (logged by the router's attempt) is left to the router.
        guard let found = try? lookup(taskID, fileName),
            let artifact = try? ArtifactGate.admit(found, requester: requester, path: head.uri),
            let answer = try? ArtifactResponse(for: artifact, request: FileRequestHeaders(head.headers))
        else { return nil }
        var headers = HTTPHeaders()
        headers.reserveCapacity(answer.headers.count + 3)
        for field in answer.headers { headers.add(name: field.name.rawName, value: field.value) }
        if head.method == .GET, let bytes = answer.bytes {
            let path = storage.filePath(taskID: artifact.taskID, fileName: artifact.fileName)
            headers.add(name: SendfileMarker.headerName, value: SendfileMarker(path: path, first: bytes.lowerBound, last: bytes.upperBound).headerValue)
        }
        return .init(status: .init(statusCode: Int(answer.status.code)), headers: headers, body: nil)
    }
}
