import Foundation
import Logging
import PostgresNIO

/// The store for several instances: one PostgreSQL database holding tasks, artifacts,
/// idempotency keys, the webhook outbox and the retention journal, with the semantics of
/// ``SQLiteStore`` (the contract suite in Tests/MediaJobsTests/Stores/ runs against both).
///
/// Built fully at init from a running `PostgresClient` and the webhook outbox; the schema is
/// brought up to date before the store is returned. Times are bigint milliseconds since 1970,
/// like SQLite's. Lease times come from the database's clock (``databaseNow``), so instances
/// whose clocks disagree still agree on when a lease expired; the other times (what is due,
/// when a task was created or finished) come from the `now:` the protocols pass. No transaction
/// stays open across anything but SQL. Nothing outside this folder sees a PostgresNIO type.
public struct PostgresStore: Sendable {
    /// The connection pool; its `run()` belongs to whoever made it (a service in the ServiceGroup).
    let client: PostgresClient
    /// Writes the event of a task that ends, in the transaction that ends it.
    let outbox: WebhookOutbox
    /// Where PostgresNIO logs queries (only at debug level and below).
    let logger: Logger
    /// Announces committed work to the other instances (``runNotifier()`` sends).
    let notifier = PostgresWakeUpNotifier()
    /// When an operation last got a connection: tells a busy pool from a lost database.
    let activity: PostgresActivity
    /// Group commit of plain submits (set up in `init`).
    let inserts: PostgresInsertBatcher

    /// The database's clock in milliseconds since 1970, the one clock every instance's leases are measured on.
    static let databaseNow = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// Wraps `client` and migrates the database's schema; throws ``PostgresSchemaError`` for a
    /// database written by a newer binary.
    public init(client: PostgresClient, outbox: WebhookOutbox, logger: Logger = Logger(label: "mediajobs.postgres")) async throws {
        self.client = client
        self.outbox = outbox
        self.logger = logger
        let activity = PostgresActivity()
        self.activity = activity
        self.inserts = PostgresInsertBatcher { [client, logger] rows in
            try await Self.withConnection(of: client, activity: activity) { connection in
                // One row: the prepared statement; several: one statement for them all.
                if rows.count == 1 {
                    for try await _ in try await connection.execute(rows[0], logger: logger) {}
                    return
                }
                var bindings = PostgresBindings(capacity: rows.count * PostgresPreparedStatements.InsertTask.columnCount)
                for row in rows { row.append(to: &bindings) }
                let statement = PostgresQuery(unsafeSQL: PostgresPreparedStatements.InsertTask.multiRowSQL(rows: rows.count), binds: bindings)
                _ = try await connection.execute(statement, logger: logger)
            }
        }
        try await migrate()
    }
}
