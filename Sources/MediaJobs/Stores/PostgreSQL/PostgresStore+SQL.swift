import Foundation
import PostgresNIO

extension PostgresStore {
    /// How long an operation may wait for a pooled connection while no other operation gets one
    /// either, before the database counts as unavailable: the pool itself would wait (and retry
    /// connecting) forever.
    static let connectionWait: Duration = .seconds(5)

    /// Runs `body` on a pooled connection; throws ``StoreUnavailable`` when the connection fails,
    /// or when no connection comes within ``connectionWait`` and no other operation got one in that
    /// time either (a busy pool is not a lost database), so callers answer 503 rather than hang.
    func withConnection<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await Self.withConnection(of: client, activity: activity, body)
    }

    /// ``withConnection(_:)`` for code that runs before the store exists (its insert batcher).
    static func withConnection<Result: Sendable>(
        of client: PostgresClient, activity: PostgresActivity, _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let acquired = SharedFlag()
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        acquired.set()
                        activity.connected()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    // Once the operation has its connection, statement_timeout bounds it.
                    while true {
                        try await Task.sleep(for: Self.connectionWait)
                        if acquired.isSet { return nil }
                        guard activity.connectedWithin(Self.connectionWait) else {
                            throw StoreUnavailable(reason: "no connection to the database within \(Self.connectionWait)")
                        }
                    }
                }
                while let finished = try await group.next() {
                    if let result = finished {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as PSQLError where error.meansUnavailable {
            throw StoreUnavailable(reason: PostgresStoreService.describe(error))
        }
    }

    /// Runs `query` for its effect, reading any rows it returns (an error of a statement that
    /// returns rows, e.g. an `INSERT` inside a `WITH`, arrives with them).
    func run(_ query: PostgresQuery) async throws {
        try await withConnection { [logger] connection in _ = try await connection.execute(query, logger: logger) }
    }

    /// Runs a prepared statement for its effect (prepared on first use per connection).
    func runPrepared<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws {
        try await withConnection { [logger] connection in
            for try await _ in try await connection.execute(statement, logger: logger) {}
        }
    }

    /// Runs `body` in one transaction on one pooled connection, rethrowing `body`'s own errors
    /// (PostgresNIO's `withTransaction` wraps them, and callers match on ``TaskStoreError``).
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withConnection { [logger] connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                // A broken connection fails the rollback too; the pool then drops it, and the
                // server rolls back on its own.
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The channel every instance `LISTEN`s on (``PostgresWakeUpListener``); ``PostgresWakeUpNotifier`` sends on it.
    static let wakeUpChannel = "mediajobs_work"

    /// The notification of `wakeUp`: `<schema>:<wake-up>`, so deployments in different schemas of
    /// one database do not wake each other.
    static func notification(_ wakeUp: StoreWakeUp) -> PostgresQuery {
        PostgresQuery(unsafeSQL: "SELECT pg_notify('\(wakeUpChannel)', current_schema() || ':\(wakeUp.rawValue)')")
    }

    /// Sends the notifications ``notifier`` is asked for, until cancelled (a service of `serve`;
    /// operator commands do not run it, so servers find their changes at the next idle tick).
    public func runNotifier() async {
        await notifier.run { wakeUp in try await run(Self.notification(wakeUp)) }
    }

    /// The rows of `query`, outside any transaction, each read by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await withConnection { [logger] connection in try await connection.rows(query, logger: logger) }
    }

    /// The first column of the first row of `query`, if any.
    func scalar<Value: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: Value.Type) async throws -> Value? {
        guard let row = try await rows(query).first else { return nil }
        return try row[0].decode(Value.self)
    }
}

extension PostgresConnection {
    /// The rows of `query` in this connection's transaction, each read by column name.
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRandomAccessRow] {
        try await self.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// Runs `query` and counts the rows it returns (a `RETURNING` clause makes that the rows it changed).
    func execute(_ query: PostgresQuery, logger: Logger) async throws -> Int {
        let result = try await self.query(query, logger: logger)
        var count = 0
        for try await _ in result { count += 1 }
        return count
    }
}

extension PostgresRandomAccessRow {
    /// The value of column `name`.
    func value<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        try self[name].decode(Value.self)
    }

    /// The milliseconds in column `name` as a date.
    func date(_ name: String) throws -> Date {
        Date(millis: try value(name, as: Int64.self))
    }

    /// The milliseconds in column `name` as a date, if not NULL.
    func optionalDate(_ name: String) throws -> Date? {
        try value(name, as: Int64?.self).map(Date.init(millis:))
    }
}

extension PSQLError {
    /// The SQLSTATE the server answered with, if it answered.
    var sqlState: String? { serverInfo?[.sqlState] }

    /// Whether the error says the database is out of reach (connection lost or refused, server
    /// shutting down or out of connections) rather than that a statement was wrong.
    var meansUnavailable: Bool {
        if let sqlState {
            // 08: connection exception; 53: insufficient resources; 57P01–03: shutdown, crash, cannot connect now.
            return sqlState.hasPrefix("08") || sqlState.hasPrefix("53") || ["57P01", "57P02", "57P03"].contains(sqlState)
        }
        return [.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(code)
    }
}
