import Logging
import NIOHTTP1

/// Plain `GET`/`HEAD /files/{task}/{file}` on the event loop: ``ArtifactGate`` and
/// ``ArtifactResponse`` as in ``FilesController``, the bytes sent by ``FileRegionWriter`` (or a 307
/// when storage serves them elsewhere).
struct FilesFastPath: Sendable {
    static let prefix = "/files/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/files/{task}/{file}"

    /// Reads the artifact row and its task's owner synchronously (``EventLoopStoreAccess/readArtifact(taskID:fileName:)``).
    var store: any EventLoopStoreAccess
    /// Where the bytes are (``ArtifactStore/serving(_:)``: synchronous, no I/O).
    var storage: any ArtifactStore

    /// The head of the answer: for a `GET` with bytes to send, the sendfile marker or a 307; nil (the
    /// router answers, logging what it must) for every refusal (404, 410, 416) and every error.
    func answer(_ head: HTTPRequestHead, taskID: String, fileName: String, requester: String?, logger: Logger) -> EventLoopRoutes.RouteAnswer? {
        let artifact: TaskArtifact
        var answer: ArtifactResponse
        do {
            artifact = try ArtifactGate.admit(try store.readArtifact(taskID: taskID, fileName: fileName), requester: requester, path: head.uri)
            answer = try ArtifactResponse(for: artifact, request: FileRequestHeaders(head.headers))
        } catch {
            return EventLoopRoutes.fallBack(Self.route, because: error, logger: logger)
        }
        var marker: SendfileMarker?
        if head.method == .GET, answer.bytes != nil {
            let serving = storage.serving(artifact)
            // A proxied body is streamed from storage asynchronously: the router's handler does that.
            if case .proxy = serving { return EventLoopRoutes.fallBack(Self.route, because: "proxied from storage", logger: logger) }
            marker = answer.sendBody(serving)
        }
        var headers = HTTPHeaders(answer.headers, reservingExtra: 3)
        if let marker { headers.add(name: SendfileMarker.headerName, value: marker.headerValue) }
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
