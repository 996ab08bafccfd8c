import AsyncHTTPClient
import ServiceLifecycle

/// Owns what outlives the workers: the HTTP clients, shut down last.
struct SharedResources: Service, CustomStringConvertible {
    let httpClients: [HTTPClient]

    var description: String { "SharedResources" }

    func run() async throws {
        try? await gracefulShutdown()
        for client in httpClients { try await client.shutdown() }
    }
}
