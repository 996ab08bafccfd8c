import Foundation
import GRDB

/// The single-node store: one SQLite database (WAL, through GRDB) holding tasks, artifacts,
/// idempotency keys, the webhook outbox and the retention journal.
///
/// Opened once with everything it needs, the webhook outbox included, so every store made from
/// it is complete: ``tasks`` (``TaskStore``, ``RetentionStore``, ``OperatorStore``,
/// ``EventLoopStoreAccess``) and ``webhooks`` (``WebhookDeliveryStore``). Nothing outside this
/// folder sees a GRDB type. Times are stored as integer milliseconds since 1970 so comparisons
/// stay in SQL and indexes.
public struct SQLiteStore: Sendable {
    /// The database connection(s): a `DatabasePool` for a file, a `DatabaseQueue` in memory.
    let writer: any DatabaseWriter
    /// Writes the event of a task that ends, in the transaction that ends it.
    let outbox: WebhookOutbox
    /// Shares one commit among concurrent submits.
    let acceptBatcher: GroupCommit<AcceptOutcome>
    /// Shares one commit among concurrent step results (``SQLiteTaskStore/advance(taskID:from:lease:change:now:)``):
    /// the updated task, and whether its webhook event was written.
    let advanceBatcher: GroupCommit<(MediaTask?, Bool)>
    /// Shares one commit among concurrent same-status updates (polls that found the task running),
    /// without an fsync of its own (``SQLiteDurability/deferred``).
    let rescheduleBatcher: GroupCommit<Bool>
    /// Read-only connections for status reads and the `/files` gate (a file database only; an
    /// in-memory one is read through GRDB).
    let directReader: SQLiteDirectReader?
    /// Held while `serve` has the database open; every store made from this one keeps it.
    let lock: DataDirectoryLock?

    /// Tasks, artifacts, retention and operator statistics.
    public var tasks: SQLiteTaskStore { SQLiteTaskStore(database: self) }
    /// The webhook deliveries.
    public var webhooks: SQLiteWebhookDeliveryStore { SQLiteWebhookDeliveryStore(database: self) }

    /// Wraps `writer` and brings its schema up to date.
    init(writer: any DatabaseWriter, outbox: WebhookOutbox, lock: DataDirectoryLock? = nil) throws {
        try Self.migrator.migrate(writer)
        self.writer = writer
        self.outbox = outbox
        self.lock = lock
        acceptBatcher = GroupCommit(writer: writer)
        advanceBatcher = GroupCommit(writer: writer)
        rescheduleBatcher = GroupCommit(writer: writer, durability: .deferred)
        directReader = (writer as? DatabasePool).map { SQLiteDirectReader(path: $0.path) }
    }

    /// The database file in a data directory.
    public static func databasePath(in dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("mediajobs.sqlite").path
    }

    /// Opens (creating if needed) the database of `serve` in `dataDirectory`, after taking the
    /// data-directory lock: start-up recovery (``recoverSingleNodeAfterRestart(now:)``) assumes no
    /// other server works on the same database. Throws if another server holds the lock.
    public static func openForServing(dataDirectory: URL, outbox: WebhookOutbox) throws -> SQLiteStore {
        let lock = try DataDirectoryLock(directory: dataDirectory)
        return try SQLiteStore(writer: openPool(path: databasePath(in: dataDirectory)), outbox: outbox, lock: lock)
    }

    /// Opens (creating if needed) the database in `dataDirectory` without the lock, for operator
    /// commands that work beside a running server (and for tests of a file database).
    public static func openBesideServer(dataDirectory: URL, outbox: WebhookOutbox) throws -> SQLiteStore {
        try SQLiteStore(writer: openPool(path: databasePath(in: dataDirectory)), outbox: outbox)
    }

    /// A fresh in-memory database, for tests.
    public static func inMemory(outbox: WebhookOutbox) throws -> SQLiteStore {
        try SQLiteStore(writer: DatabaseQueue(), outbox: outbox)
    }

    /// The database file at `path` in WAL mode, durable at every commit (but those
    /// ``SQLiteDurability/deferred`` says need not be).
    private static func openPool(path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // Reads map the file instead of a pread(2) per page (3 % of a status read's CPU went to
            // pread). Mapped pages are the page cache's, shared, not the process's own memory.
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
        }
        // CLI commands share the file with a running server; wait for its writes instead of failing.
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // A 200 to a submit promises the task survives a crash or power loss: fsync every commit.
        // Set on the writer after opening: GRDB sets `synchronous = NORMAL` when it switches the
        // pool to WAL, after `prepareDatabase` has run, so a `FULL` set there does not last.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(SQLiteDurability.full.level)") }
        return pool
    }

    /// After a restart of the only instance: releases every lease, of tasks and of webhook
    /// deliveries, so work the previous process held is taken up at once, and makes processing
    /// tasks due so they are re-polled now. Returns how many unfinished tasks there are.
    ///
    /// Single node only: with several instances a lease may belong to a live one. `serve` holds the
    /// data-directory lock (``openForServing(dataDirectory:outbox:)``), so no other server runs here.
    public func recoverSingleNodeAfterRestart(now: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL,
                        next_attempt_at = CASE WHEN status = 'processing' THEN MIN(next_attempt_at, ?) ELSE next_attempt_at END
                    WHERE status IN ('queued', 'processing', 'downloading')
                    """,
                arguments: [now.millis]
            )
            try db.execute(
                sql: "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL")
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE status IN ('queued', 'processing', 'downloading')") ?? 0
        }
    }
}
