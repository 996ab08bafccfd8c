import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Assembles the whole service: store, storage, upstream, workers and HTTP routes.
public enum MediaJobsService {
    /// The application `mediajobs serve` runs; tests call it directly.
    public static func makeApplication(
        configuration: ServiceConfiguration,
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let storage = ArtifactStorage(dataDirectory: configuration.dataDirectory, publicBaseURL: configuration.effectivePublicURL)
        try storage.prepare()
        let lock = try DataDirectoryLock(directory: storage.dataDirectory)
        let store = try SQLiteTaskStore.open(path: storage.databasePath)
        let leftovers = storage.removeLeftoverTemporaryFiles()
        let unfinished = try await store.recoverAfterRestart(now: Date())
        logger.info(
            "data directory ready",
            metadata: ["data.dir": "\(storage.dataDirectory.path)", "tasks.unfinished": "\(unfinished)", "temp.removed": "\(leftovers)"])

        var clientConfiguration = HTTPClient.Configuration()
        // Redirects are followed by the downloader itself, re-checking every hop.
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, configuration.upstreamConcurrency)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

        var services: [any Service] = [SharedResources(httpClient: httpClient, lock: lock)]
        let upstreamBase = LateValue<String>()
        var trustedHosts: Set<String> = []
        if let upstreamURL = configuration.upstreamURL {
            guard let url = URL(string: upstreamURL), let host = url.host, ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
                throw StartupError.configuration("--upstream-url must be an http(s) URL, got '\(upstreamURL)'")
            }
            upstreamBase.set(upstreamURL.hasSuffix("/") ? String(upstreamURL.dropLast()) : upstreamURL)
            trustedHosts.insert(host)
            logger.info("upstream configured", metadata: ["upstream.url": "\(upstreamURL)"])
        } else {
            trustedHosts.insert("127.0.0.1")
            services.append(demoSimulator(configuration.simulator, address: upstreamBase, logger: logger))
        }

        let urlGuard = OutboundURLGuard(
            policy: AddressPolicy(allowPrivateNetworks: configuration.allowPrivateNetworks, allowedCIDRs: configuration.allowedCIDRs),
            trustedHosts: trustedHosts)
        let upstream = ApiTopMixClient(
            configuration: .init(
                baseURL: upstreamBase, apiKey: configuration.upstreamKey, callTimeout: configuration.upstreamTimeout,
                maxConcurrentCalls: configuration.upstreamConcurrency),
            httpClient: httpClient, logger: logger)
        let downloader = ArtifactDownloader(
            httpClient: httpClient, storage: storage, urlGuard: urlGuard,
            limits: .init(maxBytes: configuration.maxArtifactSize.bytes, timeout: configuration.downloadTimeout))
        let signals = StageSignals()
        let events = TaskEvents()
        let pipeline = TaskPipeline(
            store: store, upstream: upstream, downloader: downloader, settings: configuration.pipeline, events: events, signals: signals,
            leaseOwner: "mediajobs-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))", logger: logger)
        let settings = configuration.pipeline
        services.append(StageWorker(status: .queued, pipeline: pipeline, concurrency: settings.submitConcurrency, logger: logger))
        services.append(StageWorker(status: .processing, pipeline: pipeline, concurrency: settings.pollConcurrency, logger: logger))
        services.append(StageWorker(status: .downloading, pipeline: pipeline, concurrency: settings.downloadConcurrency, logger: logger))

        let service = TaskService(
            store: store, storage: storage, signals: signals, events: events, limits: configuration.submission, urlGuard: urlGuard,
            taskTimeout: settings.taskTimeout)
        let router = makeRouter(service: service, configuration: configuration)
        return Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "MediaJobs"),
            services: services,
            onServerRunning: { channel in
                logger.info("MediaJobs listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "public.url": "\(storage.publicBaseURL)"])
                await onServerRunning(channel)
            },
            logger: logger)
    }

    /// Every public route, behind the error envelope.
    static func makeRouter(service: TaskService, configuration: ServiceConfiguration) -> Router<MediaJobsRequestContext> {
        let router = Router(context: MediaJobsRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        let body = JSONRequestBody(maxBytes: Int(clamping: configuration.maxBodySize.bytes))
        HealthController(store: service.store, storage: service.storage).addRoutes(to: router)
        MusicController(service: service, body: body).addRoutes(to: router.group("suno"))
        ImagesController(service: service, body: body, syncWait: configuration.imageWait).addRoutes(to: router.group("v1/images"))
        TasksController(service: service).addRoutes(to: router.group("v1"))
        FilesController(service: service).addRoutes(to: router)
        return router
    }

    /// The built-in simulator on an ephemeral loopback port, for running with no provider and no key.
    static func demoSimulator(_ settings: SimulatorSettings, address: LateValue<String>, logger: Logger) -> some Service {
        var simulatorLogger = logger
        simulatorLogger[metadataKey: "component"] = "simulator"
        simulatorLogger.logLevel = max(logger.logLevel, .notice)
        logger.notice(
            "no --upstream-url given: demo mode, using the built-in upstream simulator (no key, no network)",
            metadata: ["simulator.latency": "\(settings.latency.humanReadable)", "simulator.failure_rate": "\(settings.failureRate)"])
        return Application(
            router: UpstreamSimulator(settings: settings).router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "MediaJobs-Simulator"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                address.set("http://127.0.0.1:\(port)")
                logger.notice("built-in upstream simulator listening", metadata: ["simulator.url": "http://127.0.0.1:\(port)"])
            },
            logger: simulatorLogger)
    }
}

/// Owns what outlives the workers: the HTTP client (shut down last) and the data directory lock.
struct SharedResources: Service {
    let httpClient: HTTPClient
    let lock: DataDirectoryLock

    func run() async throws {
        try? await gracefulShutdown()
        try await httpClient.shutdown()
        withExtendedLifetime(lock) {}
    }
}
