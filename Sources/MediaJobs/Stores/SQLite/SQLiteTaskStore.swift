import Foundation
import GRDB

/// The tasks of a ``SQLiteStore``: the single-node ``TaskStore``, and the synchronous reads and
/// completion-handler submits of ``EventLoopStoreAccess``.
public struct SQLiteTaskStore: TaskStore, EventLoopStoreAccess {
    /// The open database, with its outbox, group commit and direct reader.
    let database: SQLiteStore

    var writer: any DatabaseWriter { database.writer }

    // MARK: Reads

    public func taskWithArtifacts(id: String) async throws -> (MediaTask, [TaskArtifact])? {
        try await writer.read { db in
            // Cached statements: compiling the `SELECT` again runs GRDB's authorizer once per column,
            // which cost a fifth of a status read's CPU (BENCHMARKS.md, figure 2).
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id = ?"), arguments: [id]) else { return nil }
            return (try MediaTask(row: row), try Self.artifacts(of: id, db))
        }
    }

    public func statusWithArtifacts(id: String) async throws -> (TaskStatusRecord, [TaskArtifact])? {
        // Synchronous on the calling thread: a point read by primary key takes microseconds, less
        // than a hop to another thread and back. At most one read per thread blocks at a time.
        try readStatus(id: id)
    }

    /// ``statusWithArtifacts(id:)`` without `async`, for the status reads answered on the event
    /// loop (``StatusFastPath``): SQLite's C API on a read-only connection for a file database,
    /// GRDB for an in-memory one.
    public func readStatus(id: String) throws -> (TaskStatusRecord, [TaskArtifact])? {
        if let directReader = database.directReader { return try directReader.status(id: id) }
        return try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(TaskStatusRecord.columns) FROM tasks WHERE id = ?"), arguments: [id])
            else { return nil }
            return (try TaskStatusRecord(row: row), try Self.artifacts(of: id, db))
        }
    }

    /// The artifacts of task `id`, by index.
    static func artifacts(of id: String, _ db: Database) throws -> [TaskArtifact] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT \(TaskArtifact.columns) FROM artifacts WHERE task_id = ? ORDER BY idx"), arguments: [id])
            .map(TaskArtifact.init(row:))
    }

    public func task(id: String) async throws -> MediaTask? {
        try await writer.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id = ?"), arguments: [id]).map(MediaTask.init(row:))
        }
    }

    public func tasks(ids: [String]) async throws -> [MediaTask] {
        guard !ids.isEmpty else { return [] }
        let found = try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id IN (\(Self.placeholders(ids.count)))", arguments: StatementArguments(ids))
                .map(MediaTask.init(row:))
        }
        let byID = Dictionary(found.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byID[$0] }
    }

    public func list(_ query: TaskQuery) async throws -> TaskPage {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let kind = query.kind {
            conditions.append("kind = ?")
            arguments += [kind.rawValue]
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        if let owner = query.owner {
            conditions.append("owner = ?")
            arguments += [owner]
        }
        if let after = query.after {
            conditions.append("(created_at, id) \(query.orderSQL.after) (SELECT created_at, id FROM tasks WHERE id = ?)")
            arguments += [after]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(1, query.limit)
        arguments += [limit + 1]
        let finalArguments = arguments
        let rows = try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(MediaTask.columns) FROM tasks \(whereClause) ORDER BY \(query.orderSQL.orderBy) LIMIT ?", arguments: finalArguments)
                .map(MediaTask.init(row:))
        }
        return TaskPage(tasks: Array(rows.prefix(limit)), hasMore: rows.count > limit)
    }

    public func artifacts(forTasks taskIDs: [String]) async throws -> [String: [TaskArtifact]] {
        guard !taskIDs.isEmpty else { return [:] }
        let rows = try await writer.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(TaskArtifact.columns) FROM artifacts WHERE task_id IN (\(Self.placeholders(taskIDs.count))) ORDER BY task_id, idx"),
                arguments: StatementArguments(taskIDs)
            ).map(TaskArtifact.init(row:))
        }
        return Dictionary(grouping: rows, by: \.taskID)
    }

    public func artifact(taskID: String, fileName: String) async throws -> (artifact: TaskArtifact, owner: String?)? {
        // Synchronous on the calling thread: a point read by unique index takes microseconds, less
        // than a hop to another thread and back. At most one read per thread blocks at a time.
        try readArtifact(taskID: taskID, fileName: fileName)
    }

    /// ``artifact(taskID:fileName:)`` without `async`, for the `/files` answers written on the event
    /// loop (``FilesFastPath``): SQLite's C API on a read-only connection for a file database,
    /// GRDB for an in-memory one.
    public func readArtifact(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)? {
        if let directReader = database.directReader { return try directReader.artifact(taskID: taskID, fileName: fileName) }
        return try writer.read { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: SQLiteDirectReader.artifactQuery), arguments: [taskID, fileName]) else { return nil }
            return (TaskArtifact(row: row), row[13])
        }
    }

    public func nextDue(_ status: TaskStatus) async throws -> Date? {
        try await writer.read { db in
            try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MIN(next_attempt_at) FROM tasks WHERE status = ? AND lease_owner IS NULL"),
                arguments: [status.rawValue]
            ).map(Date.init(millis:))
        }
    }

    public func ping() async throws {
        _ = try await writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: Writes

    public func insert(_ task: MediaTask) async throws {
        do {
            let arguments = try task.databaseArguments()
            try await writer.write { db in try Self.insertRow(arguments, db) }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            throw TaskStoreError.duplicateID(task.id)
        }
    }

    public func accept(_ task: MediaTask, idempotency: IdempotencyClaim?, maxActivePerOwner: Int?, now: Date) async throws -> AcceptOutcome {
        try await withCheckedThrowingContinuation { continuation in
            accept(task, idempotency: idempotency, maxActivePerOwner: maxActivePerOwner, now: now) { continuation.resume(with: $0) }
        }
    }

    /// ``accept(_:idempotency:maxActivePerOwner:now:)`` with a completion handler, called once the
    /// task is durable or refused, for the submits answered on NIO's event loop (``SubmitFastPath``).
    public func accept(
        _ task: MediaTask, idempotency: IdempotencyClaim?, maxActivePerOwner: Int?, now: Date,
        completion: @escaping @Sendable (Result<AcceptOutcome, any Error>) -> Void
    ) {
        let arguments: StatementArguments
        do {
            arguments = try task.databaseArguments()
        } catch {
            return completion(.failure(error))
        }
        database.acceptBatcher.submit({ db in
            if let claim = idempotency {
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [now.adding(.zero - claim.lifetime).millis])
                if let row = try Row.fetchOne(
                    db, sql: "SELECT fingerprint, task_id FROM idempotency_keys WHERE owner = ? AND key = ?", arguments: [claim.owner, claim.key])
                {
                    guard row["fingerprint"] as String == claim.fingerprint else { throw TaskStoreError.idempotencyKeyReused(key: claim.key) }
                    if let existing = try Row.fetchOne(db, sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id = ?", arguments: [row["task_id"] as String]) {
                        return .replayed(try MediaTask(row: existing))
                    }
                    // The task was deleted by retention: the key is free again.
                    try db.execute(sql: "DELETE FROM idempotency_keys WHERE owner = ? AND key = ?", arguments: [claim.owner, claim.key])
                }
            }
            if let limit = maxActivePerOwner, let owner = task.owner {
                let active = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM tasks WHERE owner = ? AND status IN ('queued', 'processing', 'downloading')", arguments: [owner]) ?? 0
                guard active < limit else { throw TaskStoreError.tooManyActiveTasks(limit: limit) }
            }
            try Self.insertRow(arguments, db)
            if let claim = idempotency {
                try db.execute(
                    sql: "INSERT INTO idempotency_keys (owner, key, fingerprint, task_id, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [claim.owner, claim.key, claim.fingerprint, task.id, now.millis])
            }
            return .created(task)
        }, completion: completion)
    }

    /// Inserts a task row from ``MediaTask/databaseArguments()``, which callers encode before the
    /// write: the JSON work then runs in parallel instead of on the single writer queue.
    static func insertRow(_ arguments: StatementArguments, _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO tasks (id, kind, status, request, metadata, callback_url, owner, upstream_id,
                    upstream_outputs, progress, fail_reason, attempts, poll_count, next_attempt_at, deadline_at,
                    lease_owner, lease_expires_at, created_at, updated_at, finished_at, duration_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        // Bound without GRDB's per-execution check of the values against the placeholders (and,
        // for this many, twenty nested temporary-binding closures): ~2 % of a submit's CPU. The
        // values come from `databaseArguments()`, written for this column list; debug builds
        // (the tests) still check the count.
        #if DEBUG
        try statement.validateArguments(arguments)
        #endif
        statement.setUncheckedArguments(arguments)
        try statement.execute()
    }

    public func claim(_ status: TaskStatus, owner: String, lease: Duration, limit: Int, now: Date) async throws -> [MediaTask] {
        guard limit > 0 else { return [] }
        // A lease needs no fsync: start-up releases every lease anyway (``SQLiteDurability``).
        return try await writer.writeWithoutTransaction { db in
            try SQLiteDurability.deferred.committing(db) {
                try db.transaction { try Self.claimRows(status, owner: owner, lease: lease, limit: limit, now: now, db) }
            }
        }
    }

    /// Leases up to `limit` due tasks in `status`, in claim order, and returns them.
    private static func claimRows(_ status: TaskStatus, owner: String, lease: Duration, limit: Int, now: Date, _ db: Database) throws -> [MediaTask] {
        let nowMillis = now.millis
        return try Row.fetchAll(
            db.cachedStatement(sql: """
                UPDATE tasks SET lease_owner = ?, lease_expires_at = ?, lease_epoch = lease_epoch + 1
                WHERE id IN (
                    SELECT id FROM (
                        SELECT id, poll_priority, next_attempt_at FROM tasks
                        WHERE status = ? AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                        ORDER BY next_attempt_at LIMIT \(TaskStatus.claimCandidates))
                    ORDER BY \(status.claimOrderSQL(now: "?4")) LIMIT ?)
                RETURNING \(MediaTask.columns)
                """),
            arguments: [owner, now.adding(lease).millis, status.rawValue, nowMillis, nowMillis, limit]
        ).map(MediaTask.init(row:))
    }

    @discardableResult
    public func advance(taskID: String, from status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws -> MediaTask {
        let target = change.path.last ?? status
        if !change.path.isEmpty, !status.canFollow(change.path) {
            throw TaskStoreError.invalidTransition(from: status, path: change.path)
        }
        let arguments = try Self.changeArguments(taskID: taskID, from: status, to: target, lease: lease, change: change, now: now)
        let database = database
        let (updated, wroteEvent) = try await database.advanceBatcher.submit { db -> (MediaTask?, Bool) in
            guard let updated = try Row.fetchOne(db.cachedStatement(sql: Self.advanceSQL), arguments: arguments).map(MediaTask.init(row:)) else {
                return (nil, false)
            }
            return (updated, updated.status.isTerminal ? try database.recordTerminalEvent(of: updated, now: now, db) : false)
        }
        guard let updated else { throw TaskStoreError.leaseLost(taskID) }
        if wroteEvent { database.outbox.wake() }
        return updated
    }

    public func reschedule(taskID: String, in status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws {
        precondition(change.path.isEmpty, "reschedule keeps the status")
        let arguments = try Self.changeArguments(taskID: taskID, from: status, to: nil, lease: lease, change: change, now: now)
        let changed = try await database.rescheduleBatcher.submit { db in
            try db.cachedStatement(sql: Self.rescheduleSQL).execute(arguments: arguments)
            return db.changesCount == 1
        }
        guard changed else { throw TaskStoreError.leaseLost(taskID) }
    }

    /// The compare-and-set `UPDATE` of a step's result: `change` applied to the task held under a
    /// lease in a status, and the lease released. One statement for every change (a `NULL` keeps
    /// the column), compiled once. Only a move to another status assigns `status` (and
    /// `finished_at`): SQLite rewrites the entries of every index on an assigned column, changed
    /// or not, and with `status = ?` a batch of 100 polls wrote 13 % more pages to the WAL (the
    /// `(owner, status)` index; `SQLiteStoreTests`). Its arguments: ``changeArguments(taskID:from:to:lease:change:now:)``.
    private static func changeSQL(movingStatus: Bool) -> String {
        """
        UPDATE tasks SET \(movingStatus ? "status = ?, finished_at = COALESCE(?, finished_at), " : "")lease_owner = NULL,
            lease_expires_at = NULL, updated_at = ?,
            upstream_id = COALESCE(?, upstream_id), upstream_outputs = COALESCE(?, upstream_outputs),
            progress = COALESCE(?, progress), fail_reason = COALESCE(?, fail_reason),
            next_attempt_at = COALESCE(?, next_attempt_at), attempts = COALESCE(?, attempts),
            poll_count = COALESCE(?, poll_count), upstream_accepted_at = COALESCE(?, upstream_accepted_at),
            poll_priority = COALESCE(?, poll_priority)
        WHERE id = ? AND status = ? AND lease_owner = ? AND lease_epoch = ?
        """
    }

    /// A step result that keeps the status (``reschedule(taskID:in:lease:change:now:)``).
    static let rescheduleSQL = changeSQL(movingStatus: false)
    /// A step result that moves the task on (``advance(taskID:from:lease:change:now:)``), read back.
    private static let advanceSQL = changeSQL(movingStatus: true) + " RETURNING \(MediaTask.columns)"

    /// The arguments of ``changeSQL(movingStatus:)`` for `change` to the task held under `lease`
    /// in `status`, moving to `target` (nil: it stays). A task that ends gets its `finished_at`; a
    /// completed one its progress at 100.
    private static func changeArguments(
        taskID: String, from status: TaskStatus, to target: TaskStatus?, lease: Lease, change: TaskChange, now: Date
    ) throws -> StatementArguments {
        var arguments: StatementArguments = []
        if let target { arguments += [target.rawValue, target.isTerminal ? now.millis : nil] }
        arguments += [
            now.millis, change.upstreamID, try change.upstreamOutputs.map(JSONCoding.string), target == .completed ? 100 : change.progress,
            change.failReason, change.nextAttemptAt?.millis, change.attempts, change.pollCount, change.upstreamAcceptedAt?.millis,
            change.pollPriority, taskID, status.rawValue, lease.owner, lease.epoch,
        ]
        return arguments
    }

    public func renewLease(taskID: String, lease: Lease, for duration: Duration, now: Date) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE tasks SET lease_expires_at = ?
                    WHERE id = ? AND lease_owner = ? AND lease_epoch = ? AND status IN ('queued', 'processing', 'downloading')
                    """,
                arguments: [now.adding(duration).millis, taskID, lease.owner, lease.epoch]
            )
            return db.changesCount == 1
        }
    }

    public func releaseLease(taskID: String, lease: Lease) async throws -> Bool {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL WHERE id = ? AND lease_owner = ? AND lease_epoch = ?",
                arguments: [taskID, lease.owner, lease.epoch])
            return db.changesCount == 1
        }
    }

    public func saveArtifact(_ artifact: TaskArtifact, lease: Lease) async throws {
        try await writer.write { db in
            let held = try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM tasks WHERE id = ? AND status = 'downloading' AND lease_owner = ? AND lease_epoch = ?",
                arguments: [artifact.taskID, lease.owner, lease.epoch]
            ) ?? false
            guard held else { throw TaskStoreError.leaseLost(artifact.taskID) }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO artifacts (\(TaskArtifact.columns))
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: artifact.databaseArguments()
            )
        }
    }

    public func cancel(taskID: String, now: Date) async throws -> MediaTask {
        let database = database
        let (canceled, wroteEvent) = try await writer.write { db -> (MediaTask, Bool) in
            if let row = try Row.fetchOne(
                db.cachedStatement(sql: """
                    UPDATE tasks SET status = 'canceled', finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND status IN ('queued', 'processing') RETURNING \(MediaTask.columns)
                    """),
                arguments: [now.millis, now.millis, taskID]
            ) {
                let canceled = try MediaTask(row: row)
                return (canceled, try database.recordTerminalEvent(of: canceled, now: now, db))
            }
            guard let current = try Row.fetchOne(db, sql: "SELECT \(MediaTask.columns) FROM tasks WHERE id = ?", arguments: [taskID]) else {
                throw TaskStoreError.notFound(taskID)
            }
            throw TaskStoreError.conflict(id: taskID, status: try MediaTask(row: current).status)
        }
        if wroteEvent { database.outbox.wake() }
        return canceled
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
