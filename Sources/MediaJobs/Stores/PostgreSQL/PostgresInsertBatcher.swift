import PostgresNIO

/// Group commit for plain submits on PostgreSQL (``GroupCommitQueue``): every task that arrives
/// while an insert is running joins the next one, so many tasks share one statement, one commit
/// and one WAL flush instead of paying one each.
///
/// A batch that fails is retried row by row, so one bad row (a duplicate id) fails alone.
final class PostgresInsertBatcher: Sendable {
    typealias Insert = @Sendable ([PostgresPreparedStatements.InsertTask]) async throws -> Void

    private let queue: GroupCommitQueue<PostgresPreparedStatements.InsertTask, Void>
    /// Rows per statement: 21 values each, far below PostgreSQL's 65,535 parameters.
    static let maximumBatch = 500

    init(insert: @escaping Insert) {
        queue = GroupCommitQueue(maximumBatch: Self.maximumBatch) { rows in
            do {
                try await insert(rows)
                return rows.map { _ in .success(()) }
            } catch where rows.count > 1 {
                var results: [Result<Void, any Error>] = []
                for row in rows {
                    do {
                        try await insert([row])
                        results.append(.success(()))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return results
            } catch {
                return [.failure(error)]
            }
        }
    }

    /// Inserts `row` with the next batch; returns once its commit is durable.
    func insert(_ row: PostgresPreparedStatements.InsertTask) async throws {
        try await queue.submit(row)
    }
}
