import ArgumentParser
import Foundation
import MediaJobs

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API and the background workers.",
        discussion: "With no --upstream-url the built-in simulator plays the provider (demo mode): no key and no network needed."
    )

    @Option(help: "Address to listen on. [env: MEDIAJOBS_HOST] (default: 127.0.0.1)") var host: String?
    @Option(help: "Port to listen on. [env: MEDIAJOBS_PORT] (default: 8080)") var port: String?
    @Option(help: "Where the database and media live. [env: MEDIAJOBS_DATA_DIR] (default: ./storage)") var dataDir: String?
    @Option(help: "Base URL of the ApiTopMix-compatible provider; omit for demo mode. [env: MEDIAJOBS_UPSTREAM_URL]") var upstreamURL: String?
    @Option(help: "API key sent to the provider as a Bearer token. [env: MEDIAJOBS_UPSTREAM_KEY]") var upstreamKey: String?
    @Option(help: "Base of the file URLs handed to clients. [env: MEDIAJOBS_PUBLIC_URL] (default: http://<host>:<port>)") var publicURL: String?
    @Flag(help: "Allow artifact and webhook URLs on private, loopback and link-local addresses. [env: MEDIAJOBS_ALLOW_PRIVATE_NETWORKS=1]")
    var allowPrivateNetworks = false
    @Option(help: "An address range (CIDR) that may be fetched even though private; repeatable. [env: MEDIAJOBS_ALLOW_CIDRS, comma-separated]")
    var allowCIDR: [String] = []
    @Option(help: "Largest request body accepted. [env: MEDIAJOBS_MAX_BODY_SIZE] (default: 1MB)") var maxBodySize: String?
    @Option(help: "Largest artifact downloaded from the provider. [env: MEDIAJOBS_MAX_ARTIFACT_SIZE] (default: 512MiB)") var maxArtifactSize: String?
    @Option(help: "Longest one artifact download may take. [env: MEDIAJOBS_DOWNLOAD_TIMEOUT] (default: 10m)") var downloadTimeout: String?
    @Option(help: "How long POST /v1/images/generations waits before answering 202. [env: MEDIAJOBS_IMAGE_WAIT] (default: 60s)") var imageWait: String?
    @Option(help: "First wait between polls of one task; grows ×1.5 per poll. [env: MEDIAJOBS_POLL_INTERVAL] (default: 2s)") var pollInterval: String?
    @Option(help: "Longest wait between polls of one task. [env: MEDIAJOBS_MAX_POLL_INTERVAL] (default: 30s)") var maxPollInterval: String?
    @Option(help: "A task that has not finished after this fails. [env: MEDIAJOBS_TASK_TIMEOUT] (default: 30m)") var taskTimeout: String?
    @Option(help: "Failed tries of one step before the task fails. [env: MEDIAJOBS_MAX_ATTEMPTS] (default: 8)") var maxAttempts: String?
    @Option(help: "Calls in flight at once to the provider. [env: MEDIAJOBS_UPSTREAM_CONCURRENCY] (default: 16)") var upstreamConcurrency: String?
    @Option(help: "Deadline of one call to the provider. [env: MEDIAJOBS_UPSTREAM_TIMEOUT] (default: 30s)") var upstreamTimeout: String?
    @Option(help: "Demo mode: time the simulator takes per task. [env: MEDIAJOBS_SIMULATOR_LATENCY] (default: 3s)") var simulatorLatency: String?
    @Option(help: "Demo mode: fraction (0-1) of simulated tasks that fail. [env: MEDIAJOBS_SIMULATOR_FAILURE_RATE] (default: 0)")
    var simulatorFailureRate: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical. [env: MEDIAJOBS_LOG_LEVEL] (default: info)") var logLevel: String?

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel)
        let configuration = try makeConfiguration()
        let app = try await MediaJobsService.makeApplication(configuration: configuration, logger: logger)
        try await app.runService()
    }

    func makeConfiguration() throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.host = Setting.text(host, "MEDIAJOBS_HOST") ?? configuration.host
        configuration.port = try Setting.parse(port, "MEDIAJOBS_PORT", option: "--port", default: configuration.port) { Int($0).flatMap { (0...65535).contains($0) ? $0 : nil } }
        configuration.dataDirectory = URL(fileURLWithPath: Setting.text(dataDir, "MEDIAJOBS_DATA_DIR") ?? "storage", isDirectory: true)
        configuration.upstreamURL = Setting.text(upstreamURL, "MEDIAJOBS_UPSTREAM_URL")
        configuration.upstreamKey = Setting.text(upstreamKey, "MEDIAJOBS_UPSTREAM_KEY")
        configuration.publicURL = Setting.text(publicURL, "MEDIAJOBS_PUBLIC_URL")
        configuration.allowPrivateNetworks = Setting.flag(allowPrivateNetworks, "MEDIAJOBS_ALLOW_PRIVATE_NETWORKS")
        let cidrs = allowCIDR.isEmpty ? (Setting.text(nil, "MEDIAJOBS_ALLOW_CIDRS")?.split(separator: ",").map(String.init) ?? []) : allowCIDR
        configuration.allowedCIDRs = try cidrs.map { text in
            guard let cidr = CIDR(parsing: text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("invalid CIDR '\(text)' for --allow-cidr") }
            return cidr
        }
        configuration.maxBodySize = try Setting.parse(maxBodySize, "MEDIAJOBS_MAX_BODY_SIZE", option: "--max-body-size", default: configuration.maxBodySize) { ByteCount(parsing: $0) }
        configuration.maxArtifactSize = try Setting.parse(maxArtifactSize, "MEDIAJOBS_MAX_ARTIFACT_SIZE", option: "--max-artifact-size", default: configuration.maxArtifactSize) { ByteCount(parsing: $0) }
        configuration.downloadTimeout = try Setting.duration(downloadTimeout, "MEDIAJOBS_DOWNLOAD_TIMEOUT", option: "--download-timeout", default: configuration.downloadTimeout)
        configuration.imageWait = try Setting.duration(imageWait, "MEDIAJOBS_IMAGE_WAIT", option: "--image-wait", default: configuration.imageWait)
        configuration.pipeline.pollInterval = try Setting.duration(pollInterval, "MEDIAJOBS_POLL_INTERVAL", option: "--poll-interval", default: configuration.pipeline.pollInterval)
        configuration.pipeline.maxPollInterval = try Setting.duration(maxPollInterval, "MEDIAJOBS_MAX_POLL_INTERVAL", option: "--max-poll-interval", default: configuration.pipeline.maxPollInterval)
        configuration.pipeline.taskTimeout = try Setting.duration(taskTimeout, "MEDIAJOBS_TASK_TIMEOUT", option: "--task-timeout", default: configuration.pipeline.taskTimeout)
        configuration.pipeline.maxAttempts = try Setting.parse(maxAttempts, "MEDIAJOBS_MAX_ATTEMPTS", option: "--max-attempts", default: configuration.pipeline.maxAttempts) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.upstreamConcurrency = try Setting.parse(upstreamConcurrency, "MEDIAJOBS_UPSTREAM_CONCURRENCY", option: "--upstream-concurrency", default: configuration.upstreamConcurrency) { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
        configuration.upstreamTimeout = try Setting.duration(upstreamTimeout, "MEDIAJOBS_UPSTREAM_TIMEOUT", option: "--upstream-timeout", default: configuration.upstreamTimeout)
        configuration.simulator.latency = try Setting.duration(simulatorLatency, "MEDIAJOBS_SIMULATOR_LATENCY", option: "--simulator-latency", default: configuration.simulator.latency)
        configuration.simulator.failureRate = try Setting.rate(simulatorFailureRate, "MEDIAJOBS_SIMULATOR_FAILURE_RATE", option: "--simulator-failure-rate")
        return configuration
    }
}
