import Synchronization

/// Group commit: every write that arrives while a batch is being committed joins the next batch,
/// so many writes share one transaction and one fsync instead of paying one each. With no load a
/// write goes at once, alone: batching only happens while the previous commit is in progress.
///
/// The queue only gathers and hands out; `run` commits a batch and says how each item fared
/// (the SQLite store's ``GroupCommit``, the PostgreSQL store's ``PostgresInsertBatcher``).
/// A lock rather than an actor: joining a batch is an append, and an actor would add a hop to its
/// executor to every write.
final class GroupCommitQueue<Item: Sendable, Outcome: Sendable>: Sendable {
    typealias Completion = @Sendable (Result<Outcome, any Error>) -> Void
    /// Starts committing a batch and calls `finished` with one result per item, in order, from
    /// wherever the commit ran (the next batch starts from there).
    typealias Run = @Sendable (_ batch: [Item], _ finished: @escaping @Sendable ([Result<Outcome, any Error>]) -> Void) -> Void

    private struct State {
        var pending: [(item: Item, completion: Completion)] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let run: Run

    /// `run` commits on a thread of its own and reports back there: the SQLite store's writer
    /// queue, where a batch goes without a hop through a Swift task.
    init(maximumBatch: Int = .max, starting run: @escaping Run) {
        self.maximumBatch = maximumBatch
        self.run = run
    }

    /// `run` commits in a Swift task (one per batch).
    convenience init(maximumBatch: Int = .max, run: @escaping @Sendable ([Item]) async -> [Result<Outcome, any Error>]) {
        self.init(maximumBatch: maximumBatch) { batch, finished in
            Task { finished(await run(batch)) }
        }
    }

    /// Commits `item` with the next batch; returns its outcome once that commit is durable.
    func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            submit(item) { continuation.resume(with: $0) }
        }
    }

    /// ``submit(_:)`` with a completion handler, called once the commit is durable (on the
    /// thread the commit ran on): for callers outside Swift concurrency (the event loop's submit).
    func submit(_ item: Item, completion: @escaping Completion) {
        let startFlush = state.withLock { state in
            state.pending.append((item, completion))
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        if startFlush { flushNext() }
    }

    /// Commits what is pending, then (from where that commit reported) what arrived meanwhile,
    /// until nothing is left.
    private func flushNext() {
        let batch = state.withLock { state in
            let batch = Array(state.pending.prefix(maximumBatch))
            state.pending.removeFirst(batch.count)
            if batch.isEmpty { state.flushing = false }
            return batch
        }
        guard !batch.isEmpty else { return }
        run(batch.map(\.item)) { results in
            for (waiter, result) in zip(batch, results) {
                waiter.completion(result)
            }
            self.flushNext()
        }
    }
}
