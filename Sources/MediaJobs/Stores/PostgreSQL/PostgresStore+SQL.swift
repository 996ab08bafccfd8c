import Foundation
import PostgresNIO

extension PostgresStore {
    /// Runs `body` in one transaction on one pooled connection, rethrowing `body`'s own errors
    /// (PostgresNIO's `withTransaction` wraps them, and callers match on ``TaskStoreError``).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
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

    /// The rows of `query`, outside any transaction, each read by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// The first column of the first row of `query`, if any.
    func scalar<Value: PostgresDecodable>(_ query: PostgresQuery, as type: Value.Type) async throws -> Value? {
        guard let row = try await client.query(query, logger: logger).collect().first else { return nil }
        return try row.makeRandomAccess()[0].decode(Value.self)
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
}
