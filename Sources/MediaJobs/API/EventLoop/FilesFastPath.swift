import Logging
import NIOHTTP1

/// Plain `GET`/`HEAD /files/{task}/{file}` on the event loop: ``ArtifactGate`` and
/// ``ArtifactResponse`` as in ``FilesController``, the bytes sent by ``FileRegionWriter``.
struct FilesFastPath: Sendable {
    static let prefix = "/files/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/files/{task}/{file}"

    /// The artifact row and its task's owner, read synchronously (see ``SQLiteTaskStore/readArtifact(taskID:fileName:)``).
    var lookup: @Sendable (_ taskID: String, _ fileName: String) throws -> (artifact: TaskArtifact, owner: String?)?
    var storage: ArtifactStorage

    /// The head of the answer, with the sendfile marker for a `GET` with bytes to send; nil (the
    /// router answers, logging what it must) for every refusal (404, 410, 416) and every error.
    func answer(_ head: HTTPRequestHead, taskID: String, fileName: String, requester: String?, logger: Logger) -> EventLoopRoutes.RouteAnswer? {
        let artifact: TaskArtifact
        let answer: ArtifactResponse
        do {
            artifact = try ArtifactGate.admit(try lookup(taskID, fileName), requester: requester, path: head.uri)
            answer = try ArtifactResponse(for: artifact, request: FileRequestHeaders(head.headers))
        } catch {
            return EventLoopRoutes.fallBack(Self.route, because: error, logger: logger)
        }
        var headers = HTTPHeaders(answer.headers, reservingExtra: 3)
        if head.method == .GET, let bytes = answer.bytes {
            let path = storage.filePath(taskID: artifact.taskID, fileName: artifact.fileName)
            headers.add(name: SendfileMarker.headerName, value: SendfileMarker(path: path, first: bytes.lowerBound, last: bytes.upperBound).headerValue)
        }
        return .init(status: .init(statusCode: Int(answer.status.code)), headers: headers, body: nil)
    }
}

extension FileRequestHeaders {
    /// The conditional and range headers of a request read on the event loop.
    init(_ headers: HTTPHeaders) {
        self.init(
            range: headers.first(name: "range"), ifRange: headers.first(name: "if-range"), ifNoneMatch: headers["if-none-match"],
            ifModifiedSince: headers.first(name: "if-modified-since"))
    }
}
