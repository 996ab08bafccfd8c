import Foundation

/// Everything `mediajobs serve` can be told; the CLI fills it from flags and `MEDIAJOBS_*`
/// variables (README, "Configuration"), and ``validate()`` checks it.
public struct ServiceConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var dataDirectory = URL(fileURLWithPath: "storage", isDirectory: true)
    /// PostgreSQL instead of the SQLite database in the data directory (`--database-url`).
    public var databaseURL: PostgresDatabaseURL?
    /// Artifacts in an S3-compatible bucket instead of the data directory (`--storage-url s3://…`).
    public var s3Storage: S3StorageSettings?
    /// The provider; nil runs the built-in simulator in-process (demo mode).
    public var upstreamURL: String?
    public var upstreamKey: Redacted?
    /// Base of file URLs handed to clients; defaults to `http://<host>:<port>`.
    public var publicURL: String?
    /// Client API keys; empty runs the API open, which is allowed on loopback only.
    public var apiKeys: [Redacted] = []
    /// Lets an open (keyless) server listen on a non-loopback address.
    public var insecureOpen = false
    /// Lets artifact and webhook URLs point at private, loopback and link-local addresses.
    public var allowPrivateNetworks = false
    /// Extra address ranges MediaJobs may fetch from even when private.
    public var allowedCIDRs: [CIDR] = []
    public var maxBodySize = ByteCount(bytes: 1_000_000)
    public var maxArtifactSize = ByteCount(bytes: 512 * 1024 * 1024)
    public var downloadTimeout: Duration = .seconds(600)
    /// `/readyz` reports storage not ready below this much free space.
    public var minimumFreeSpace = ByteCount(bytes: 64 * 1024 * 1024)
    /// How long `POST /v1/images/generations` waits before answering 202 with the task.
    public var imageWait: Duration = .seconds(60)
    public var upstreamConcurrency = 16
    public var upstreamTimeout: Duration = .seconds(30)
    public var pipeline = PipelineSettings()
    public var submission = SubmissionLimits()
    /// Webhook endpoints, retry schedule, timeouts.
    public var webhooks = WebhookSettings()
    /// `whsec_…` signing secret; when nil one is generated on first start and kept in the data directory.
    public var webhookSecret: Redacted?
    /// Secrets being rotated out: events are signed with these too until they are removed.
    public var webhookPreviousSecrets: [Redacted] = []
    /// Settings of the in-process simulator in demo mode.
    public var simulator = SimulatorSettings()
    /// The admin key and the automatic retention policy.
    public var operators = OperatorSettings()
    /// Answer status reads, plain `/files` requests and plain music submits on the event loop
    /// instead of through the router (``EventLoopRoutes``: the same answers, less CPU and latency;
    /// BENCHMARKS.md, figures 1, 2 and 4). Off, every request goes through the router: tests cover
    /// both paths that way.
    public var answerHotRoutesOnEventLoop = true

    public init() {}

    /// The base URL of file links.
    public var effectivePublicURL: String {
        if let publicURL { return publicURL }
        let visibleHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "http://\(visibleHost.contains(":") ? "[\(visibleHost)]" : visibleHost):\(port)"
    }
}
