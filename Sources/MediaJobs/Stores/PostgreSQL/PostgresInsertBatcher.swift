import PostgresNIO
import Synchronization

/// Group commit for plain submits on PostgreSQL: every task that arrives while an insert is
/// running joins the next one, so many tasks share one statement, one commit and one WAL flush
/// instead of paying one each (the PostgreSQL twin of the SQLite store's `GroupCommit`).
///
/// With no load a task is inserted at once, alone: batching only happens while the previous
/// insert is in flight. A batch that fails is retried row by row, so one bad row (a duplicate id)
/// fails alone.
final class PostgresInsertBatcher: Sendable {
    typealias Insert = @Sendable ([PostgresPreparedStatements.InsertTask]) async throws -> Void
    private typealias Waiter = (row: PostgresPreparedStatements.InsertTask, continuation: CheckedContinuation<Void, any Error>)

    private struct State {
        var pending: [Waiter] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let insert: Insert
    /// Rows per statement: 20 values each, far below PostgreSQL's 65,535 parameters.
    static let maximumBatch = 500

    init(insert: @escaping Insert) {
        self.insert = insert
    }

    /// Inserts `row` with the next batch; returns once its commit is durable.
    func insert(_ row: PostgresPreparedStatements.InsertTask) async throws {
        try await withCheckedThrowingContinuation { continuation in
            let startFlush = state.withLock { state in
                state.pending.append((row, continuation))
                guard !state.flushing else { return false }
                state.flushing = true
                return true
            }
            if startFlush {
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                let batch = Array(state.pending.prefix(Self.maximumBatch))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                try await insert(batch.map(\.row))
                for waiter in batch { waiter.continuation.resume() }
            } catch where batch.count > 1 {
                for waiter in batch {
                    do {
                        try await insert([waiter.row])
                        waiter.continuation.resume()
                    } catch {
                        waiter.continuation.resume(throwing: error)
                    }
                }
            } catch {
                batch[0].continuation.resume(throwing: error)
            }
        }
    }
}
