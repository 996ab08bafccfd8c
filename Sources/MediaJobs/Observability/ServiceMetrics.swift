import Foundation
import Prometheus
import Synchronization

/// The service's own metrics, exported at `GET /metrics` in the Prometheus text format.
///
/// Each instance owns (or is handed) a `PrometheusCollectorRegistry`, so tests can run many
/// services in one process without the process-global `MetricsSystem`; `mediajobs serve`
/// bootstraps `MetricsSystem` with a factory over the same registry, so libraries that speak
/// swift-metrics end up on the same page. Counters count from the start of the process;
/// gauges about the database are set from a fresh read on every scrape (``observe(_:)``).
public struct ServiceMetrics: Sendable {
    /// Where every metric lives; `GET /metrics` emits it.
    public let registry: PrometheusCollectorRegistry
    /// The HTTP series met so far, by label values.
    private let httpSeries = Series<HTTPKey, (Counter, DurationHistogram)>()
    /// The provider-call series met so far: calls, their durations, and errors when not 2xx.
    private let upstreamSeries = Series<UpstreamKey, (Counter, DurationHistogram, Counter?)>()

    /// Uses `registry`, or a fresh one.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    // MARK: HTTP

    /// Latency buckets of HTTP requests: from quick status reads to synchronous image waits.
    static let httpBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60),
    ]

    /// One answered request; `route` is the matched route template (e.g. `/v1/tasks/{id}`), never the raw path.
    public func httpRequest(method: String, route: String, status: Int, duration: Duration) {
        let (requests, durations) = httpSeries.metrics(for: HTTPKey(method: method, route: route, status: status)) { key in
            let labels = [("method", key.method), ("route", key.route), ("status", String(key.status))]
            return (
                registry.makeCounter(descriptor: Self.httpRequests.descriptor, labels: labels),
                registry.makeDurationHistogram(descriptor: Self.httpDuration.descriptor, labels: labels, buckets: Self.httpBuckets)
            )
        }
        requests.increment()
        durations.record(duration)
    }

    struct HTTPKey: Hashable, Sendable {
        var method: String
        var route: String
        var status: Int
    }

    struct UpstreamKey: Hashable, Sendable {
        var operation: String
        var kind: TaskKind
        var status: String
    }

    /// The metrics of each label set met so far.
    ///
    /// The registry's own look-up checks the name and help text and builds a label key on every
    /// call: 5 % of the server's CPU per status read (`bench/run --only reads --profile`), 1 % per
    /// poll. Label values are templates and status classes, so there are few series and the map
    /// stays small.
    private final class Series<Key: Hashable & Sendable, Metrics: Sendable>: Sendable {
        private let known = Mutex<[Key: Metrics]>([:])

        func metrics(for key: Key, making make: (Key) -> Metrics) -> Metrics {
            if let found = known.withLock({ $0[key] }) { return found }
            // Made outside the lock; the registry returns the same metric for the same labels.
            let made = make(key)
            known.withLock { $0[key] = made }
            return made
        }
    }

    // MARK: Upstream and downloads

    static let upstreamBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(180),
    ]

    /// One call to the provider. `status` is the HTTP status class the call ended with (`2xx`, `429`, `503`, …),
    /// or `transport` / `invalid_response` when there was no usable answer.
    public func upstreamCall(operation: String, kind: TaskKind, status: String, duration: Duration) {
        let (calls, durations, errors) = upstreamSeries.metrics(for: UpstreamKey(operation: operation, kind: kind, status: status)) { key in
            let labels = [("operation", key.operation), ("kind", key.kind.rawValue), ("status", key.status)]
            return (
                registry.makeCounter(descriptor: Self.upstreamCalls.descriptor, labels: labels),
                registry.makeDurationHistogram(
                    descriptor: Self.upstreamDuration.descriptor, labels: [("operation", key.operation), ("kind", key.kind.rawValue)],
                    buckets: Self.upstreamBuckets),
                key.status.hasPrefix("2") ? nil : registry.makeCounter(descriptor: Self.upstreamErrors.descriptor, labels: labels)
            )
        }
        calls.increment()
        durations.record(duration)
        errors?.increment()
    }

    /// An artifact downloaded from the provider and stored.
    public func artifactDownloaded(kind: TaskKind, bytes: Int64) {
        let labels = [("kind", kind.rawValue)]
        registry.makeCounter(descriptor: Self.downloadBytes.descriptor, labels: labels).increment(by: Int64(max(0, bytes)))
        registry.makeCounter(descriptor: Self.downloadFiles.descriptor, labels: labels).increment()
    }

    // MARK: Webhooks

    /// How one webhook delivery attempt ended.
    public enum WebhookOutcome: String, Sendable, CaseIterable {
        /// The endpoint answered 2xx.
        case delivered
        /// It did not; another attempt is scheduled.
        case failed
        /// It did not and that was the last attempt: dead-lettered.
        case dead
        /// The endpoint answered 410: it is disabled.
        case disabled
    }

    /// One webhook delivery attempt (for the webhook dispatcher to call).
    public func webhookDelivery(outcome: WebhookOutcome) {
        registry.makeCounter(descriptor: Self.webhookDeliveries.descriptor, labels: [("outcome", outcome.rawValue)]).increment()
    }

    // MARK: Retention

    /// A prune finished (`trigger`: `schedule`, `admin`); records what it removed.
    public func pruneRun(_ report: PruneReport, trigger: String) {
        guard !report.dryRun else { return }
        let labels = [("trigger", trigger)]
        registry.makeCounter(descriptor: Self.pruneRuns.descriptor, labels: labels).increment()
        registry.makeCounter(descriptor: Self.prunedFiles.descriptor, labels: labels).increment(by: Int64(report.artifacts.count + report.tasks.files))
        registry.makeCounter(descriptor: Self.prunedBytes.descriptor, labels: labels).increment(by: report.artifacts.bytes + report.tasks.bytes)
        registry.makeCounter(descriptor: Self.deletedTasks.descriptor, labels: labels).increment(by: Int64(report.tasks.count))
        registry.makeGauge(descriptor: Self.lastPrune.descriptor, labels: labels).set(report.finishedAt.timeIntervalSince1970)
    }

    /// A prune that threw.
    public func pruneFailed(trigger: String) {
        registry.makeCounter(descriptor: Self.pruneFailures.descriptor, labels: [("trigger", trigger)]).increment()
    }

    // MARK: Gauges read from the database

    /// Sets the gauges that describe the database (tasks, storage, webhook backlog) from `stats`.
    public func observe(_ stats: OperatorStats) {
        for kind in TaskKind.allCases {
            for status in TaskStatus.allCases {
                registry.makeGauge(descriptor: Self.tasks.descriptor, labels: [("kind", kind.rawValue), ("status", status.rawValue)])
                    .set(Double(stats.tasks[kind]?[status] ?? 0))
            }
            let stored = stats.storage[kind] ?? FileTotals()
            registry.makeGauge(descriptor: Self.storageBytes.descriptor, labels: [("kind", kind.rawValue)]).set(Double(stored.bytes))
            registry.makeGauge(descriptor: Self.storageFiles.descriptor, labels: [("kind", kind.rawValue)]).set(Double(stored.files))
            let expired = stats.expired[kind] ?? FileTotals()
            registry.makeGauge(descriptor: Self.expiredFiles.descriptor, labels: [("kind", kind.rawValue)]).set(Double(expired.files))
        }
        registry.makeGauge(descriptor: Self.inFlight.descriptor, labels: []).set(Double(stats.inFlight))
        registry.makeGauge(descriptor: Self.oldestQueued.descriptor, labels: []).set(stats.oldestQueuedAgeSeconds ?? 0)
        for status in OperatorStats.webhookStatuses {
            registry.makeGauge(descriptor: Self.webhookBacklog.descriptor, labels: [("status", status)]).set(Double(stats.webhooks[status] ?? 0))
        }
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }
}

/// A metric's full name and help text (the registry takes a `MetricNameDescriptor`, which is not `Sendable`).
struct MetricName: Sendable {
    var name: String
    var help: String

    init(_ name: String, _ help: String) {
        self.name = "mediajobs_" + name
        self.help = help
    }

    var descriptor: MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
}

extension ServiceMetrics {
    static let httpRequests = MetricName("http_requests_total", "HTTP requests answered, by method, matched route and status.")
    static let httpDuration = MetricName("http_request_duration_seconds", "Time to answer an HTTP request, body included.")
    static let upstreamCalls = MetricName("upstream_calls_total", "Calls to the provider, by operation, task kind and answer status.")
    static let upstreamErrors = MetricName("upstream_errors_total", "Provider calls that did not answer 2xx, by status.")
    static let upstreamDuration = MetricName("upstream_call_duration_seconds", "Time of one call to the provider.")
    static let downloadBytes = MetricName("download_bytes_total", "Bytes of artifacts downloaded from the provider and stored.")
    static let downloadFiles = MetricName("download_files_total", "Artifacts downloaded from the provider and stored.")
    static let webhookDeliveries = MetricName("webhook_deliveries_total", "Webhook delivery attempts, by outcome.")
    static let webhookBacklog = MetricName("webhook_backlog", "Webhook deliveries in the database, by status (read on scrape).")
    static let pruneRuns = MetricName("retention_runs_total", "Prunes run by this process, by trigger.")
    static let pruneFailures = MetricName("retention_failures_total", "Prunes that failed, by trigger.")
    static let prunedFiles = MetricName("retention_removed_files_total", "Stored files removed by prunes of this process.")
    static let prunedBytes = MetricName("retention_removed_bytes_total", "Bytes of stored files removed by prunes of this process.")
    static let deletedTasks = MetricName("retention_deleted_tasks_total", "Task records deleted by prunes of this process.")
    static let lastPrune = MetricName("retention_last_run_timestamp_seconds", "When the last prune of this process finished.")
    static let tasks = MetricName("tasks", "Tasks in the database, by kind and status (read on scrape).")
    static let inFlight = MetricName("tasks_in_flight", "Tasks queued, processing or downloading (read on scrape).")
    static let oldestQueued = MetricName("oldest_queued_task_age_seconds", "Age of the oldest queued task; 0 when none (read on scrape).")
    static let storageBytes = MetricName("storage_bytes", "Bytes of stored (unpruned) artifacts, by kind (read on scrape).")
    static let storageFiles = MetricName("storage_files", "Stored (unpruned) artifacts, by kind (read on scrape).")
    static let expiredFiles = MetricName("storage_expired_files", "Artifact records whose file was pruned, by kind (read on scrape).")
}
