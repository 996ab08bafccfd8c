import Synchronization

/// Tells the other instances about work this one committed: at most one `NOTIFY` per kind of
/// wake-up per coalescing window, sent right after the commit, outside any transaction.
///
/// The textbook shape, a `NOTIFY` inside the transaction that makes the work, costs too much:
/// PostgreSQL serialises the commits of notifying transactions on one lock, WAL flush included,
/// so single-row inserts fell from about 9,500/s to 450/s on the benchmark machine
/// (BENCHMARKS.md, figure 7). Sent after the commit, a notification still never announces work
/// that is not there yet; one lost to a crash in between delays that work by an idle tick.
final class PostgresWakeUpNotifier: Sendable {
    private let pending = Mutex<Set<StoreWakeUp>>([])
    private let signal = WorkSignal()
    /// Wake-ups within this window after a `NOTIFY` share the next one.
    let window: Duration

    init(window: Duration = .milliseconds(20)) {
        self.window = window
    }

    /// Asks for a `NOTIFY` of `wakeUp`; cheap enough for every accepted task.
    func wake(_ wakeUp: StoreWakeUp) {
        let first = pending.withLock { $0.insert(wakeUp).inserted }
        if first { signal.signal() }
    }

    /// Sends the wake-ups asked for with `send`, until cancelled.
    func run(send: @Sendable (StoreWakeUp) async throws -> Void) async {
        while !Task.isCancelled {
            await signal.wait(timeout: .seconds(3600))
            let wakeUps = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            // A failed NOTIFY (database away) only delays: the workers still poll.
            for wakeUp in wakeUps.sorted(by: { $0.rawValue < $1.rawValue }) { try? await send(wakeUp) }
            try? await Task.sleep(for: window)
        }
    }
}
