import Foundation
import GRDB

extension SQLiteTaskStore: RetentionStore {
    /// One node holds the data directory alone: nobody else can be running retention.
    public func exclusiveRetention<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result? {
        try await body()
    }

    public func storedBytes(_ scope: PruneScope) async throws -> Int64 {
        var conditions = ["a.pruned_at IS NULL"]
        var arguments = StatementArguments()
        Self.restrict(to: scope, conditions: &conditions, arguments: &arguments)
        let sql = "SELECT COALESCE(SUM(a.bytes), 0) FROM artifacts a JOIN tasks t ON t.id = a.task_id WHERE \(conditions.joined(separator: " AND "))"
        let finalArguments = arguments
        return try await writer.read { db in try Int64.fetchOne(db, sql: sql, arguments: finalArguments) ?? 0 }
    }

    public func pruneArtifacts(
        _ scope: PruneScope, after cursor: PruneCursor?, limit: Int, rule: PruneRule, now: Date, dryRun: Bool
    ) async throws -> PruneBatch {
        var conditions = ["a.pruned_at IS NULL", Self.prunableTask]
        var arguments = StatementArguments()
        if let cursor {
            conditions.append("(a.created_at, a.task_id, a.idx) > (?, ?, ?)")
            arguments += [cursor.createdAt.millis, cursor.taskID, cursor.index]
        }
        Self.restrict(to: scope, conditions: &conditions, arguments: &arguments)
        arguments += [max(1, limit)]
        let sql = """
            SELECT a.task_id, a.idx, a.file_name, a.bytes, a.created_at, t.kind
            FROM artifacts a CROSS JOIN tasks t ON t.id = a.task_id
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY a.created_at, a.task_id, a.idx
            LIMIT ?
            """
        let finalArguments = arguments
        let select = { @Sendable (db: Database) throws -> PruneBatch in
            let candidates = try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { row in
                PruneCandidate(
                    taskID: row["task_id"], index: row["idx"], fileName: row["file_name"], kind: try TaskKind.decode(row["kind"]),
                    bytes: row["bytes"], createdAt: Date(millis: row["created_at"]))
            }
            return PruneBatch(scanned: candidates.count, pruned: Array(candidates.prefix(rule.accepted(candidates))))
        }
        if dryRun {
            return try await writer.read(select)
        }
        return try await writer.write { db in
            let batch = try select(db)
            guard !batch.pruned.isEmpty else { return batch }
            let mark = try db.cachedStatement(sql: "UPDATE artifacts SET pruned_at = ? WHERE task_id = ? AND idx = ? AND pruned_at IS NULL")
            for candidate in batch.pruned {
                try mark.execute(arguments: [now.millis, candidate.taskID, candidate.index])
                try Self.recordRemoval(db, taskID: candidate.taskID, fileName: candidate.fileName, now: now)
            }
            try Self.addCounters(
                db, [("pruned.files", Int64(batch.pruned.count)), ("pruned.bytes", batch.pruned.reduce(0) { $0 + $1.bytes })], now: now)
            return batch
        }
    }

    public func deleteTasks(_ scope: PruneScope, after cursor: TaskDeletionCursor?, limit: Int, now: Date, dryRun: Bool) async throws -> [DeletedTask] {
        guard let horizon = scope.deleteTasksFinishedBefore else { return [] }
        var conditions = [Self.prunableTask, "t.finished_at IS NOT NULL", "t.finished_at < ?"]
        var arguments: StatementArguments = [horizon.millis]
        if let kind = scope.kind {
            conditions.append("t.kind = ?")
            arguments += [kind.rawValue]
        }
        if let cursor {
            conditions.append("(t.finished_at, t.id) > (?, ?)")
            arguments += [cursor.finishedAt.millis, cursor.taskID]
        }
        arguments += [max(1, limit)]
        let sql = """
            SELECT t.id, t.kind, t.finished_at,
                (SELECT COUNT(*) FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS files,
                (SELECT COALESCE(SUM(a.bytes), 0) FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS bytes
            FROM tasks t
            WHERE \(conditions.joined(separator: " AND "))
            ORDER BY t.finished_at, t.id
            LIMIT ?
            """
        let finalArguments = arguments
        let select = { @Sendable (db: Database) throws -> [DeletedTask] in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { row in
                DeletedTask(
                    id: row["id"], kind: try TaskKind.decode(row["kind"]), finishedAt: Date(millis: row["finished_at"]),
                    stored: FileTotals(files: row["files"], bytes: row["bytes"]))
            }
        }
        if dryRun {
            return try await writer.read(select)
        }
        return try await writer.write { db in
            let tasks = try select(db)
            guard !tasks.isEmpty else { return tasks }
            for task in tasks {
                try db.execute(sql: "DELETE FROM tasks WHERE id = ?", arguments: [task.id])
                try Self.recordRemoval(db, taskID: task.id, fileName: nil, now: now)
            }
            let stored = tasks.reduce(FileTotals()) { $0 + $1.stored }
            try Self.addCounters(
                db, [("pruned.files", Int64(stored.files)), ("pruned.bytes", stored.bytes), ("tasks.deleted", Int64(tasks.count))], now: now)
            return tasks
        }
    }

    public func pendingFileRemovals(after id: Int64, limit: Int) async throws -> [FileRemoval] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.task_id, r.file_name,
                        EXISTS (SELECT 1 FROM artifacts a WHERE a.task_id = r.task_id AND a.file_name = r.file_name AND a.pruned_at IS NULL) AS restored
                    FROM file_removals r WHERE r.id > ? ORDER BY r.id LIMIT ?
                    """,
                arguments: [id, max(1, limit)]
            ).map { row in
                FileRemoval(id: row["id"], taskID: row["task_id"], fileName: row["file_name"], restored: row["restored"])
            }
        }
    }

    public func completeFileRemovals(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM file_removals WHERE id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))",
                arguments: StatementArguments(ids))
        }
    }

    // MARK: SQL pieces

    /// A task whose files retention may remove: terminal, and no webhook still waiting to tell about it.
    ///
    /// Query plans: walks must follow their own indexes (`artifacts_prunable`, `tasks_finished`) to read in
    /// order and stop early, so the artifact walk is a `CROSS JOIN` (SQLite keeps that join order) and
    /// `+t.status` keeps the planner from scanning all terminal tasks through `tasks_due` and sorting them.
    static let prunableTask = """
        +t.status IN ('completed', 'failed', 'canceled') \
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.task_id = t.id AND d.status = 'pending')
        """

    /// Limits a query over `tasks t` to `scope`: its kind, and not the tasks it deletes.
    static func restrict(to scope: PruneScope, conditions: inout [String], arguments: inout StatementArguments) {
        if let kind = scope.kind {
            conditions.append("t.kind = ?")
            arguments += [kind.rawValue]
        }
        if let horizon = scope.deleteTasksFinishedBefore {
            conditions.append("NOT (t.finished_at IS NOT NULL AND t.finished_at < ? AND \(prunableTask))")
            arguments += [horizon.millis]
        }
    }

    public func deleteTask(id: String, now: Date) async throws -> DeletedTask? {
        try await writer.write { db in
            let sql = """
                SELECT t.id, t.kind, t.finished_at,
                    (SELECT COUNT(*) FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS files,
                    (SELECT COALESCE(SUM(a.bytes), 0) FROM artifacts a WHERE a.task_id = t.id AND a.pruned_at IS NULL) AS bytes
                FROM tasks t
                WHERE t.id = ? AND t.status IN ('completed', 'failed', 'canceled')
                """
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [id]) else { return nil }
            let task = DeletedTask(
                id: row["id"], kind: try TaskKind.decode(row["kind"]), finishedAt: Date(millis: (row["finished_at"] as Int64?) ?? now.millis),
                stored: FileTotals(files: row["files"], bytes: row["bytes"]))
            try db.execute(sql: "DELETE FROM tasks WHERE id = ?", arguments: [id])
            try Self.recordRemoval(db, taskID: id, fileName: nil, now: now)
            try Self.addCounters(db, [("pruned.files", Int64(task.stored.files)), ("pruned.bytes", task.stored.bytes), ("tasks.deleted", 1)], now: now)
            return task
        }
    }

    /// Records that a file (or, with no `fileName`, a task's folder) must leave the disk once this transaction commits.
    static func recordRemoval(_ db: Database, taskID: String, fileName: String?, now: Date) throws {
        try db.cachedStatement(sql: "INSERT INTO file_removals (task_id, file_name, created_at) VALUES (?, ?, ?)")
            .execute(arguments: [taskID, fileName, now.millis])
    }

    /// Adds to the lifetime retention counters and stamps the time of the last prune.
    static func addCounters(_ db: Database, _ deltas: [(String, Int64)], now: Date) throws {
        for (name, delta) in deltas where delta != 0 {
            try db.execute(
                sql: "INSERT INTO operator_counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                arguments: [name, delta])
        }
        try db.execute(
            sql: "INSERT INTO operator_counters (name, value) VALUES ('pruned.last_at', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            arguments: [now.millis])
    }
}
