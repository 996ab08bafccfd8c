import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The hot routes ``SendfileHandler`` answers itself, on the event loop: `GET /suno/fetch/{id}`
/// (what polling clients call most), plain `GET`/`HEAD /files/{task}/{file}`, and plain
/// `POST /suno/submit/music`.
///
/// Through the router, every request hops from the event loop to a Swift task and back, with
/// Hummingbird's per-request work (async request and response streams, router, middleware chain)
/// in between: for a status read that was two fifths of the server's CPU per request, for a 1 MB
/// file a third, for a submit half (BENCHMARKS.md, figures 1, 2 and 4). nginx answers on its event
/// loop, and so do these routes: a synchronous point read of the store (microseconds, see
/// ``EventLoopStoreAccess``), or for a submit the body's checks and a place in the store's next
/// group commit whose completion writes the answer; the same checks and the same bytes as
/// the routed handlers, whose code they share.
///
/// Reads are answered here when they succeed; a submit once its body passed every check (a store
/// refusal after that, such as the per-key limit, is answered here with the usual envelope).
/// Anything else (another method or HTTP version, a path the router might read differently, a
/// missing or refused key, an unknown task, an invalid body, any error before the commit) goes to
/// the router, which answers it the usual way, error envelope included.
struct EventLoopRoutes: Sendable {
    var keys: APIKeyRing
    var metrics: ServiceMetrics
    /// The `Server` header every answer carries.
    var serverName: String
    var status: StatusFastPath
    var files: FilesFastPath
    var submit: SubmitFastPath

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
        return answer.map { finish($0, head, route: route, started: started) }
    }

    /// The whole answer: `Date` and `Server` added, the request counted under its route template.
    private func finish(_ answer: RouteAnswer, _ head: HTTPRequestHead, route: String, started: ContinuousClock.Instant) -> Answer {
        var headers = answer.headers
        headers.add(name: "date", value: HTTPDate.now())
        headers.add(name: "server", value: serverName)
        metrics.httpRequest(method: head.method.rawValue, route: route, status: Int(answer.status.code), duration: ContinuousClock.now - started)
        return Answer(head: HTTPResponseHead(version: head.version, status: answer.status, headers: headers), body: answer.body)
    }

    // MARK: Submits

    /// A submit whose body is being collected, to be answered here if it passes every check.
    struct PendingSubmit {
        var head: HTTPRequestHead
        var requester: Requester
        var started: ContinuousClock.Instant
        var body: ByteBuffer?
    }

    /// A submit that may be answered here once its body has arrived; nil when the router should take it.
    func submitCandidate(_ head: HTTPRequestHead) -> PendingSubmit? {
        let started = ContinuousClock.now
        guard head.method == .POST, head.version == .http1_1, head.isKeepAlive, SubmitFastPath.isSubmitPath(head.uri),
            let length = head.headers.first(name: "content-length").flatMap(Int.init), (1...min(SubmitFastPath.maxBodyBytes, submit.body.maxBytes)).contains(length),
            // Chunked bodies, `Expect: 100-continue` and idempotent replays keep to the router.
            !head.headers.contains(name: "transfer-encoding"), !head.headers.contains(name: "expect"),
            !head.headers.contains(name: "idempotency-key"),
            let requester = requester(head)
        else { return nil }
        return PendingSubmit(head: head, requester: requester, started: started)
    }

    /// Checks the collected body and stores the task; `completion` gets the answer (on the
    /// batcher's task). False, with nothing stored, when the router should answer instead.
    func commit(_ pending: PendingSubmit, completion: @escaping @Sendable (Answer) -> Void) -> Bool {
        guard let body = pending.body, let task = submit.task(from: body, owner: pending.requester.owner) else { return false }
        submit.store(task, owner: pending.requester.owner) { answer in
            completion(finish(answer, pending.head, route: SubmitFastPath.route, started: pending.started))
        }
        return true
    }

    /// Who asks, as ``APIKeyAuthMiddleware`` decides it.
    struct Requester: Sendable {
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

    /// Reads a task's status and artifacts synchronously (``EventLoopStoreAccess/readStatus(id:)``).
    var store: any EventLoopStoreAccess
    var representations: TaskRepresentations

    func answer(id: String, requester: String?) -> EventLoopRoutes.RouteAnswer? {
        guard let found = try? store.readStatus(id: id), let (record, artifacts) = try? TaskService.admitStatus(found, id: id, kind: .music, owner: requester)
        else { return nil }
        return .json(.ok, JSONWriter.buffer(MusicController<MediaJobsRequestContext>.statusAnswer(record, artifacts: artifacts, representations)))
    }
}

/// Plain `GET`/`HEAD /files/{task}/{file}` on the event loop: ``ArtifactGate`` and
/// ``ArtifactResponse`` as in ``FilesController``, the bytes sent by ``SendfileHandler`` (or a 307
/// when storage serves them elsewhere).
struct FilesFastPath: Sendable {
    static let prefix = "/files/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/files/{task}/{file}"

    /// Reads the artifact row and its task's owner synchronously (``EventLoopStoreAccess/readArtifact(taskID:fileName:)``).
    var store: any EventLoopStoreAccess
    /// Where the bytes are (``ArtifactStore/serving(_:)``: synchronous, no I/O).
    var storage: any ArtifactStore

    /// The head of the answer: for a `GET` with bytes to send, with the sendfile marker, or a 307.
    func answer(_ head: HTTPRequestHead, taskID: String, fileName: String, requester: String?) -> EventLoopRoutes.RouteAnswer? {
        // Every refusal (404, 410, 416) and every error (logged by the router's attempt) is left to the router.
        guard let found = try? store.readArtifact(taskID: taskID, fileName: fileName),
            let artifact = try? ArtifactGate.admit(found, requester: requester, path: head.uri),
            var answer = try? ArtifactResponse(for: artifact, request: FileRequestHeaders(head.headers))
        else { return nil }
        let marker = head.method == .GET ? answer.sendBody(from: storage, of: artifact) : nil
        var headers = HTTPHeaders()
        headers.reserveCapacity(answer.headers.count + 3)
        for field in answer.headers { headers.add(name: field.name.rawName, value: field.value) }
        if let marker { headers.add(name: SendfileMarker.headerName, value: marker.headerValue) }
        return .init(status: .init(statusCode: Int(answer.status.code)), headers: headers, body: nil)
    }
}

/// `POST /suno/submit/music` on the event loop: the body checks, the stored task and the answer of
/// ``MusicController``'s `submit`.
struct SubmitFastPath: Sendable {
    static let route = "/suno/submit/music"
    /// Largest body read and parsed here; bigger ones (up to `--max-body-size`) go to the router,
    /// so no event loop spends long on one request.
    static let maxBodyBytes = 64 * 1024

    var service: TaskService
    var body: JSONRequestBody
    /// Stores submits in the next group commit (``EventLoopStoreAccess/accept(_:idempotency:maxActivePerOwner:now:completion:)``).
    var store: any EventLoopStoreAccess
    var logger: Logger

    /// The route's path, a query ignored (as the router does).
    static func isSubmitPath(_ uri: String) -> Bool {
        var path = uri.utf8[...]
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        return path.elementsEqual(route.utf8)
    }

    /// The task `body` asks for, when it passes every check that needs no I/O; nil otherwise
    /// (also for a `callback_url`, whose check looks up its host): the router then answers.
    func task(from body: ByteBuffer, owner: String?) -> MediaTask? {
        guard let input = try? self.body.decode(MusicSubmitBody.self, from: body), input.callbackURL == nil,
            let music = try? MusicController<MediaJobsRequestContext>.musicRequest(input, service),
            let (task, _) = try? service.prepare(.music(music), extras: input.extras, owner: owner, idempotencyKey: nil)
        else { return nil }
        return task
    }

    /// Stores `task` in the next group commit; `completion` gets the answer, a refusal's included.
    func store(_ task: MediaTask, owner: String?, completion: @escaping @Sendable (EventLoopRoutes.RouteAnswer) -> Void) {
        self.store.accept(task, idempotency: nil, maxActivePerOwner: service.activeLimit(for: owner), now: Date()) { result in
            switch result {
            case .success(let outcome):
                service.accepted(outcome)
                completion(.json(.ok, JSONWriter.buffer(MusicController<MediaJobsRequestContext>.submitAnswer(outcome.task))))
            case .failure(let error):
                let refusal: APIError
                if let known = TaskService.refusal(error) as? APIError {
                    refusal = known
                } else {
                    logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(Self.route)"])
                    refusal = .internalError
                }
                var answer = EventLoopRoutes.RouteAnswer.json(.init(statusCode: Int(refusal.status.code)), refusal.body(sunoStyle: true))
                for field in refusal.headers { answer.headers.add(name: field.name.rawName, value: field.value) }
                completion(answer)
            }
        }
    }
}

extension EventLoopRoutes.RouteAnswer {
    /// A JSON answer with its length.
    static func json(_ status: HTTPResponseStatus, _ body: ByteBuffer) -> Self {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: JSONResponse.contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        return .init(status: status, headers: headers, body: body)
    }
}
