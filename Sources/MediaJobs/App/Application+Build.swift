import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The application `mediajobs serve` runs; tests call it directly.
///
/// Read top to bottom, one named step each: configuration, artifact storage, stores, start-up
/// recovery, upstream, workers, router, event-loop routes. Everything with a `run()` ends up in
/// the application's one `ServiceGroup`.
public func buildApplication(
    configuration: ServiceConfiguration,
    metrics: ServiceMetrics = ServiceMetrics(),
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    try configuration.validate()
    Assembly.logExposure(configuration, logger: logger)
    // Owns this start's leases (and, with several instances, its temporary folder).
    let identity = WorkerIdentity.forThisProcess()
    logger.info("worker identity", metadata: ["worker.id": "\(identity)"])

    let (storage, storageClients) = try await Assembly.artifactStorage(configuration, identity: identity, logger: logger)
    // The stable `/files/…` links of task objects, in API answers and in webhook events alike.
    let publicURLs = PublicURLs(baseURL: configuration.effectivePublicURL)
    // Wake-ups of the workers: from this instance's requests, and through the store from other instances'.
    let webhookSignal = WorkSignal()
    let stageSignals = StageSignals()
    let stores = try await Assembly.stores(configuration, publicURLs: publicURLs, webhookSignal: webhookSignal, stageSignals: stageSignals, logger: logger)
    try await StartupRecovery(stores: stores, storage: storage, dataDirectory: configuration.dataDirectory, logger: logger).run()

    let clients = HTTPClients(configuration: configuration)
    let upstream = try Assembly.upstream(configuration, client: clients.upstream, metrics: metrics, logger: logger)
    let workers = try await Assembly.workers(
        configuration, identity: identity, stores: stores, storage: storage, publicURLs: publicURLs, upstream: upstream, clients: clients,
        webhookSignal: webhookSignal, stageSignals: stageSignals, metrics: metrics, logger: logger)

    let router = Assembly.router(configuration, tasks: workers.tasks, operators: workers.operators, metrics: metrics)
    let hotRoutes = Assembly.eventLoopRoutes(configuration, stores: stores, tasks: workers.tasks, storage: storage, metrics: metrics, logger: logger)

    // The database's service comes first, so the group stops it last, after the workers.
    let services: [any Service] = stores.services + [SharedResources(httpClients: clients.all + storageClients, closing: [upstream.shutdown])] + upstream.services + workers.services
    return Application(
        router: router,
        // `/files` bodies go out with sendfile(2), hot reads are answered on the event loop and
        // oversized bodies are dropped after their 413: the handlers sit inside the HTTP/1 pipeline.
        server: .http1(configuration: .init(additionalChannelHandlers: [
            HTTPPipelineInstaller(logger: logger, routes: hotRoutes, bodyLimit: RequestBodyLimit(maxBytes: Assembly.requestBody(configuration).maxBytes))
        ])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: Assembly.serverName),
        services: services,
        onServerRunning: { channel in
            logger.info("MediaJobs listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")", "public.url": "\(configuration.effectivePublicURL)"])
            await onServerRunning(channel)
        },
        logger: logger)
}

/// The steps of ``buildApplication(configuration:metrics:logger:onServerRunning:)``.
enum Assembly {
    /// The `Server` header of every answer, routed or not.
    static let serverName = "MediaJobs"

    /// Says at start-up who can reach the API (``ServiceConfiguration/validate()`` already refused what is not allowed).
    static func logExposure(_ configuration: ServiceConfiguration, logger: Logger) {
        if !configuration.apiKeys.isEmpty {
            logger.info("API keys required on client routes", metadata: ["keys": "\(configuration.apiKeys.count)"])
        } else if configuration.listensOnLoopbackOnly {
            logger.notice("no API keys configured: the API is open to anyone who can reach \(configuration.host) (loopback only)")
        } else {
            logger.warning("no API keys configured and --insecure-open given: the API is open to anyone who can reach \(configuration.host)")
        }
    }

    /// Where artifacts are kept: the local data directory, shared by every instance of a shared
    /// database (each downloading into its own temporary folder), or the S3 bucket of
    /// `--storage-url` (downloads still stage in the data directory), with the HTTP client its calls
    /// use. A bucket that cannot be used is logged with the reason and `/readyz` says it; the server
    /// still starts, so it recovers by itself when the bucket comes back.
    static func artifactStorage(
        _ configuration: ServiceConfiguration, identity: WorkerIdentity, logger: Logger
    ) async throws -> (any ArtifactStore, [HTTPClient]) {
        let instance = configuration.databaseURL == nil ? nil : identity
        guard let s3 = configuration.s3Storage else {
            let storage = LocalArtifactStore(dataDirectory: configuration.dataDirectory, instance: instance)
            try storage.prepare()
            return (storage, [])
        }
        // Made as the service's other clients are, on the shared event loops; its own pool keeps
        // uploads from queueing behind downloads. A refused connection fails the attempt at once:
        // the S3 client retries with its own backoff (the client's inner retries would hold each
        // attempt, and the start-up bucket check, for the whole connect timeout).
        let http = HTTPClients.make(configuration: configuration, retryConnectionEstablishment: false)
        let storage = try S3ArtifactStore(settings: s3, http: http, dataDirectory: configuration.dataDirectory, instance: instance, logger: logger)
        let endpoint = storage.client.endpoint
        try storage.prepare()
        let readiness = await storage.readiness(minimumFreeBytes: 0)
        if readiness == .ready {
            logger.info("artifacts stored in S3", metadata: ["storage": "\(s3.storageURL)", "s3.endpoint": "\(endpoint.scheme)://\(endpoint.host)"])
        } else {
            logger.error("S3 storage not usable: \(readiness)", metadata: ["storage": "\(s3.storageURL)"])
        }
        return (storage, [http])
    }

    /// The stores: PostgreSQL when `--database-url` names one, else one SQLite database in the
    /// data directory, held by this process alone (the data-directory lock is taken here). The
    /// store writes a task's webhook event in the transaction that ends it, then wakes the dispatcher.
    static func stores(
        _ configuration: ServiceConfiguration, publicURLs: PublicURLs, webhookSignal: WorkSignal, stageSignals: StageSignals, logger: Logger
    ) async throws -> Stores {
        let outbox = WebhookOutbox.taskEvents(
            endpoints: configuration.webhooks.endpoints, representations: TaskRepresentations(publicURLs: publicURLs),
            wake: { webhookSignal.signal() })
        if let url = configuration.databaseURL {
            let database = try await PostgresStoreService.connect(
                url, outbox: outbox,
                wake: { wakeUp in
                    switch wakeUp {
                    case .tasks: stageSignals.submit.signal()
                    case .webhooks: webhookSignal.signal()
                    }
                }, logger: logger)
            // No event-loop routes (the hot routes go through the router) and no single-node recovery.
            return Stores(
                tasks: database.store, webhooks: database.store, durations: database.store, eventLoop: nil, singleNode: nil,
                sharedSettings: database.store, services: [database])
        }
        let database = try SQLiteStore.openForServing(dataDirectory: configuration.dataDirectory, outbox: outbox)
        return Stores(tasks: database.tasks, webhooks: database.webhooks, durations: database.tasks, eventLoop: database.tasks, singleNode: database)
    }

    /// The provider: the configured one, or the built-in simulator in-process (demo mode).
    static func upstream(_ configuration: ServiceConfiguration, client: HTTPClient, metrics: ServiceMetrics, logger: Logger) throws -> Upstream {
        let base = LateValue<String>()
        var services: [any Service] = []
        let trustedHost: String
        if let (url, host) = try configuration.upstreamBaseURL() {
            base.set(url)
            trustedHost = host
            logger.info("upstream configured", metadata: ["upstream.url": "\(url)"])
        } else {
            trustedHost = "127.0.0.1"
            services.append(DemoSimulator.service(configuration.simulator, address: base, logger: logger))
        }
        // Submits and polls run on one event loop (`StageWorker.init(…executor:…)` says why), and
        // the polls' connections live on it.
        let calls = EventLoopTaskExecutor()
        let client = ApiTopMixClient(
            configuration: .init(
                baseURL: base, apiKey: configuration.upstreamKey?.value, callTimeout: configuration.upstreamTimeout,
                maxConcurrentCalls: configuration.upstreamConcurrency),
            httpClient: client, pollLoop: calls.eventLoop, logger: logger)
        return Upstream(
            client: MeteredUpstreamClient(client, metrics: metrics), trustedHost: trustedHost, services: services, calls: calls,
            shutdown: { await client.shutdown() })
    }

    /// The task pipeline's stage workers, the webhook dispatcher and automatic retention, and the
    /// façades the routes use.
    static func workers(
        _ configuration: ServiceConfiguration, identity: WorkerIdentity, stores: Stores, storage: any ArtifactStore, publicURLs: PublicURLs,
        upstream: Upstream, clients: HTTPClients, webhookSignal: WorkSignal, stageSignals signals: StageSignals, metrics: ServiceMetrics, logger: Logger
    ) async throws -> Workers {
        let addressPolicy = AddressPolicy(allowPrivateNetworks: configuration.allowPrivateNetworks, allowedCIDRs: configuration.allowedCIDRs)
        // Webhook targets get no trusted hosts: the provider's host being trusted for downloads
        // must not let a client aim callbacks at it.
        let webhookGuard = OutboundURLGuard(policy: addressPolicy)
        for endpoint in configuration.webhooks.endpoints {
            do {
                try await webhookGuard.check(endpoint.url)
            } catch {
                throw StartupError.configuration("--webhook-url \(endpoint.url): \(error.description)")
            }
        }
        let leaseOwner = identity.value
        let signer = try await WebhookSigning.signer(
            configuration: configuration, dataDirectory: configuration.dataDirectory, shared: stores.sharedSettings, logger: logger)
        var services: [any Service] = [
            WebhookDispatcher(
                store: stores.webhooks, httpClient: clients.webhooks, signer: signer, urlGuard: webhookGuard,
                settings: configuration.webhooks, signal: webhookSignal, leaseOwner: leaseOwner, metrics: metrics, logger: logger)
        ]

        let downloader = ArtifactDownloader(
            httpClient: clients.upstream, storage: storage,
            urlGuard: OutboundURLGuard(policy: addressPolicy, trustedHosts: [upstream.trustedHost]),
            limits: .init(maxBytes: configuration.maxArtifactSize.bytes, timeout: configuration.downloadTimeout), metrics: metrics)
        let events = TaskEvents()
        let settings = configuration.pipeline
        // Provider durations learned by every instance, kept in the store. In demo mode the
        // simulator's latency is known before any task ends: it is the prior.
        let simulatorPrior = Lognormal(median: configuration.simulator.latency.timeInterval, sigma: max(configuration.simulator.latencySpread, 0.3))
        let demoPrior: @Sendable (DurationKey) -> Lognormal = { _ in simulatorPrior }
        let isDemo = try configuration.upstreamBaseURL() == nil
        let durations = UpstreamDurations(limits: settings.pollLimits, store: stores.durations, prior: isDemo ? demoPrior : nil)
        let scheduler = PollScheduler(durations: durations)
        let replanner = PollReplanner(store: stores.durations, scheduler: scheduler, signal: signals.poll)
        services.append(UpstreamDurationSync(durations: durations, replanner: replanner, logger: logger))
        let pipeline = TaskPipeline(
            store: stores.tasks, upstream: upstream.client, downloader: downloader, settings: settings, events: events, signals: signals,
            leaseOwner: leaseOwner, scheduler: scheduler, logger: logger)
        let providerCalls = upstream.calls
        services.append(StageWorker(status: .queued, pipeline: pipeline, concurrency: settings.submitConcurrency, executor: providerCalls, logger: logger))
        services.append(StageWorker(status: .processing, pipeline: pipeline, concurrency: settings.pollConcurrency, executor: providerCalls, logger: logger))
        services.append(StageWorker(status: .downloading, pipeline: pipeline, concurrency: settings.downloadConcurrency, logger: logger))

        let pruner = Pruner(store: stores.tasks, storage: storage, logger: logger)
        if let retention = retentionService(configuration.operators, pruner: pruner, metrics: metrics, logger: logger) {
            services.append(retention)
        }
        let tasks = TaskOperations(
            store: stores.tasks, storage: storage, publicURLs: publicURLs, signals: signals, events: events, limits: configuration.submission,
            urlGuard: webhookGuard, taskTimeout: settings.taskTimeout)
        let operators = OperatorConsole(
            store: stores.tasks, publicURLs: publicURLs, dataDirectory: configuration.dataDirectory, pruner: pruner, signals: signals,
            webhooks: stores.webhooks, logger: logger)
        return Workers(services: services, tasks: tasks, operators: operators)
    }

    /// The automatic retention service, when a policy is set.
    static func retentionService(_ settings: OperatorSettings, pruner: Pruner, metrics: ServiceMetrics, logger: Logger) -> (any Service)? {
        guard let policy = settings.retention, !policy.isEmpty else { return nil }
        var retentionLogger = logger
        retentionLogger[metadataKey: "component"] = "retention"
        return RetentionService(
            pruner: pruner, policy: policy, interval: settings.retentionInterval, metrics: metrics, clock: ContinuousClock(), logger: retentionLogger)
    }

    /// How request bodies are read, on every route.
    static func requestBody(_ configuration: ServiceConfiguration) -> JSONRequestBody {
        JSONRequestBody(maxBytes: Int(clamping: configuration.maxBodySize.bytes))
    }

    /// The routes answered on the event loop (``EventLoopRoutes``), unless every request is to go through the router.
    static func eventLoopRoutes(
        _ configuration: ServiceConfiguration, stores: Stores, tasks: TaskOperations, storage: any ArtifactStore, metrics: ServiceMetrics, logger: Logger
    ) -> EventLoopRoutes? {
        guard configuration.answerHotRoutesOnEventLoop, let store = stores.eventLoop else { return nil }
        return EventLoopRoutes(
            keys: APIKeyRing(keys: configuration.apiKeys.map(\.value)), metrics: metrics, serverName: serverName,
            status: StatusFastPath(store: store, representations: tasks.representations),
            files: FilesFastPath(store: store, storage: storage),
            submit: SubmitFastPath(service: tasks, body: requestBody(configuration), store: store, logger: logger))
    }
}

/// What the stores step opened.
struct Stores: Sendable {
    /// Tasks and artifacts, operator statistics and retry, retention.
    var tasks: any OperatorTaskStore
    var webhooks: any WebhookDeliveryStore
    /// The provider durations the poll schedule learns from, and the waiting polls it re-plans.
    var durations: any UpstreamDurationStore & WaitingPollStore
    /// The store as the event-loop routes reach it; nil when it has no synchronous reads (PostgreSQL).
    var eventLoop: (any EventLoopStoreAccess)?
    /// The single-node SQLite database, for the recovery only a single node may do at start; nil with PostgreSQL.
    var singleNode: SQLiteStore?
    /// Where values every instance must share are kept (PostgreSQL); nil for a single node, which keeps them in its data directory.
    var sharedSettings: (any SharedSettingStore)?
    /// What must run as long as the stores are used (PostgreSQL's connection pool).
    var services: [any Service] = []
}

/// What the upstream step built.
struct Upstream: Sendable {
    var client: any UpstreamClient
    /// Artifact URLs on this host are fetched even when it is a private address: it is the provider's.
    var trustedHost: String
    /// The in-process simulator in demo mode.
    var services: [any Service]
    /// Where the submit and poll workers run their steps.
    var calls: EventLoopTaskExecutor
    /// Closes the client's own connections.
    var shutdown: @Sendable () async -> Void
}

/// What the workers step built.
struct Workers: Sendable {
    var services: [any Service]
    var tasks: TaskOperations
    var operators: OperatorConsole
}
