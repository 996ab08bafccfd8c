import Foundation
import PostgresNIO

/// The statements of the hottest requests (a submit, a status read), prepared once per pooled
/// connection: PostgreSQL then skips parsing and planning them, which on a small machine is CPU
/// the database and the service share (BENCHMARKS.md, figure 7).
enum PostgresPreparedStatements {
    /// The `INSERT` of a new task (``MediaTask/postgresInsert()`` is the same row for transactions).
    struct InsertTask: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO tasks (id, kind, status, request, metadata, callback_url, owner, upstream_id,
                upstream_outputs, progress, fail_reason, attempts, poll_count, next_attempt_at, deadline_at,
                lease_owner, lease_expires_at, created_at, updated_at, finished_at, duration_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
            """
        /// Values per row.
        static let columnCount = 21
        // Declared, not inferred from the first execution: a NULL binds no type of its own.
        static let bindingDataTypes: [PostgresDataType] = [
            .text, .text, .text, .text, .text, .text, .text, .text, .text, .int8, .text, .int8, .int8, .int8, .int8,
            .text, .int8, .int8, .int8, .int8, .text,
        ]
        typealias Row = Void

        let task: MediaTask
        let columns: MediaTask.EncodedColumns

        init(_ task: MediaTask) throws {
            self.task = task
            self.columns = try task.encodedColumns()
        }

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: Self.columnCount)
            append(to: &bindings)
            return bindings
        }

        /// Appends the row's ``columnCount`` values in the column order of ``sql`` (also for a multi-row insert).
        func append(to bindings: inout PostgresBindings) {
            bindings.append(task.id)
            bindings.append(task.kind.rawValue)
            bindings.append(task.status.rawValue)
            bindings.append(columns.request)
            bindings.append(columns.metadata)
            bindings.append(task.callbackURL)
            bindings.append(task.owner)
            bindings.append(task.upstreamID)
            bindings.append(columns.upstreamOutputs)
            bindings.append(Int64(task.progress))
            bindings.append(task.failReason)
            bindings.append(Int64(task.attempts))
            bindings.append(Int64(task.pollCount))
            bindings.append(task.nextAttemptAt.millis)
            bindings.append(task.deadlineAt.millis)
            bindings.append(task.leaseOwner)
            bindings.append(task.leaseExpiresAt?.millis)
            bindings.append(task.createdAt.millis)
            bindings.append(task.updatedAt.millis)
            bindings.append(task.finishedAt?.millis)
            bindings.append(DurationKey(task: task).value)
        }

        /// One `INSERT` of many rows (`rows` × ``columnCount`` placeholders), the same columns as ``sql``.
        static func multiRowSQL(rows: Int) -> String {
            let columns = sql.components(separatedBy: "VALUES")[0]
            let values = (0..<rows).map { row in
                "(" + (1...columnCount).map { "$\(row * columnCount + $0)" }.joined(separator: ", ") + ")"
            }
            return columns + "VALUES " + values.joined(separator: ", ")
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// A task and its artifacts in one round trip: one row per artifact, or one row without.
    struct TaskWithArtifacts: TaskByID {
        static let sql = """
            SELECT t.*, \(TaskArtifact.postgresJoinedColumns) FROM tasks t LEFT JOIN artifacts a ON a.task_id = t.id
            WHERE t.id = $1 ORDER BY a.idx
            """
        let id: String
    }

    /// What a status answer shows of a task, and its artifacts: ``TaskWithArtifacts`` without the
    /// request and outputs, whose JSON a status read does not need.
    struct StatusWithArtifacts: TaskByID {
        static let sql = """
            SELECT t.id, t.kind, t.status, t.progress, t.fail_reason, t.owner, t.created_at, t.finished_at, \(TaskArtifact.postgresJoinedColumns)
            FROM tasks t LEFT JOIN artifacts a ON a.task_id = t.id
            WHERE t.id = $1 ORDER BY a.idx
            """
        let id: String
    }
}

/// A statement that selects one task by its id (`$1`), its rows read by column name.
protocol TaskByID: PostgresPreparedStatement where Row == PostgresRandomAccessRow {
    var id: String { get }
}

extension TaskByID {
    static var bindingDataTypes: [PostgresDataType] { [.text] }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRandomAccessRow {
        row.makeRandomAccess()
    }
}
