import Foundation
import GRDB

extension SQLiteTaskStore: OperatorStore {
    public func stats(now: Date) async throws -> OperatorStats {
        try await writer.read { db in
            var stats = OperatorStats(generatedAt: now)
            for row in try Row.fetchAll(db, sql: "SELECT kind, status, COUNT(*) AS n FROM tasks GROUP BY kind, status") {
                // Values this build does not know (a newer version's) are left out rather than failing the report.
                guard let kind = TaskKind(rawValue: row["kind"]), let status = TaskStatus(rawValue: row["status"]) else { continue }
                stats.tasks[kind, default: [:]][status] = row["n"]
            }
            stats.inFlight = TaskStatus.active.reduce(0) { $0 + stats.taskCount(status: $1) }
            stats.oldestQueuedAt = try Int64.fetchOne(db, sql: "SELECT MIN(created_at) FROM tasks WHERE status = 'queued'").map(Date.init(millis:))
            let files = try Row.fetchAll(
                db,
                sql: """
                    SELECT t.kind, a.pruned_at IS NOT NULL AS pruned, COUNT(*) AS files, COALESCE(SUM(a.bytes), 0) AS bytes
                    FROM artifacts a JOIN tasks t ON t.id = a.task_id
                    GROUP BY t.kind, pruned
                    """)
            for row in files {
                guard let kind = TaskKind(rawValue: row["kind"]) else { continue }
                let totals = FileTotals(files: row["files"], bytes: row["bytes"])
                if row["pruned"] as Bool {
                    stats.expired[kind] = totals
                } else {
                    stats.storage[kind] = totals
                }
            }
            let counters = Dictionary(
                try Row.fetchAll(db, sql: "SELECT name, value FROM operator_counters").map { ($0["name"] as String, $0["value"] as Int64) },
                uniquingKeysWith: { first, _ in first })
            stats.prunedTotals = PrunedTotals(
                files: counters["pruned.files"] ?? 0, bytes: counters["pruned.bytes"] ?? 0, tasksDeleted: counters["tasks.deleted"] ?? 0,
                lastPrunedAt: counters["pruned.last_at"].map(Date.init(millis:)))
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status") {
                stats.webhooks[row["status"]] = row["n"]
            }
            return stats
        }
    }

    public func retry(taskID: String, now: Date) async throws -> MediaTask {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id = ?", arguments: [taskID]) else {
                throw TaskStoreError.notFound(taskID)
            }
            let current = try MediaTask(row: row)
            guard current.status.canBeRetried else { throw TaskStoreError.conflict(id: taskID, status: current.status) }
            let budget = current.deadlineAt.millis - current.createdAt.millis
            let artifacts = try Row.fetchAll(db, sql: "SELECT file_name FROM artifacts WHERE task_id = ?", arguments: [taskID])
            for artifact in artifacts {
                try Self.recordRemoval(db, taskID: taskID, fileName: artifact["file_name"], now: now)
            }
            try db.execute(sql: "DELETE FROM artifacts WHERE task_id = ?", arguments: [taskID])
            guard
                let updated = try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE tasks SET status = 'queued', attempts = 0, poll_count = 0, progress = 0, fail_reason = NULL,
                            finished_at = NULL, upstream_id = NULL, upstream_outputs = '[]', next_attempt_at = ?, deadline_at = ?,
                            lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                        WHERE id = ? AND status = 'failed' RETURNING \(MediaTask.columns)
                        """,
                    arguments: [now.millis, now.millis + max(0, budget), now.millis, taskID])
            else {
                throw TaskStoreError.conflict(id: taskID, status: current.status)
            }
            return try MediaTask(row: updated)
        }
    }
}
