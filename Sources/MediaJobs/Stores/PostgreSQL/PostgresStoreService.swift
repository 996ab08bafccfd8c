import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The PostgreSQL store of `serve` and the connection pool under it, as a service of the
/// application's `ServiceGroup`: the pool runs from ``connect(_:outbox:wake:logger:)`` (the schema
/// is migrated before the server starts) until the group shuts it down, after the workers; the
/// instance's `LISTEN` connection (``PostgresWakeUpListener``) runs as long as the service.
public final class PostgresStoreService: Service, Sendable {
    /// The store on this pool.
    public let store: PostgresStore
    private let running: Task<Void, Never>
    private let listener: PostgresWakeUpListener

    private init(store: PostgresStore, running: Task<Void, Never>, listener: PostgresWakeUpListener) {
        self.store = store
        self.running = running
        self.listener = listener
    }

    /// How long start-up waits for the database before giving up with a clear error.
    static let connectDeadline: Duration = .seconds(15)

    /// Starts a pool for `url` and opens (migrating) the store on it; throws ``StartupError`` naming
    /// the host, port, user and database (never the password) when the database cannot be reached
    /// in time or refuses the schema. `wake` is called for work other instances (or operator
    /// commands) made, once the service runs.
    public static func connect(
        _ url: PostgresDatabaseURL, outbox: WebhookOutbox, wake: @escaping @Sendable (StoreWakeUp) -> Void = { _ in }, logger: Logger
    ) async throws -> PostgresStoreService {
        let poolLogger = {
            var poolLogger = logger
            poolLogger[metadataKey: "component"] = "postgres"
            return poolLogger
        }()
        do {
            // One plain connection first: the pool retries a refused or failed login forever, while
            // this fails at once with the reason.
            let probe = try await PostgresConnection.connect(configuration: url.probeConfiguration(), id: 0, logger: poolLogger)
            try await probe.close()
        } catch {
            throw StartupError.configuration("cannot connect to the database \(url): \(Self.describe(error))")
        }
        let client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: poolLogger)
        let running = Task { await client.run() }
        do {
            let store = try await withThrowingTaskGroup(of: PostgresStore?.self) { group in
                group.addTask { try await PostgresStore(client: client, outbox: outbox, logger: poolLogger) }
                group.addTask {
                    // A deadline, not a pause: the pool keeps retrying an unreachable server forever.
                    try await Task.sleep(for: connectDeadline)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let store = first else {
                    throw StartupError.configuration("cannot reach the database \(url) within \(connectDeadline)")
                }
                return store
            }
            logger.info("PostgreSQL store ready", metadata: ["database": "\(url)"])
            let listener = PostgresWakeUpListener(url: url, wake: wake, logger: poolLogger)
            return PostgresStoreService(store: store, running: running, listener: listener)
        } catch let error as StartupError {
            running.cancel()
            throw error
        } catch let error as PostgresSchemaError {
            running.cancel()
            throw StartupError.configuration("database \(url): \(error.description)")
        } catch {
            running.cancel()
            throw StartupError.configuration("cannot open the database \(url): \(Self.describe(error))")
        }
    }

    public func run() async throws {
        let listening = Task { [listener] in await listener.run() }
        let notifying = Task { [store] in await store.runNotifier() }
        // The pool serves until the group shuts down; the group stops this service after the workers.
        try? await gracefulShutdown()
        listening.cancel()
        notifying.cancel()
        await listening.value
        await notifying.value
        running.cancel()
        await running.value
    }

    /// What went wrong, in words that never contain the password (PostgresNIO's own error
    /// descriptions are opaque on purpose, so the SQLSTATE and server message are picked out).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
        }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }
}
