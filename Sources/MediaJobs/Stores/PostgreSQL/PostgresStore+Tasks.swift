import Foundation
import PostgresNIO

extension PostgresStore: TaskStore {
    /// The statuses whose tasks may still be claimed, renewed or counted as in flight.
    static let unfinished = "('queued', 'processing', 'downloading')"

    // MARK: Reads

    public func task(id: String) async throws -> MediaTask? {
        try await rows("SELECT * FROM tasks WHERE id = \(id)").first.map(MediaTask.init(postgresRow:))
    }

    /// One round trip: the task joined with its artifacts, one row per artifact (or one row without).
    public func taskWithArtifacts(id: String) async throws -> (MediaTask, [TaskArtifact])? {
        guard let (row, artifacts) = try await joinedRows(PostgresPreparedStatements.TaskWithArtifacts(id: id)) else { return nil }
        return (try MediaTask(postgresRow: row), artifacts)
    }

    public func statusWithArtifacts(id: String) async throws -> (TaskStatusRecord, [TaskArtifact])? {
        guard let (row, artifacts) = try await joinedRows(PostgresPreparedStatements.StatusWithArtifacts(id: id)) else { return nil }
        return (try TaskStatusRecord(postgresRow: row), artifacts)
    }

    /// The task's row and its artifacts from a statement joining them (artifact columns prefixed
    /// `a_`, one row per artifact or one row without); nil when the task does not exist.
    private func joinedRows(_ statement: some TaskByID) async throws -> (PostgresRandomAccessRow, [TaskArtifact])? {
        let found = try await withConnection { [logger] connection in
            try await connection.execute(statement, logger: logger).reduce(into: []) { $0.append($1) }
        }
        guard let first = found.first else { return nil }
        let artifacts = try found.filter { try $0.value("a_task_id", as: String?.self) != nil }.map { try TaskArtifact(postgresRow: $0, prefix: "a_") }
        return (first, artifacts)
    }

    public func tasks(ids: [String]) async throws -> [MediaTask] {
        guard !ids.isEmpty else { return [] }
        let found = try await rows("SELECT * FROM tasks WHERE id = ANY(\(ids))").map(MediaTask.init(postgresRow:))
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    public func list(_ query: TaskQuery) async throws -> TaskPage {
        var statement = PostgresStatementBuilder()
        var conditions: [String] = []
        if let kind = query.kind { conditions.append("kind = \(statement.bind(kind.rawValue))") }
        if let status = query.status { conditions.append("status = \(statement.bind(status.rawValue))") }
        if let owner = query.owner { conditions.append("owner = \(statement.bind(owner))") }
        if let after = query.after {
            conditions.append("(created_at, id) \(query.orderSQL.after) (SELECT created_at, id FROM tasks WHERE id = \(statement.bind(after)))")
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, query.limit)
        let sql = "SELECT * FROM tasks \(whereClause) ORDER BY \(query.orderSQL.orderBy) LIMIT \(statement.bind(limit + 1))"
        let found = try await rows(statement.query(sql)).map(MediaTask.init(postgresRow:))
        return TaskPage(tasks: Array(found.prefix(limit)), hasMore: found.count > limit)
    }

    public func artifacts(forTasks taskIDs: [String]) async throws -> [String: [TaskArtifact]] {
        guard !taskIDs.isEmpty else { return [:] }
        let found = try await rows(
            "SELECT \(unescaped: TaskArtifact.postgresColumns) FROM artifacts WHERE task_id = ANY(\(taskIDs)) ORDER BY task_id, idx"
        ).map(TaskArtifact.init(postgresRow:))
        return Dictionary(grouping: found, by: \.taskID)
    }

    public func artifact(taskID: String, fileName: String) async throws -> (artifact: TaskArtifact, owner: String?)? {
        let found = try await rows(
            """
            SELECT a.*, t.owner AS task_owner FROM artifacts a JOIN tasks t ON t.id = a.task_id
            WHERE a.task_id = \(taskID) AND a.file_name = \(fileName)
            """
        ).first
        guard let found else { return nil }
        return (try TaskArtifact(postgresRow: found), try found.value("task_owner", as: String?.self))
    }

    public func nextDue(_ status: TaskStatus) async throws -> Date? {
        try await scalar(
            "SELECT MIN(next_attempt_at) FROM tasks WHERE status = \(status.rawValue) AND lease_owner IS NULL", as: Int64?.self
        )?.map(Date.init(millis:))
    }

    public func ping() async throws {
        _ = try await scalar("SELECT 1", as: Int32.self)
    }

    // MARK: Writes

    public func insert(_ task: MediaTask) async throws {
        do {
            try await runPrepared(PostgresPreparedStatements.InsertTask(task))
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw TaskStoreError.duplicateID(task.id)
        }
        notifier.wake(.tasks)
    }

    public func accept(_ task: MediaTask, idempotency: IdempotencyClaim?, maxActivePerOwner: Int?, now: Date) async throws -> AcceptOutcome {
        // A plain submit joins the next group insert (one statement and commit for all that arrive
        // meanwhile); a key or an in-flight cap needs the checks of a transaction. Other
        // instances hear of the task once it is committed.
        if idempotency == nil && (maxActivePerOwner == nil || task.owner == nil) {
            try await inserts.insert(PostgresPreparedStatements.InsertTask(task))
            notifier.wake(.tasks)
            return .created(task)
        }
        let statement = try task.postgresInsert()
        let outcome = try await transaction { connection -> AcceptOutcome in
            // Advisory transaction locks make the key check and the in-flight count atomic across
            // connections and instances; always the key's before the owner's, so none wait in a cycle.
            if let claim = idempotency {
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended('mediajobs.key.' || \(claim.owner) || '.' || \(claim.key), 0))", logger: logger)
                try await connection.query(
                    "DELETE FROM idempotency_keys WHERE created_at < \(now.adding(.zero - claim.lifetime).millis)", logger: logger)
                if let row = try await connection.rows(
                    "SELECT fingerprint, task_id FROM idempotency_keys WHERE owner = \(claim.owner) AND key = \(claim.key)", logger: logger
                ).first {
                    guard try row.value("fingerprint", as: String.self) == claim.fingerprint else {
                        throw TaskStoreError.idempotencyKeyReused(key: claim.key)
                    }
                    let taskID: String = try row.value("task_id")
                    if let existing = try await connection.rows("SELECT * FROM tasks WHERE id = \(taskID)", logger: logger).first {
                        return .replayed(try MediaTask(postgresRow: existing))
                    }
                    // The task was deleted by retention: the key is free again.
                    try await connection.query("DELETE FROM idempotency_keys WHERE owner = \(claim.owner) AND key = \(claim.key)", logger: logger)
                }
            }
            if let limit = maxActivePerOwner, let owner = task.owner {
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('mediajobs.owner.' || \(owner), 0))", logger: logger)
                let active = try await connection.rows(
                    "SELECT COUNT(*) AS n FROM tasks WHERE owner = \(owner) AND status IN \(unescaped: Self.unfinished)", logger: logger
                ).first?.value("n", as: Int.self) ?? 0
                guard active < limit else { throw TaskStoreError.tooManyActiveTasks(limit: limit) }
            }
            _ = try await connection.execute(statement, logger: logger)
            if let claim = idempotency {
                try await connection.query(
                    """
                    INSERT INTO idempotency_keys (owner, key, fingerprint, task_id, created_at)
                    VALUES (\(claim.owner), \(claim.key), \(claim.fingerprint), \(task.id), \(now.millis))
                    """, logger: logger)
            }
            return .created(task)
        }
        if case .created = outcome { notifier.wake(.tasks) }
        return outcome
    }

    public func claim(_ status: TaskStatus, owner: String, lease: Duration, limit: Int, now: Date) async throws -> [MediaTask] {
        guard limit > 0 else { return [] }
        // One statement; the CTE bounds the rows to `limit` (an UPDATE … WHERE id IN (subquery)
        // may be planned to update more), and SKIP LOCKED lets concurrent claimers pass each other.
        // Leases are measured on the database's clock; `now` only says what is due.
        let claimed = try await rows(
            """
            WITH candidates AS (
                SELECT id FROM tasks
                WHERE status = \(status.rawValue) AND status IN \(unescaped: Self.unfinished) AND next_attempt_at <= \(now.millis)
                    AND (lease_expires_at IS NULL OR lease_expires_at <= \(unescaped: Self.databaseNow))
                ORDER BY next_attempt_at LIMIT \(unescaped: String(TaskStatus.claimCandidates))),
            c AS (
                SELECT id FROM tasks
                WHERE id IN (SELECT id FROM candidates) AND status = \(status.rawValue)
                    AND (lease_expires_at IS NULL OR lease_expires_at <= \(unescaped: Self.databaseNow))
                ORDER BY \(unescaped: status.claimOrderSQL(now: String(now.millis))) FOR UPDATE SKIP LOCKED LIMIT \(limit))
            UPDATE tasks t SET lease_owner = \(owner), lease_expires_at = \(unescaped: Self.databaseNow) + \(lease.millis),
                lease_epoch = t.lease_epoch + 1
            FROM c WHERE t.id = c.id RETURNING t.*
            """
        ).map(MediaTask.init(postgresRow:))
        return claimed.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    @discardableResult
    public func advance(taskID: String, from status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws -> MediaTask {
        let target = change.path.last ?? status
        if !change.path.isEmpty, !status.canFollow(change.path) {
            throw TaskStoreError.invalidTransition(from: status, path: change.path)
        }
        let query = try Self.update(taskID: taskID, from: status, to: target, lease: lease, change: change, now: now, returning: "*")
        let (updated, wroteEvent) = try await transaction { connection -> (MediaTask?, Bool) in
            guard let row = try await connection.rows(query, logger: logger).first else { return (nil, false) }
            let updated = try MediaTask(postgresRow: row)
            return (updated, updated.status.isTerminal ? try await recordTerminalEvent(of: updated, now: now, connection) : false)
        }
        guard let updated else { throw TaskStoreError.leaseLost(taskID) }
        if wroteEvent {
            outbox.wake()
            notifier.wake(.webhooks)
        }
        return updated
    }

    /// One statement, no transaction around it, nothing read back.
    public func reschedule(taskID: String, in status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws {
        precondition(change.path.isEmpty, "reschedule keeps the status")
        let query = try Self.update(taskID: taskID, from: status, to: status, lease: lease, change: change, now: now, returning: "1")
        let changed = try await withConnection { [logger] connection in try await connection.execute(query, logger: logger) }
        guard changed == 1 else { throw TaskStoreError.leaseLost(taskID) }
    }

    /// The compare-and-set `UPDATE` of a step's result: `change` applied to the task held under
    /// `lease` in `status`, which moves to `target` and is released.
    private static func update(
        taskID: String, from status: TaskStatus, to target: TaskStatus, lease: Lease, change: TaskChange, now: Date, returning: String
    ) throws -> PostgresQuery {
        var statement = PostgresStatementBuilder()
        var assignments = [
            "status = \(statement.bind(target.rawValue))", "lease_owner = NULL", "lease_expires_at = NULL", "updated_at = \(statement.bind(now.millis))",
        ]
        if let upstreamID = change.upstreamID { assignments.append("upstream_id = \(statement.bind(upstreamID))") }
        if let outputs = change.upstreamOutputs { assignments.append("upstream_outputs = \(statement.bind(try JSONCoding.string(outputs)))") }
        if target == .completed {
            assignments.append("progress = 100")
        } else if let progress = change.progress {
            assignments.append("progress = \(statement.bind(progress))")
        }
        if let failReason = change.failReason { assignments.append("fail_reason = \(statement.bind(failReason))") }
        if let next = change.nextAttemptAt { assignments.append("next_attempt_at = \(statement.bind(next.millis))") }
        if let attempts = change.attempts { assignments.append("attempts = \(statement.bind(attempts))") }
        if let pollCount = change.pollCount { assignments.append("poll_count = \(statement.bind(pollCount))") }
        if let acceptedAt = change.upstreamAcceptedAt { assignments.append("upstream_accepted_at = \(statement.bind(acceptedAt.millis))") }
        if let priority = change.pollPriority { assignments.append("poll_priority = \(statement.bind(priority))") }
        if target.isTerminal { assignments.append("finished_at = \(statement.bind(now.millis))") }
        let sql = """
            UPDATE tasks SET \(assignments.joined(separator: ", "))
            WHERE id = \(statement.bind(taskID)) AND status = \(statement.bind(status.rawValue)) AND lease_owner = \(statement.bind(lease.owner))
                AND lease_epoch = \(statement.bind(lease.epoch))
            RETURNING \(returning)
            """
        return statement.query(sql)
    }

    public func renewLease(taskID: String, lease: Lease, for duration: Duration, now: Date) async throws -> Bool {
        try await withConnection { connection in
            try await connection.execute(
                """
                UPDATE tasks SET lease_expires_at = \(unescaped: Self.databaseNow) + \(duration.millis)
                WHERE id = \(taskID) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch)
                    AND status IN \(unescaped: Self.unfinished) RETURNING 1
                """, logger: logger) == 1
        }
    }

    public func releaseLease(taskID: String, lease: Lease) async throws -> Bool {
        try await withConnection { connection in
            try await connection.execute(
                "UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE id = \(taskID) AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch) RETURNING 1",
                logger: logger) == 1
        }
    }

    public func saveArtifact(_ artifact: TaskArtifact, lease: Lease) async throws {
        try await transaction { connection in
            // FOR SHARE holds the task in `downloading` under this lease until the row is written.
            let held = try await connection.rows(
                "SELECT 1 FROM tasks WHERE id = \(artifact.taskID) AND status = 'downloading' AND lease_owner = \(lease.owner) AND lease_epoch = \(lease.epoch) FOR SHARE",
                logger: logger)
            guard !held.isEmpty else { throw TaskStoreError.leaseLost(artifact.taskID) }
            // Replaces an earlier row of the same index (or, like SQLite's INSERT OR REPLACE, of the same file name).
            try await connection.query(
                "DELETE FROM artifacts WHERE task_id = \(artifact.taskID) AND (idx = \(artifact.index) OR file_name = \(artifact.fileName))",
                logger: logger)
            try await connection.query(
                """
                INSERT INTO artifacts (\(unescaped: TaskArtifact.postgresColumns))
                VALUES (\(artifact.taskID), \(artifact.index), \(artifact.fileName), \(artifact.contentType), \(artifact.bytes), \(artifact.sha256),
                    \(artifact.sourceURL), \(artifact.title), \(artifact.duration), \(artifact.style), \(artifact.imageURL),
                    \(artifact.createdAt.millis), \(artifact.prunedAt?.millis))
                """, logger: logger)
        }
    }

    public func cancel(taskID: String, now: Date) async throws -> MediaTask {
        let (canceled, wroteEvent) = try await transaction { connection -> (MediaTask, Bool) in
            if let row = try await connection.rows(
                """
                UPDATE tasks SET status = 'canceled', finished_at = \(now.millis), updated_at = \(now.millis), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(taskID) AND status IN ('queued', 'processing') RETURNING *
                """, logger: logger
            ).first {
                let canceled = try MediaTask(postgresRow: row)
                return (canceled, try await recordTerminalEvent(of: canceled, now: now, connection))
            }
            guard let current = try await connection.rows("SELECT status FROM tasks WHERE id = \(taskID)", logger: logger).first else {
                throw TaskStoreError.notFound(taskID)
            }
            throw TaskStoreError.conflict(id: taskID, status: try TaskStatus.decode(try current.value("status")))
        }
        if wroteEvent {
            outbox.wake()
            notifier.wake(.webhooks)
        }
        return canceled
    }
}
