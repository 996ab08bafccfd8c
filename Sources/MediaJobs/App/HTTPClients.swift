import AsyncHTTPClient

/// The outbound HTTP clients: one for the provider and downloads, one for webhooks.
///
/// Neither follows redirects: the downloader follows them itself, re-checking every hop, and
/// webhooks must not follow them.
public struct HTTPClients: Sendable {
    let upstream: HTTPClient
    /// Webhooks have their own retry schedule: a refused connection must fail the attempt at once
    /// instead of being retried inside the client until its connect timeout.
    let webhooks: HTTPClient

    init(configuration: ServiceConfiguration) {
        upstream = Self.make(configuration: configuration, retryConnectionEstablishment: true)
        webhooks = Self.make(configuration: configuration, retryConnectionEstablishment: false)
    }

    var all: [HTTPClient] { [upstream, webhooks] }

    /// A client as `serve` configures it (also for `mediajobs bench-download`); whoever makes one shuts it down.
    public static func make(configuration: ServiceConfiguration, retryConnectionEstablishment: Bool) -> HTTPClient {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.retryConnectionEstablishment = retryConnectionEstablishment
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, configuration.upstreamConcurrency)
        // No tracing system is set up: the default no-op tracer would still parse each request's
        // URL again for its span's attributes (about 1 % of the server's CPU while it polls).
        clientConfiguration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    }
}
