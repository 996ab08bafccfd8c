import AsyncHTTPClient
import ServiceLifecycle

/// Owns what outlives the workers: the HTTP clients (and other connections), shut down last.
struct SharedResources: Service, CustomStringConvertible {
    let httpClients: [HTTPClient]
    /// Closes connections kept outside the HTTP clients (the polls').
    var closing: [@Sendable () async -> Void] = []

    var description: String { "SharedResources" }

    func run() async throws {
        try? await gracefulShutdown()
        for close in closing { await close() }
        for client in httpClients { try await client.shutdown() }
    }
}
