import Foundation

/// What operators read and change beyond the task pipeline: statistics and the retry edge.
public protocol OperatorStore: Sendable {
    /// Counts of tasks, stored files, retention totals and webhook backlog (the disk's free space is not the store's to know).
    func stats(now: Date) async throws -> OperatorStats

    /// Sends a failed task back to `queued` for a fresh run: the operator's edge `failed → queued`, the one
    /// exception to "a terminal task never changes".
    ///
    /// The task starts over as if just accepted: attempts, polls, progress, failure reason, finish time,
    /// upstream id and outputs are reset, its deadline is its original time budget from `now`, and its
    /// artifact rows are removed (their files are recorded as file removals, as a prune does).
    /// Throws ``TaskStoreError/notFound(_:)``, or ``TaskStoreError/conflict(id:status:)`` unless it failed.
    func retry(taskID: String, now: Date) async throws -> MediaTask
}

extension TaskStatus {
    /// Whether an operator may send a task in this state back to `queued` (``OperatorStore/retry(taskID:now:)``).
    public var canBeRetried: Bool { self == .failed }
}
