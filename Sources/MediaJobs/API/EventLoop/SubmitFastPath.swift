import Foundation
import Logging
import NIOCore

/// `POST /suno/submit/music` on the event loop: the body checks, the stored task and the answer of
/// ``MusicController``'s `submit`.
struct SubmitFastPath: Sendable {
    static let route = "/suno/submit/music"
    /// Largest body read and parsed here; bigger ones (up to `--max-body-size`) go to the router,
    /// so no event loop spends long on one request.
    static let maxBodyBytes = 64 * 1024

    var service: TaskOperations
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
        do {
            let input = try self.body.decode(MusicSubmitBody.self, from: body)
            guard input.callbackURL == nil else {
                return EventLoopRoutes.fallBack(Self.route, because: "a callback_url is checked by the router", logger: logger)
            }
            let music = try MusicController<MediaJobsRequestContext>.musicRequest(input, service)
            return try service.prepare(.music(music), extras: input.extras, owner: owner, idempotencyKey: nil).0
        } catch {
            return EventLoopRoutes.fallBack(Self.route, because: error, logger: logger)
        }
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
                if let known = TaskOperations.refusal(error) as? APIError {
                    refusal = known
                } else {
                    logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(Self.route)"])
                    refusal = .internalError
                }
                completion(.error(refusal, sunoStyle: APIError.isSunoStyle(path: Self.route)))
            }
        }
    }
}
