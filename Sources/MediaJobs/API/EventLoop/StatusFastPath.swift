import Logging

/// `GET /suno/fetch/{id}` on the event loop: the read, the visibility rule and the JSON of
/// ``MusicController``'s `fetch`.
struct StatusFastPath: Sendable {
    static let prefix = "/suno/fetch/"
    /// The template the router reports for this route, so both paths count under one label.
    static let route = "/suno/fetch/{id}"

    /// Reads a task's status and artifacts synchronously (``EventLoopStoreAccess/readStatus(id:)``).
    var store: any EventLoopStoreAccess
    var representations: TaskRepresentations

    /// The answer for a task `requester` may see; nil (the router answers) for anything else.
    func answer(id: String, requester: String?, logger: Logger) -> EventLoopRoutes.RouteAnswer? {
        let record: TaskStatusRecord
        let artifacts: [TaskArtifact]
        do {
            (record, artifacts) = try TaskOperations.admitStatus(try store.readStatus(id: id), id: id, kind: .music, owner: requester)
        } catch {
            return EventLoopRoutes.fallBack(Self.route, because: error, logger: logger)
        }
        return .json(.ok, JSONWriter.buffer(MusicController<MediaJobsRequestContext>.statusAnswer(record, artifacts: artifacts, representations)))
    }
}
