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
        operators operatorSettings: OperatorSettings = OperatorSettings(),
        metrics: ServiceMetrics = ServiceMetrics(),
        logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        try checkExposure(configuration, logger: logger)
        let storage = ArtifactStorage(dataDirectory: configuration.dataDirectory, publicBaseURL: configuration.effectivePublicURL)
        try storage.prepare()
        let lock = try DataDirectoryLock(directory: storage.dataDirectory)
        var store = try SQLiteTaskStore.open(path: storage.databasePath)
        let leftovers = storage.removeLeftoverTemporaryFiles()
        let unfinished = try await store.recoverAfterRestart(now: Date())
        try await WebhookStore(writer: store.writer).recoverAfterRestart()
        logger.info(
            "data directory ready",
            metadata: ["data.dir": "\(storage.dataDirectory.path)", "tasks.unfinished": "\(unfinished)", "temp.removed": "\(leftovers)"])
        let pruner = Pruner(store: store, storage: storage, logger: logger)
        let interrupted = try await pruner.finishFileRemovals()
        if interrupted.processed > 0 {
            logger.notice("finished the file removals of an interrupted prune", metadata: ["files.deleted": "\(interrupted.deleted)"])
        }

        let httpClient = makeHTTPClient(configuration: configuration)
        // Webhooks have their own retry schedule: a refused connection must fail the attempt at
        // once instead of being retried inside the client until its connect timeout.
        let webhookClient = makeHTTPClient(configuration: configuration, retryConnectionEstablishment: false)

        var services: [any Service] = [SharedResources(httpClients: [httpClient, webhookClient], lock: lock)]
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

        let addressPolicy = AddressPolicy(allowPrivateNetworks: configuration.allowPrivateNetworks, allowedCIDRs: configuration.allowedCIDRs)
        let urlGuard = OutboundURLGuard(policy: addressPolicy, trustedHosts: trustedHosts)
        // Webhook targets get no trusted hosts: the provider's host being trusted for downloads
        // must not let a client aim callbacks at it.
        let webhookGuard = OutboundURLGuard(policy: addressPolicy)
        let leaseOwner = "mediajobs-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let webhookSignal = WorkSignal()
        let signer = try await webhookSigner(configuration: configuration, storage: storage, logger: logger)
        for endpoint in configuration.webhooks.endpoints {
            do {
                try await webhookGuard.check(endpoint.url)
            } catch {
                throw StartupError.configuration("--webhook-url \(endpoint.url): \(error.description)")
            }
        }
        store.terminalHook = WebhookOutbox(endpoints: configuration.webhooks.endpoints, storage: storage, signal: webhookSignal).terminalHook
        services.append(
            WebhookDispatcher(
                store: WebhookStore(writer: store.writer), httpClient: webhookClient, signer: signer, urlGuard: webhookGuard,
                settings: configuration.webhooks, signal: webhookSignal, leaseOwner: leaseOwner, metrics: metrics, logger: logger))
        let upstream = ApiTopMixClient(
            configuration: .init(
                baseURL: upstreamBase, apiKey: configuration.upstreamKey?.value, callTimeout: configuration.upstreamTimeout,
                maxConcurrentCalls: configuration.upstreamConcurrency),
            httpClient: httpClient, logger: logger)
        let downloader = ArtifactDownloader(
            httpClient: httpClient, storage: storage, urlGuard: urlGuard,
            limits: .init(maxBytes: configuration.maxArtifactSize.bytes, timeout: configuration.downloadTimeout), metrics: metrics)
        let signals = StageSignals()
        let events = TaskEvents()
        let pipeline = TaskPipeline(
            store: store, upstream: MeteredUpstreamClient(upstream, metrics: metrics), downloader: downloader, settings: configuration.pipeline, events: events, signals: signals,
            leaseOwner: leaseOwner, logger: logger)
        let settings = configuration.pipeline
        services.append(StageWorker(status: .queued, pipeline: pipeline, concurrency: settings.submitConcurrency, logger: logger))
        services.append(StageWorker(status: .processing, pipeline: pipeline, concurrency: settings.pollConcurrency, logger: logger))
        services.append(StageWorker(status: .downloading, pipeline: pipeline, concurrency: settings.downloadConcurrency, logger: logger))
        if let retention = retentionService(settings: operatorSettings, pruner: pruner, metrics: metrics, logger: logger) {
            services.append(retention)
        }

        let service = TaskService(
            store: store, storage: storage, signals: signals, events: events, limits: configuration.submission, urlGuard: webhookGuard,
            taskTimeout: settings.taskTimeout)
        let operators = OperatorService(
            store: store, storage: storage, pruner: pruner, signals: signals, webhooks: WebhookStore(writer: store.writer), logger: logger)
        let router = makeRouter(service: service, configuration: configuration, operators: operators, operatorSettings: operatorSettings, metrics: metrics)
        let serverName = "MediaJobs"
        let fastStore = store
        let eventLoopRoutes =
            configuration.answerHotRoutesOnEventLoop
            ? EventLoopRoutes(
                keys: APIKeyRing(keys: configuration.apiKeys.map(\.value)), metrics: metrics, serverName: serverName,
                status: StatusFastPath(lookup: { try fastStore.readStatus(id: $0) }, representations: service.representations),
                files: FilesFastPath(lookup: { try fastStore.readArtifact(taskID: $0, fileName: $1) }, storage: storage),
                submit: SubmitFastPath(
                    service: service, body: requestBody(configuration),
                    accept: { fastStore.accept($0, idempotency: nil, maxActivePerOwner: $1, now: Date(), completion: $2) }, logger: logger))
            : nil
        return Application(
            router: router,
            // `/files` bodies go out with sendfile(2), hot reads are answered on the event loop and
            // oversized bodies are dropped after their 413: the handlers sit inside the HTTP/1 pipeline.
            server: .http1(configuration: .init(additionalChannelHandlers: [HTTPPipelineInstaller(logger: logger, routes: eventLoopRoutes, bodyLimit: RequestBodyLimit(maxBytes: requestBody(configuration).maxBytes))])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: serverName),
            services: services,
            onServerRunning: { channel in
                logger.info("MediaJobs listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "public.url": "\(storage.publicBaseURL)"])
                await onServerRunning(channel)
            },
            logger: logger)
    }

    /// Refuses to serve an open (keyless) API beyond loopback unless the operator insists.
    static func checkExposure(_ configuration: ServiceConfiguration, logger: Logger) throws {
        guard configuration.apiKeys.isEmpty else {
            logger.info("API keys required on client routes", metadata: ["keys": "\(configuration.apiKeys.count)"])
            return
        }
        let host = configuration.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = host == "localhost" || IPAddress(parsing: host)?.addressClass == .loopback
        if loopback {
            logger.notice("no API keys configured: the API is open to anyone who can reach \(configuration.host) (loopback only)")
        } else if configuration.insecureOpen {
            logger.warning("no API keys configured and --insecure-open given: the API is open to anyone who can reach \(configuration.host)")
        } else {
            throw StartupError.configuration(
                "refusing to listen on \(configuration.host) without API keys; set --api-keys (or --api-keys-file), or pass --insecure-open")
        }
    }

    /// The HTTP client for the provider, downloads and webhooks. It never follows redirects: the
    /// downloader follows them itself, re-checking every hop, and webhooks must not follow them.
    public static func makeHTTPClient(configuration: ServiceConfiguration, retryConnectionEstablishment: Bool = true) -> HTTPClient {
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.retryConnectionEstablishment = retryConnectionEstablishment
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, configuration.upstreamConcurrency)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    }

    /// The signer for outgoing webhooks: the configured secret, or one generated once and kept in the data directory.
    static func webhookSigner(configuration: ServiceConfiguration, storage: ArtifactStorage, logger: Logger) async throws -> WebhookSigner {
        var secrets: [WebhookSecret] = []
        if let text = configuration.webhookSecret?.value {
            guard let secret = WebhookSecret(parsing: text) else { throw StartupError.configuration("--webhook-secret must be whsec_<base64 of at least 16 bytes>") }
            secrets.append(secret)
        } else {
            let file = storage.dataDirectory.appendingPathComponent("webhook-secret")
            let (secret, created) = try WebhookSecret.loadOrCreate(at: file)
            if created {
                // Printed this once so the operator can hand it to webhook consumers; it stays in the file.
                let line = "Generated webhook signing secret (stored in \(file.path)): \(secret.encoded)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                logger.notice("generated a webhook signing secret", metadata: ["file": "\(file.path)"])
            }
            secrets.append(secret)
        }
        for text in configuration.webhookPreviousSecrets.map(\.value) {
            guard let secret = WebhookSecret(parsing: text) else { throw StartupError.configuration("--webhook-previous-secret must be whsec_<base64>") }
            secrets.append(secret)
        }
        return WebhookSigner(secrets: secrets)
    }

    /// Every public route, behind the error envelope.
    static func makeRouter(
        service: TaskService, configuration: ServiceConfiguration, operators: OperatorService, operatorSettings: OperatorSettings, metrics: ServiceMetrics
    ) -> Router<MediaJobsRequestContext> {
        let router = Router(context: MediaJobsRequestContext.self)
        router.add(middleware: HTTPMetricsMiddleware(metrics: metrics))
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: APIKeyAuthMiddleware(keys: APIKeyRing(keys: configuration.apiKeys.map(\.value))))
        let body = requestBody(configuration)
        HealthController(store: service.store, storage: service.storage, minimumFreeBytes: configuration.minimumFreeSpace.bytes).addRoutes(to: router)
        MusicController(service: service, body: body).addRoutes(to: router.group("suno"))
        ImagesController(service: service, body: body, syncWait: configuration.imageWait).addRoutes(to: router.group("v1/images"))
        TasksController(service: service).addRoutes(to: router.group("v1"))
        FilesController(service: service).addRoutes(to: router)
        addOperatorRoutes(to: router, operators: operators, settings: operatorSettings, metrics: metrics, body: body)
        return router
    }

    /// How request bodies are read, on every route.
    static func requestBody(_ configuration: ServiceConfiguration) -> JSONRequestBody {
        JSONRequestBody(maxBytes: Int(clamping: configuration.maxBodySize.bytes))
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

/// Owns what outlives the workers: the HTTP clients (shut down last) and the data directory lock.
struct SharedResources: Service, CustomStringConvertible {
    let httpClients: [HTTPClient]
    let lock: DataDirectoryLock

    var description: String { "SharedResources" }

    func run() async throws {
        try? await gracefulShutdown()
        for client in httpClients { try await client.shutdown() }
        withExtendedLifetime(lock) {}
    }
}
