import Foundation
import PostgresNIO

extension PostgresStore: OperatorStore {
    public func stats(now: Date) async throws -> OperatorStats {
        var stats = OperatorStats(generatedAt: now)
        for row in try await rows("SELECT kind, status, COUNT(*) AS n FROM tasks GROUP BY kind, status") {
            // Values this build does not know (a newer version's) are left out rather than failing the report.
            guard let kind = TaskKind(rawValue: try row.value("kind")), let status = TaskStatus(rawValue: try row.value("status")) else { continue }
            stats.tasks[kind, default: [:]][status] = try row.value("n", as: Int.self)
        }
        stats.inFlight = TaskStatus.active.reduce(0) { $0 + stats.taskCount(status: $1) }
        stats.oldestQueuedAt = try await scalar("SELECT MIN(created_at) FROM tasks WHERE status = 'queued'", as: Int64?.self)?.map(Date.init(millis:))
        let files = try await rows(
            """
            SELECT t.kind, a.pruned_at IS NOT NULL AS pruned, COUNT(*) AS files, COALESCE(SUM(a.bytes), 0)::bigint AS bytes
            FROM artifacts a JOIN tasks t ON t.id = a.task_id
            GROUP BY t.kind, pruned
            """)
        for row in files {
            guard let kind = TaskKind(rawValue: try row.value("kind")) else { continue }
            let totals = FileTotals(files: try row.value("files"), bytes: try row.value("bytes"))
            if try row.value("pruned", as: Bool.self) {
                stats.expired[kind] = totals
            } else {
                stats.storage[kind] = totals
            }
        }
        var counters: [String: Int64] = [:]
        for row in try await rows("SELECT name, value FROM operator_counters") {
            counters[try row.value("name")] = try row.value("value", as: Int64.self)
        }
        stats.prunedTotals = PrunedTotals(
            files: counters["pruned.files"] ?? 0, bytes: counters["pruned.bytes"] ?? 0, tasksDeleted: counters["tasks.deleted"] ?? 0,
            lastPrunedAt: counters["pruned.last_at"].map(Date.init(millis:)))
        for row in try await rows("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status") {
            let status: String = try row.value("status")
            stats.webhooks[status] = try row.value("n", as: Int.self)
        }
        return stats
    }

    public func retry(taskID: String, now: Date) async throws -> MediaTask {
        let retried = try await transaction { connection in
            guard let row = try await connection.rows("SELECT * FROM tasks WHERE id = \(taskID) FOR UPDATE", logger: logger).first else {
                throw TaskStoreError.notFound(taskID)
            }
            let current = try MediaTask(postgresRow: row)
            guard current.status.canBeRetried else { throw TaskStoreError.conflict(id: taskID, status: current.status) }
            let budget = current.deadlineAt.millis - current.createdAt.millis
            for artifact in try await connection.rows("SELECT file_name FROM artifacts WHERE task_id = \(taskID)", logger: logger) {
                try await recordRemoval(connection, taskID: taskID, fileName: try artifact.value("file_name"), now: now)
            }
            try await connection.query("DELETE FROM artifacts WHERE task_id = \(taskID)", logger: logger)
            guard
                let updated = try await connection.rows(
                    """
                    UPDATE tasks SET status = 'queued', attempts = 0, poll_count = 0, progress = 0, fail_reason = NULL,
                        finished_at = NULL, upstream_id = NULL, upstream_outputs = '[]', next_attempt_at = \(now.millis),
                        deadline_at = \(now.millis + max(0, budget)), lease_owner = NULL, lease_expires_at = NULL, updated_at = \(now.millis)
                    WHERE id = \(taskID) AND status = 'failed' RETURNING *
                    """, logger: logger
                ).first
            else {
                throw TaskStoreError.conflict(id: taskID, status: current.status)
            }
            return try MediaTask(postgresRow: updated)
        }
        notifier.wake(.tasks)
        return retried
    }
}
