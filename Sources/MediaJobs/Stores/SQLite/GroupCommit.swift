import GRDB
import Synchronization

/// Group commit: every write that arrives while a commit is running joins the next one, so many
/// writes share one transaction and one fsync instead of paying one each. Submits use it
/// (``SQLiteStore/acceptBatcher``), and so do the workers' step results (``SQLiteStore/advanceBatcher``:
/// the polls claimed together end together).
///
/// A batch first runs as one plain transaction. Only when some write in it throws (a reused
/// idempotency key, a full per-key quota: rare) is the batch rolled back and run again with a
/// savepoint per write, so the refused one rolls back alone; a savepoint per submit on every
/// batch cost ~2.5 % of a submit's CPU. With no load a write commits at once, as before:
/// batching only happens while the previous commit is still in progress.
///
/// A lock rather than an actor: joining a batch is an append, and an actor would add a hop to its
/// executor to every write.
final class GroupCommit<Outcome: Sendable>: Sendable {
    typealias Work = @Sendable (Database) throws -> Outcome
    typealias Completion = @Sendable (Result<Outcome, any Error>) -> Void
    private typealias Waiter = (work: Work, completion: Completion)

    private struct State {
        var pending: [Waiter] = []
        var flushing = false
    }

    private let writer: any DatabaseWriter
    private let state = Mutex(State())

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in the next group commit and returns its outcome once that commit is durable.
    func submit(_ work: @escaping Work) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            submit(work) { continuation.resume(with: $0) }
        }
    }

    /// ``submit(_:)`` with a completion handler, called once the commit is durable (on the
    /// batcher's task): for callers outside Swift concurrency, the submits answered on NIO's
    /// event loop (``SubmitFastPath``).
    func submit(_ work: @escaping Work, completion: @escaping Completion) {
        let startFlush = state.withLock { state in
            state.pending.append((work, completion))
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        if startFlush {
            Task { await self.flush() }
        }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let results = await run(batch.map(\.work))
            for (waiter, result) in zip(batch, results) {
                waiter.completion(result)
            }
        }
    }

    private func run(_ works: [Work]) async -> [Result<Outcome, any Error>] {
        do {
            return try await writer.write { db in try works.map { .success(try $0(db)) } }
        } catch let error as DatabaseError where error.isFatalToTransaction {
            return works.map { _ in .failure(error) }
        } catch {
            // Some submit was refused: the whole transaction rolled back; isolate each one.
            do {
                return try await writer.write { db in try works.map { try Self.isolated($0, db) } }
            } catch {
                return works.map { _ in .failure(error) }
            }
        }
    }

    /// Runs one write in its own savepoint: a refused write rolls back alone.
    private static func isolated(_ work: Work, _ db: Database) throws -> Result<Outcome, any Error> {
        var outcome: Result<Outcome, any Error> = .failure(CancellationError())
        do {
            try db.inSavepoint {
                outcome = .success(try work(db))
                return .commit
            }
        } catch let error as DatabaseError where error.isFatalToTransaction {
            throw error
        } catch {
            outcome = .failure(error)
        }
        return outcome
    }
}

extension DatabaseError {
    /// Errors after which the surrounding transaction cannot go on (disk full, I/O, corruption).
    var isFatalToTransaction: Bool {
        switch resultCode {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_NOMEM, .SQLITE_BUSY, .SQLITE_LOCKED: true
        default: false
        }
    }
}
