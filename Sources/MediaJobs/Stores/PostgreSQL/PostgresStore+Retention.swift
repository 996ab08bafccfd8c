import Foundation
import PostgresNIO

extension PostgresStore: RetentionStore {
    public func storedBytes(_ scope: PruneScope) async throws -> Int64 {
        var statement = PostgresStatementBuilder()
        var conditions = ["a.pruned_at IS NULL"]
        Self.restrict(to: scope, conditions: &conditions, statement: &statement)
        let sql = "SELECT COALESCE(SUM(a.bytes), 0)::bigint FROM artifacts a JOIN tasks t ON t.id = a.task_id WHERE \(conditions.joined(separator: " AND "))"
        return try await scalar(statement.query(sql), as: Int64.self) ?? 0
    }

    public func pruneArtifacts(
        _ scope: PruneScope, after cursor: PruneCursor?, limit: Int, rule: PruneRule, now: Date, dryRun: Bool
    ) async throws -> PruneBatch {
        var statement = PostgresStatementBuilder()
        var conditions = ["a.pruned_at IS NULL", Self.prunableTask]
        if let cursor {
            conditions.append(
                "(a.created_at, a.task_id, a.idx) > (\(statement.bind(cursor.createdAt.millis)), \(statement.bind(cursor.taskID)), \(statement.bind(cursor.index)))")
        }
        Self.restrict(to: scope, conditions: &conditions, statement: &statement)
        let sql = """
            SELECT a.task_id, a.idx, a.file_name, a.bytes, a.created_at, t.kind
            FROM artifacts a JOIN tasks t ON t.id = a.task_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY a.created_at, a.task_id, a.idx
            LIMIT \(statement.bind(max(1, limit)))
            """
        let query = statement.query(sql)
        let select = { @Sendable (connection: PostgresConnection) async throws -> PruneBatch in
            let candidates = try await connection.rows(query, logger: logger).map { row in
                PruneCandidate(
                    taskID: try row.value("task_id"), index: try row.value("idx"), fileName: try row.value("file_name"),
                    kind: try TaskKind.decode(try row.value("kind")), bytes: try row.value("bytes"), createdAt: try row.date("created_at"))
            }
            return PruneBatch(scanned: candidates.count, pruned: Array(candidates.prefix(rule.accepted(candidates))))
        }
        if dryRun {
            return try await withConnection { try await select($0) }
        }
        return try await transaction { connection in
            let batch = try await select(connection)
            guard !batch.pruned.isEmpty else { return batch }
            for candidate in batch.pruned {
                try await connection.query(
                    "UPDATE artifacts SET pruned_at = \(now.millis) WHERE task_id = \(candidate.taskID) AND idx = \(candidate.index) AND pruned_at IS NULL",
                    logger: logger)
                try await recordRemoval(connection, taskID: candidate.taskID, fileName: candidate.fileName, now: now)
            }
            try await addCounters(
                connection, [("pruned.files", Int64(batch.pruned.count)), ("pruned.bytes", batch.pruned.reduce(0) { $0 + $1.bytes })], now: now)
            return batch
        }
    }

    public func deleteTasks(_ scope: PruneScope, after cursor: TaskDeletionCursor?, limit: Int, now: Date, dryRun: Bool) async throws -> [DeletedTask] {
        guard let horizon = scope.deleteTasksFinishedBefore else { return [] }
        var statement = PostgresStatementBuilder()
        var conditions = [Self.prunableTask, "t.finished_at IS NOT NULL", "t.finished_at < \(statement.bind(horizon.millis))"]
        if let kind = scope.kind { conditions.append("t.kind = \(statement.bind(kind.rawValue))") }
        if let cursor {
            conditions.append("(t.finished_at, t.id) > (\(statement.bind(cursor.finishedAt.millis)), \(statement.bind(cursor.taskID)))")
        }
        let sql = """
            SELECT t.id, t.kind, t.finished_at,
                (SELECT COUNT(*) FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS files,
                (SELECT COALESCE(SUM(a.bytes), 0)::bigint FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS bytes
            FROM tasks t
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY t.finished_at, t.id
            LIMIT \(statement.bind(max(1, limit)))
            """
        let query = statement.query(sql)
        let select = { @Sendable (connection: PostgresConnection) async throws -> [DeletedTask] in
            try await connection.rows(query, logger: logger).map { row in
                DeletedTask(
                    id: try row.value("id"), kind: try TaskKind.decode(try row.value("kind")), finishedAt: try row.date("finished_at"),
                    stored: FileTotals(files: try row.value("files"), bytes: try row.value("bytes")))
            }
        }
        if dryRun {
            return try await withConnection { try await select($0) }
        }
        return try await transaction { connection in
            let tasks = try await select(connection)
            guard !tasks.isEmpty else { return tasks }
            for task in tasks {
                try await connection.query("DELETE FROM tasks WHERE id = \(task.id)", logger: logger)
                try await recordRemoval(connection, taskID: task.id, fileName: nil, now: now)
            }
            let stored = tasks.reduce(FileTotals()) { $0 + $1.stored }
            try await addCounters(
                connection, [("pruned.files", Int64(stored.files)), ("pruned.bytes", stored.bytes), ("tasks.deleted", Int64(tasks.count))], now: now)
            return tasks
        }
    }

    public func deleteTask(id: String, now: Date) async throws -> DeletedTask? {
        try await transaction { connection in
            // Locked first: an operator's retry cannot make it unfinished between the look and the delete.
            let rows = try await connection.rows(
                "SELECT kind, finished_at FROM tasks WHERE id = \(id) AND status IN ('completed', 'failed', 'canceled') FOR UPDATE", logger: logger)
            guard let row = rows.first else { return nil }
            let totals = try await connection.rows(
                "SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0)::bigint AS bytes FROM artifacts WHERE task_id = \(id) AND pruned_at IS NULL",
                logger: logger)
            let finishedAt: Int64? = try row.value("finished_at")
            let task = DeletedTask(
                id: id, kind: try TaskKind.decode(try row.value("kind")), finishedAt: Date(millis: finishedAt ?? now.millis),
                stored: FileTotals(files: try totals[0].value("files"), bytes: try totals[0].value("bytes")))
            try await connection.query("DELETE FROM tasks WHERE id = \(id)", logger: logger)
            try await recordRemoval(connection, taskID: id, fileName: nil, now: now)
            try await addCounters(connection, [("pruned.files", Int64(task.stored.files)), ("pruned.bytes", task.stored.bytes), ("tasks.deleted", 1)], now: now)
            return task
        }
    }

    public func pendingFileRemovals(after id: Int64, limit: Int) async throws -> [FileRemoval] {
        try await rows(
            """
            SELECT r.id, r.task_id, r.file_name,
                EXISTS (SELECT 1 FROM artifacts a WHERE a.task_id = r.task_id AND a.file_name = r.file_name AND a.pruned_at IS NULL) AS restored
            FROM file_removals r WHERE r.id > \(id) ORDER BY r.id LIMIT \(max(1, limit))
            """
        ).map { row in
            FileRemoval(id: try row.value("id"), taskID: try row.value("task_id"), fileName: try row.value("file_name"), restored: try row.value("restored"))
        }
    }

    /// A session advisory lock held on one pooled connection while `body` runs on others: an
    /// instance that dies releases it with its connection.
    public func exclusiveRetention<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result? {
        try await withConnection { [logger] connection -> Result? in
            let lock: PostgresQuery = "hashtext('mediajobs.retention.' || current_schema())"
            let held = try await connection.rows("SELECT pg_try_advisory_lock(\(unescaped: lock.sql)) AS held", logger: logger)
                .first?.value("held", as: Bool.self) ?? false
            guard held else { return nil }
            do {
                let result = try await body()
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(unescaped: lock.sql))", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(unescaped: lock.sql))", logger: logger)
                throw error
            }
        }
    }

    public func completeFileRemovals(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await run("DELETE FROM file_removals WHERE id = ANY(\(ids))")
    }

    // MARK: SQL pieces

    /// A task whose files retention may remove: terminal, and no webhook still waiting to tell about it.
    static let prunableTask = """
        t.status IN ('completed', 'failed', 'canceled') \
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.task_id = t.id AND d.status = 'pending')
        """

    /// Limits a query over `tasks t` to `scope`: its kind, and not the tasks it deletes.
    static func restrict(to scope: PruneScope, conditions: inout [String], statement: inout PostgresStatementBuilder) {
        if let kind = scope.kind {
            conditions.append("t.kind = \(statement.bind(kind.rawValue))")
        }
        if let horizon = scope.deleteTasksFinishedBefore {
            conditions.append("NOT (t.finished_at IS NOT NULL AND t.finished_at < \(statement.bind(horizon.millis)) AND \(prunableTask))")
        }
    }

    /// Records that a file (or, with no `fileName`, a task's folder) must leave the disk once this transaction commits.
    func recordRemoval(_ connection: PostgresConnection, taskID: String, fileName: String?, now: Date) async throws {
        try await connection.query("INSERT INTO file_removals (task_id, file_name, created_at) VALUES (\(taskID), \(fileName), \(now.millis))", logger: logger)
    }

    /// Adds to the lifetime retention counters and stamps the time of the last prune.
    func addCounters(_ connection: PostgresConnection, _ deltas: [(String, Int64)], now: Date) async throws {
        for (name, delta) in deltas where delta != 0 {
            try await connection.query(
                """
                INSERT INTO operator_counters (name, value) VALUES (\(name), \(delta))
                ON CONFLICT (name) DO UPDATE SET value = operator_counters.value + excluded.value
                """, logger: logger)
        }
        try await connection.query(
            "INSERT INTO operator_counters (name, value) VALUES ('pruned.last_at', \(now.millis)) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            logger: logger)
    }
}
