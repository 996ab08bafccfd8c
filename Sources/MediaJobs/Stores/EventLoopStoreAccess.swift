import Foundation

/// What the routes answered on NIO's event loop (``StatusFastPath``, ``FilesFastPath``,
/// ``SubmitFastPath``) need of a store: the two hottest reads without `async`, and a submit with a
/// completion handler.
///
/// An event loop must never wait, so a store offers this only when its reads take microseconds on
/// the calling thread (the SQLite store's direct reader) and its writes can report back from
/// elsewhere (its group commit). A store that cannot offers none, and those routes go through the
/// router and the async ``TaskStore`` instead.
public protocol EventLoopStoreAccess: Sendable {
    /// ``TaskStore/statusWithArtifacts(id:)``, answered on the calling thread.
    func readStatus(id: String) throws -> (TaskStatusRecord, [TaskArtifact])?

    /// ``TaskStore/artifact(taskID:fileName:)``, answered on the calling thread.
    func readArtifact(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)?

    /// ``TaskStore/accept(_:idempotency:maxActivePerOwner:now:)`` with a completion handler, called
    /// (on another thread) once the task is durable or refused.
    func accept(
        _ task: MediaTask, idempotency: IdempotencyClaim?, maxActivePerOwner: Int?, now: Date,
        completion: @escaping @Sendable (Result<AcceptOutcome, any Error>) -> Void)
}
