import Foundation

/// Moves the next poll of waiting tasks when the schedule of their kind moves
/// (``PollScheduler/replan(_:now:using:)``), so every task follows what is known now rather than
/// what was known when it was last polled. Runs after each sync of the durations
/// (``UpstreamDurationSync``), on whichever instance learned the change: a move is written only
/// while its task is still as read, so instances re-planning together, or a claim in between,
/// lose nothing.
public struct PollReplanner: Sendable {
    let store: any WaitingPollStore
    let scheduler: PollScheduler
    /// The poll worker's, woken when a poll moved earlier than it may be sleeping until.
    let signal: WorkSignal?

    public init(store: any WaitingPollStore, scheduler: PollScheduler, signal: WorkSignal?) {
        self.store = store
        self.scheduler = scheduler
        self.signal = signal
    }

    /// Re-plans the waiting tasks of `keys`; returns how many polls moved.
    public func replan(keys: [DurationKey], now: Date = Date()) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        var generator = SystemRandomNumberGenerator()
        let moves = try await store.waitingPolls(keys: keys).compactMap { scheduler.replan($0, now: now, using: &generator) }
        guard !moves.isEmpty else { return 0 }
        let moved = try await store.movePolls(moves)
        if moves.contains(where: { $0.to < $0.from }) { signal?.signal() }
        return moved
    }
}
