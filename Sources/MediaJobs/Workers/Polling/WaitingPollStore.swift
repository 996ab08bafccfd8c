import Foundation

/// A task in `processing` waiting, unleased, for its next poll: what a re-plan reads of it.
public struct WaitingPoll: Sendable, Equatable {
    public var taskID: String
    public var key: DurationKey
    /// When the provider took the task (its creation for tasks accepted before this was kept).
    public var acceptedAt: Date
    /// The last poll that found it running; nil before its first poll.
    public var lastPollAt: Date?
    public var progress: Int
    /// Failed provider calls in a row: a task waiting out a retry backoff is not re-planned.
    public var attempts: Int
    public var nextPollAt: Date
    /// The epoch of its last claim: a move is written only if no claim came in between.
    public var leaseEpoch: Int64
}

/// A new time for the next poll of a ``WaitingPoll``, written only while the task is still as it
/// was read (unleased, the same claim epoch, the same due time).
public struct PollMove: Sendable, Equatable {
    public var taskID: String
    public var leaseEpoch: Int64
    public var from: Date
    public var to: Date
    public var priority: Double
}

/// Where the polls of waiting tasks are re-planned when the schedule of their kind moves
/// (``PollReplanner``).
public protocol WaitingPollStore: Sendable {
    /// The unleased `processing` tasks of `keys` (tasks stored before their key was kept are not among them).
    func waitingPolls(keys: [DurationKey]) async throws -> [WaitingPoll]
    /// Applies each move whose task is still as read; returns how many were applied.
    @discardableResult
    func movePolls(_ moves: [PollMove]) async throws -> Int
}
