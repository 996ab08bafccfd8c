import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database` URL, parsed once at start-up.
///
/// Its ``description`` names the host, port, user and database but never the password, so it is
/// what errors and logs show.
public struct PostgresDatabaseURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    var password: String?
    public var database: String

    /// Why a database URL was refused (the message never contains the password).
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `string`; throws ``Invalid`` for anything but `postgres://` or `postgresql://` with a user, host and database.
    public init(_ string: String) throws {
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased(),
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw Invalid(description: "the database URL is not a postgres://user:password@host:port/database URL")
        }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "the database URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "the database URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw Invalid(description: "the database URL names no database (…/database)") }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard sslMode == "disable" else {
            throw Invalid(description: "sslmode=\(sslMode) is not supported yet: use a loopback or private network with sslmode=disable")
        }
        // Brackets of an IPv6 literal are URL syntax, not part of the address.
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
    }

    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// A single connection's configuration for this URL (the start-up login check, the `LISTEN`
    /// connection); `searchPath` picks a schema other than `public`.
    public func probeConfiguration(searchPath: String? = nil) -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        if let searchPath { configuration.options.additionalStartupParameters.append(("search_path", searchPath)) }
        return configuration
    }

    /// The client configuration for this URL; `searchPath` picks a schema other than `public`.
    public func clientConfiguration(searchPath: String? = nil, maximumConnections: Int = 20) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        // A statement or an idle transaction left hanging (a stuck client, a lost instance) must not hold locks forever.
        configuration.options.additionalStartupParameters += [("statement_timeout", "30s"), ("idle_in_transaction_session_timeout", "60s")]
        if let searchPath { configuration.options.additionalStartupParameters.append(("search_path", searchPath)) }
        return configuration
    }
}
