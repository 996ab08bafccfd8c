import Foundation

/// The part of a task that a status answer shows (`GET /suno/fetch/{id}`).
///
/// It leaves out the stored request and the provider's raw outputs: decoding their JSON was
/// more than half of a status read's row decoding (BENCHMARKS.md, figure 2).
public struct TaskStatusRecord: Sendable, Equatable {
    public var id: String
    public var kind: TaskKind
    public var status: TaskStatus
    public var progress: Int
    public var failReason: String?
    /// Digest of the API key that submitted it (`nil` on an open server).
    public var owner: String?
    public var createdAt: Date
    public var finishedAt: Date?
}

extension MediaTask {
    /// What a status answer shows of this task.
    public var statusRecord: TaskStatusRecord {
        TaskStatusRecord(
            id: id, kind: kind, status: status, progress: progress, failReason: failReason, owner: owner, createdAt: createdAt, finishedAt: finishedAt)
    }
}
