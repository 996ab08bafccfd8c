import ArgumentParser
import Foundation
import MediaJobs
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and the background workers.",
        discussion: "With no --upstream-url the built-in simulator plays the provider (demo mode): no key and no network needed."
    )

    @Option(help: "Address to listen on. [env: MEDIAJOBS_HOST] (default: 127.0.0.1)") var host: String?
    @Option(help: "Port to listen on. [env: MEDIAJOBS_PORT] (default: 8080)") var port: String?
    @Option(help: "Where the database and media live. [env: MEDIAJOBS_DATA_DIR] (default: ./storage)") var dataDir: String?
    @Option(help: "PostgreSQL instead of SQLite: postgres://user:password@host:port/database. [env: MEDIAJOBS_DATABASE_URL]")
    var databaseURL: String?
    @Option(help: "Keep artifacts in an S3-compatible bucket: s3://bucket[/prefix]; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN). [env: MEDIAJOBS_STORAGE_URL] (default: the data dir)")
    var storageURL: String?
    @Option(help: "S3-compatible server, e.g. http://127.0.0.1:9000 (path-style addressing); omit for AWS. [env: MEDIAJOBS_S3_ENDPOINT]")
    var s3Endpoint: String?
    @Option(help: "Region requests are signed for. [env: MEDIAJOBS_S3_REGION, else AWS_REGION] (default: us-east-1)") var s3Region: String?
    @Option(help: "How /files hands out objects: redirect (307 to a presigned URL) or proxy (streamed through this server, Range passed on). [env: MEDIAJOBS_S3_SERVE] (default: redirect)") var s3Serve: String?
    @Option(help: "How long a presigned /files redirect stays valid. [env: MEDIAJOBS_S3_PRESIGN_TTL] (default: 15m)") var s3PresignTTL: String?
    @Option(help: "Client API keys, comma-separated; clients send 'Authorization: Bearer <key>' and see only their own tasks. [env: MEDIAJOBS_API_KEYS]")
    var apiKeys: String?
    @Option(help: "A file of client API keys, one per line ('#' comments). [env: MEDIAJOBS_API_KEYS_FILE]") var apiKeysFile: String?
    @Flag(help: "Allow listening on a non-loopback address with no API keys (anyone who reaches it can use it). [env: MEDIAJOBS_INSECURE_OPEN=1]")
    var insecureOpen = false
    @Option(help: "Tasks one API key may have in flight; more get 429. [env: MEDIAJOBS_MAX_ACTIVE_TASKS_PER_KEY] (default: 1000)")
    var maxActiveTasksPerKey: String?
    @Option(help: "Base URL of the ApiTopMix-compatible provider; omit for demo mode. [env: MEDIAJOBS_UPSTREAM_URL]") var upstreamURL: String?
    @Option(help: "API key sent to the provider as a Bearer token. [env: MEDIAJOBS_UPSTREAM_KEY]") var upstreamKey: String?
    @Option(help: "Base of the file URLs handed to clients. [env: MEDIAJOBS_PUBLIC_URL] (default: http://<host>:<port>)") var publicURL: String?
    @Flag(help: "Allow artifact and webhook URLs on private, loopback and link-local addresses. [env: MEDIAJOBS_ALLOW_PRIVATE_NETWORKS=1]")
    var allowPrivateNetworks = false
    @Option(help: "An address range (CIDR) that may be fetched even though private; repeatable. [env: MEDIAJOBS_ALLOW_CIDRS, comma-separated]")
    var allowCIDR: [String] = []
    @Option(help: "Largest request body accepted. [env: MEDIAJOBS_MAX_BODY_SIZE] (default: 1MB)") var maxBodySize: String?
    @Option(help: "Largest artifact downloaded from the provider. [env: MEDIAJOBS_MAX_ARTIFACT_SIZE] (default: 512MiB)") var maxArtifactSize: String?
    @Option(help: "/readyz reports storage not ready below this much free space. [env: MEDIAJOBS_MIN_FREE_SPACE] (default: 64MiB)")
    var minFreeSpace: String?
    @Option(help: "Longest one artifact download may take. [env: MEDIAJOBS_DOWNLOAD_TIMEOUT] (default: 10m)") var downloadTimeout: String?
    @Option(help: "How long POST /v1/images/generations waits before answering 202. [env: MEDIAJOBS_IMAGE_WAIT] (default: 60s)") var imageWait: String?
    @Option(help: "Shortest wait between two polls of one task; the learned schedule decides above it. [env: MEDIAJOBS_POLL_INTERVAL] (default: 1s)") var pollInterval: String?
    @Option(help: "Longest wait between two polls of one task. [env: MEDIAJOBS_MAX_POLL_INTERVAL] (default: 30s)") var maxPollInterval: String?
    @Option(help: "A task that has not finished after this fails. [env: MEDIAJOBS_TASK_TIMEOUT] (default: 30m)") var taskTimeout: String?
    @Option(help: "Failed tries of one step before the task fails. [env: MEDIAJOBS_MAX_ATTEMPTS] (default: 8)") var maxAttempts: String?
    @Option(help: "How long a claimed task (or webhook delivery) stays reserved for its instance; renewed while a step runs, so it bounds how long a dead instance's work waits. [env: MEDIAJOBS_LEASE_DURATION] (default: 60s)")
    var leaseDuration: String?
    @Option(help: "Calls in flight at once to the provider. [env: MEDIAJOBS_UPSTREAM_CONCURRENCY] (default: 16)") var upstreamConcurrency: String?
    @Option(help: "Deadline of one call to the provider. [env: MEDIAJOBS_UPSTREAM_TIMEOUT] (default: 30s)") var upstreamTimeout: String?
    @Option(help: "Demo mode: time the simulator takes per task (the median with a spread). [env: MEDIAJOBS_SIMULATOR_LATENCY] (default: 3s)") var simulatorLatency: String?
    @Option(help: "Demo mode: spread of the simulated task durations, σ (0-2) of a lognormal around --simulator-latency, drawn from --simulator-seed. [env: MEDIAJOBS_SIMULATOR_LATENCY_SPREAD] (default: 0, every task exactly the latency)")
    var simulatorLatencySpread: String?
    @Option(help: "Demo mode: fraction (0-1) of simulated tasks that fail. [env: MEDIAJOBS_SIMULATOR_FAILURE_RATE] (default: 0)")
    var simulatorFailureRate: String?
    @Option(help: "Demo mode: fraction (0-1) of simulator calls answered 503 with Retry-After: 1. [env: MEDIAJOBS_SIMULATOR_ERROR_RATE] (default: 0)")
    var simulatorErrorRate: String?
    @Option(help: "Demo mode: seed of the simulator's failure, error and duration draws, so a run repeats. [env: MEDIAJOBS_SIMULATOR_SEED] (default: random)")
    var simulatorSeed: String?
    @Option(help: "Demo mode: the first N simulator calls of each kind answer 503, e.g. submit=2,fetch=1,image=1,media=1. [env: MEDIAJOBS_SIMULATOR_FAIL_FIRST]")
    var simulatorFailFirst: String?
    @Option(help: "Demo mode: the first N simulated tasks end failed. [env: MEDIAJOBS_SIMULATOR_FAIL_FIRST_TASKS] (default: 0)")
    var simulatorFailFirstTasks: String?
    @Option(help: "Send every task's events here too; repeatable. Filter with a fragment: URL#task.failed+task.canceled. [env: MEDIAJOBS_WEBHOOK_URLS, comma-separated]")
    var webhookURL: [String] = []
    @Option(help: "whsec_… secret that signs webhooks; generated and kept in the data dir (with --database-url: in the database) when unset. [env: MEDIAJOBS_WEBHOOK_SECRET]")
    var webhookSecret: String?
    @Option(help: "A secret being rotated out, still signed with; repeatable. [env: MEDIAJOBS_WEBHOOK_PREVIOUS_SECRETS, comma-separated]")
    var webhookPreviousSecret: [String] = []
    @Option(help: "Waits before each delivery attempt, e.g. 0s,1s,2s. [env: MEDIAJOBS_WEBHOOK_RETRY_SCHEDULE] (default: 0s,5s,5m,30m,2h,5h,10h,14h,20h,24h)")
    var webhookRetrySchedule: String?
    @Option(help: "Deadline of one webhook attempt. [env: MEDIAJOBS_WEBHOOK_TIMEOUT] (default: 15s)") var webhookTimeout: String?
    @Option(help: "Webhook deliveries in flight at once. [env: MEDIAJOBS_WEBHOOK_CONCURRENCY] (default: 16)") var webhookConcurrency: String?
    @Option(help: "On SIGTERM/SIGINT, how long work in flight may finish before it is handed back. [env: MEDIAJOBS_SHUTDOWN_GRACE] (default: 5s)")
    var shutdownGrace: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical. [env: MEDIAJOBS_LOG_LEVEL] (default: info)") var logLevel: String?
    @Option(help: "text, or json for one JSON object per line (log shippers). [env: MEDIAJOBS_LOG_FORMAT] (default: text)") var logFormat: String?
    @Option(help: "Bearer key that unlocks /admin/*; without it the admin API answers 404. [env: MEDIAJOBS_ADMIN_KEY]") var adminKey: String?
    @Flag(help: "Answer every request through the router, also the status reads, file requests and music submits otherwise answered on the event loop (for comparisons and debugging). [env: MEDIAJOBS_ROUTE_ALL_REQUESTS=1]")
    var routeAllRequests = false
    @Option(help: "Automatic retention: prune files stored longer ago than this, e.g. 30d. [env: MEDIAJOBS_RETENTION_MAX_AGE]")
    var retentionMaxAge: String?
    @Option(help: "Automatic retention: prune the oldest files while the stored ones take more than this, e.g. 50GB. [env: MEDIAJOBS_RETENTION_MAX_TOTAL_SIZE]")
    var retentionMaxTotalSize: String?
    @Option(help: "Automatic retention: delete records and files of tasks finished longer ago than this, e.g. 180d. [env: MEDIAJOBS_RETENTION_DELETE_TASKS_OLDER_THAN]")
    var retentionDeleteTasksOlderThan: String?
    @Option(help: "Time between automatic prunes; the first runs at start. [env: MEDIAJOBS_RETENTION_INTERVAL] (default: 1h)")
    var retentionInterval: String?
    @Option(help: "The dashboard (/dashboard, with --admin-key) signs a browser out after this long without a request. [env: MEDIAJOBS_DASHBOARD_SESSION_IDLE] (default: 30m)")
    var dashboardSessionIdle: String?

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel, format: logFormat)
        // The one process-wide metrics factory: anything that speaks swift-metrics lands on the same /metrics page.
        let metrics = ServiceMetrics(registry: PrometheusCollectorRegistry())
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        let configuration = try makeConfiguration()
        let app = try await buildApplication(configuration: configuration, metrics: metrics, logger: logger)
        try await app.runService()
    }

    func makeConfiguration() throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.host = Setting.text(host, "MEDIAJOBS_HOST") ?? configuration.host
        configuration.port = try Setting.parse(port, "MEDIAJOBS_PORT", option: "--port", default: configuration.port) { Int($0).flatMap { (0...65535).contains($0) ? $0 : nil } }
        configuration.dataDirectory = URL(fileURLWithPath: Setting.text(dataDir, "MEDIAJOBS_DATA_DIR") ?? "storage", isDirectory: true)
        if let url = Setting.text(databaseURL, "MEDIAJOBS_DATABASE_URL") {
            do {
                configuration.databaseURL = try PostgresDatabaseURL(url)
            } catch let error as PostgresDatabaseURL.Invalid {
                // The message never repeats the URL: it may hold a password.
                throw ValidationError("--database-url: \(error.description)")
            }
        }
        configuration.s3Storage = try S3StorageSettings.fromCommandLine(
            storageURL: storageURL, endpoint: s3Endpoint, region: s3Region, serve: s3Serve, presignTTL: s3PresignTTL)
        configuration.apiKeys = (Setting.text(apiKeys, "MEDIAJOBS_API_KEYS") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(Redacted.init)
        if let file = Setting.text(apiKeysFile, "MEDIAJOBS_API_KEYS_FILE") {
            do {
                configuration.apiKeys += try APIKeyRing.keys(fromFile: file).map(Redacted.init)
            } catch {
                throw ValidationError("cannot read --api-keys-file \(file): \(error.localizedDescription)")
            }
        }
        configuration.insecureOpen = Setting.flag(insecureOpen, "MEDIAJOBS_INSECURE_OPEN")
        configuration.submission.maxActiveTasksPerKey = try Setting.parse(
            maxActiveTasksPerKey, "MEDIAJOBS_MAX_ACTIVE_TASKS_PER_KEY", option: "--max-active-tasks-per-key", default: configuration.submission.maxActiveTasksPerKey
        ) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.upstreamURL = Setting.text(upstreamURL, "MEDIAJOBS_UPSTREAM_URL")
        configuration.upstreamKey = Setting.text(upstreamKey, "MEDIAJOBS_UPSTREAM_KEY").map(Redacted.init)
        configuration.publicURL = Setting.text(publicURL, "MEDIAJOBS_PUBLIC_URL")
        configuration.allowPrivateNetworks = Setting.flag(allowPrivateNetworks, "MEDIAJOBS_ALLOW_PRIVATE_NETWORKS")
        let cidrs = allowCIDR.isEmpty ? (Setting.text(nil, "MEDIAJOBS_ALLOW_CIDRS")?.split(separator: ",").map(String.init) ?? []) : allowCIDR
        configuration.allowedCIDRs = try cidrs.map { text in
            guard let cidr = CIDR(parsing: text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("invalid CIDR '\(text)' for --allow-cidr") }
            return cidr
        }
        configuration.maxBodySize = try Setting.parse(maxBodySize, "MEDIAJOBS_MAX_BODY_SIZE", option: "--max-body-size", default: configuration.maxBodySize) { ByteCount(parsing: $0) }
        configuration.maxArtifactSize = try Setting.parse(maxArtifactSize, "MEDIAJOBS_MAX_ARTIFACT_SIZE", option: "--max-artifact-size", default: configuration.maxArtifactSize) { ByteCount(parsing: $0) }
        configuration.minimumFreeSpace = try Setting.parse(minFreeSpace, "MEDIAJOBS_MIN_FREE_SPACE", option: "--min-free-space", default: configuration.minimumFreeSpace) { ByteCount(parsing: $0) }
        configuration.downloadTimeout = try Setting.duration(downloadTimeout, "MEDIAJOBS_DOWNLOAD_TIMEOUT", option: "--download-timeout", default: configuration.downloadTimeout)
        configuration.imageWait = try Setting.duration(imageWait, "MEDIAJOBS_IMAGE_WAIT", option: "--image-wait", default: configuration.imageWait)
        configuration.pipeline.pollInterval = try Setting.duration(pollInterval, "MEDIAJOBS_POLL_INTERVAL", option: "--poll-interval", default: configuration.pipeline.pollInterval)
        configuration.pipeline.maxPollInterval = try Setting.duration(maxPollInterval, "MEDIAJOBS_MAX_POLL_INTERVAL", option: "--max-poll-interval", default: configuration.pipeline.maxPollInterval)
        configuration.pipeline.taskTimeout = try Setting.duration(taskTimeout, "MEDIAJOBS_TASK_TIMEOUT", option: "--task-timeout", default: configuration.pipeline.taskTimeout)
        configuration.pipeline.maxAttempts = try Setting.parse(maxAttempts, "MEDIAJOBS_MAX_ATTEMPTS", option: "--max-attempts", default: configuration.pipeline.maxAttempts) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.pipeline.lease = try Setting.duration(leaseDuration, "MEDIAJOBS_LEASE_DURATION", option: "--lease-duration", default: configuration.pipeline.lease)
        configuration.upstreamConcurrency = try Setting.parse(upstreamConcurrency, "MEDIAJOBS_UPSTREAM_CONCURRENCY", option: "--upstream-concurrency", default: configuration.upstreamConcurrency) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.upstreamTimeout = try Setting.duration(upstreamTimeout, "MEDIAJOBS_UPSTREAM_TIMEOUT", option: "--upstream-timeout", default: configuration.upstreamTimeout)
        configuration.simulator.latency = try Setting.duration(simulatorLatency, "MEDIAJOBS_SIMULATOR_LATENCY", option: "--simulator-latency", default: configuration.simulator.latency)
        configuration.simulator.latencySpread = try Setting.latencySpread(simulatorLatencySpread, "MEDIAJOBS_SIMULATOR_LATENCY_SPREAD", option: "--simulator-latency-spread")
        configuration.simulator.failureRate = try Setting.rate(simulatorFailureRate, "MEDIAJOBS_SIMULATOR_FAILURE_RATE", option: "--simulator-failure-rate")
        configuration.simulator.errorRate = try Setting.rate(simulatorErrorRate, "MEDIAJOBS_SIMULATOR_ERROR_RATE", option: "--simulator-error-rate")
        configuration.simulator.seed = try Setting.parse(simulatorSeed, "MEDIAJOBS_SIMULATOR_SEED", option: "--simulator-seed", default: nil) { UInt64($0).map { Optional($0) } }
        configuration.simulator.failFirst = try Setting.failFirst(simulatorFailFirst, "MEDIAJOBS_SIMULATOR_FAIL_FIRST", option: "--simulator-fail-first")
        configuration.simulator.failFirstTasks = try Setting.parse(
            simulatorFailFirstTasks, "MEDIAJOBS_SIMULATOR_FAIL_FIRST_TASKS", option: "--simulator-fail-first-tasks", default: 0) { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
        configuration.pipeline.shutdownGrace = try Setting.duration(shutdownGrace, "MEDIAJOBS_SHUTDOWN_GRACE", option: "--shutdown-grace", default: configuration.pipeline.shutdownGrace)
        configuration.webhooks.shutdownGrace = configuration.pipeline.shutdownGrace
        configuration.answerHotRoutesOnEventLoop = !Setting.flag(routeAllRequests, "MEDIAJOBS_ROUTE_ALL_REQUESTS")
        let webhookURLs = webhookURL.isEmpty ? Setting.list("MEDIAJOBS_WEBHOOK_URLS") : webhookURL
        configuration.webhooks.endpoints = try webhookURLs.map { text in
            guard let endpoint = WebhookEndpoint(parsing: text) else {
                throw ValidationError("invalid --webhook-url '\(text)': expected URL or URL#task.completed+task.failed")
            }
            return endpoint
        }
        configuration.webhookSecret = Setting.text(webhookSecret, "MEDIAJOBS_WEBHOOK_SECRET").map(Redacted.init)
        configuration.webhookPreviousSecrets = (webhookPreviousSecret.isEmpty ? Setting.list("MEDIAJOBS_WEBHOOK_PREVIOUS_SECRETS") : webhookPreviousSecret)
            .map(Redacted.init)
        configuration.webhooks.retrySchedule = try Setting.parse(
            webhookRetrySchedule, "MEDIAJOBS_WEBHOOK_RETRY_SCHEDULE", option: "--webhook-retry-schedule", default: configuration.webhooks.retrySchedule
        ) { DurationList.parse($0).flatMap { $0.isEmpty ? nil : $0 } }
        configuration.webhooks.timeout = try Setting.duration(webhookTimeout, "MEDIAJOBS_WEBHOOK_TIMEOUT", option: "--webhook-timeout", default: configuration.webhooks.timeout)
        // A delivery's lease is not renewed during its attempt: it outlasts the attempt's deadline.
        configuration.webhooks.lease = max(configuration.pipeline.lease, configuration.webhooks.timeout + .seconds(5))
        configuration.webhooks.concurrency = try Setting.parse(webhookConcurrency, "MEDIAJOBS_WEBHOOK_CONCURRENCY", option: "--webhook-concurrency", default: configuration.webhooks.concurrency) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.operators = try makeOperatorSettings()
        return configuration
    }

    func makeOperatorSettings() throws -> OperatorSettings {
        var settings = OperatorSettings()
        settings.adminKey = Setting.text(adminKey, "MEDIAJOBS_ADMIN_KEY")
        do {
            let policy = try PrunePolicy(
                olderThan: Setting.text(retentionMaxAge, "MEDIAJOBS_RETENTION_MAX_AGE"),
                maxTotalSize: Setting.text(retentionMaxTotalSize, "MEDIAJOBS_RETENTION_MAX_TOTAL_SIZE"), kind: nil,
                deleteTasksOlderThan: Setting.text(retentionDeleteTasksOlderThan, "MEDIAJOBS_RETENTION_DELETE_TASKS_OLDER_THAN"))
            settings.retention = policy.isEmpty ? nil : policy
        } catch {
            guard case .invalidOption(let option, let message) = error else { throw ValidationError(error.description) }
            let flags: [PrunePolicy.Option: String] = [
                .olderThan: "--retention-max-age", .maxTotalSize: "--retention-max-total-size",
                .deleteTasksOlderThan: "--retention-delete-tasks-older-than",
            ]
            throw ValidationError("\(flags[option] ?? option.flag) \(message)")
        }
        settings.retentionInterval = try Setting.parse(
            retentionInterval, "MEDIAJOBS_RETENTION_INTERVAL", option: "--retention-interval", default: settings.retentionInterval
        ) { Duration(parsing: $0).flatMap { $0 > .zero ? $0 : nil } }
        settings.dashboardSessionIdle = try Setting.parse(
            dashboardSessionIdle, "MEDIAJOBS_DASHBOARD_SESSION_IDLE", option: "--dashboard-session-idle", default: settings.dashboardSessionIdle
        ) { Duration(parsing: $0).flatMap { $0 > .zero ? $0 : nil } }
        return settings
    }
}
