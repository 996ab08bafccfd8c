import AsyncHTTPClient
import ServiceLifecycle

/// Owns what outlives the workers: the HTTP clients (shut down last) and, for the single-node
/// store, the data directory lock.
struct SharedResources: Service, CustomStringConvertible {
    let httpClients: [HTTPClient]
    let singleNode: DataDirectoryLock?

    var description: String { "SharedResources" }

    func run() async throws {
        try? await gracefulShutdown()
        for client in httpClients { try await client.shutdown() }
        withExtendedLifetime(singleNode) {}
    }
}
