import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Sends webhook deliveries from the outbox: signed, bounded in concurrency, retried on a schedule.
///
/// 2xx is delivered; 410 disables the endpoint; anything else (redirects included: they are not
/// followed) is retried after the next wait of the schedule, or the delivery is dead-lettered.
public struct WebhookDispatcher: Service, CustomStringConvertible {
    let store: any WebhookDeliveryStore
    let httpClient: HTTPClient
    let signer: WebhookSigner
    let urlGuard: OutboundURLGuard
    let settings: WebhookSettings
    let signal: WorkSignal
    let leaseOwner: String
    let metrics: ServiceMetrics?
    let logger: Logger

    public init(
        store: any WebhookDeliveryStore, httpClient: HTTPClient, signer: WebhookSigner, urlGuard: OutboundURLGuard, settings: WebhookSettings,
        signal: WorkSignal, leaseOwner: String, metrics: ServiceMetrics? = nil, logger: Logger
    ) {
        self.metrics = metrics
        self.store = store
        self.httpClient = httpClient
        self.signer = signer
        self.urlGuard = urlGuard
        self.settings = settings
        self.signal = signal
        self.leaseOwner = leaseOwner
        self.logger = logger
    }

    public var description: String { "WebhookDispatcher" }

    public func run() async throws {
        let dispatcher = self
        await WorkLoop<WebhookJob>(
            name: "webhook dispatcher", concurrency: settings.concurrency, idleTick: .seconds(1),
            shutdownGrace: settings.shutdownGrace, signal: signal,
            claim: { limit in try await dispatcher.store.claim(owner: dispatcher.leaseOwner, lease: dispatcher.settings.lease, limit: limit, now: Date()) },
            nextDue: { try await dispatcher.store.nextDue() },
            process: { job in await dispatcher.deliver(job) },
            logger: logger
        ).run()
    }

    /// Makes one attempt and records what came of it.
    func deliver(_ job: WebhookJob) async {
        let delivery = job.delivery
        var logger = logger
        logger[metadataKey: "task.id"] = "\(delivery.taskID)"
        logger[metadataKey: "webhook.id"] = "\(delivery.eventID)"
        logger[metadataKey: "webhook.delivery"] = "\(delivery.id)"
        let outcome = await attempt(job)
        if Task.isCancelled {
            // Shutting down mid-attempt: leave the delivery to the next start, which releases its lease.
            logger.notice("webhook attempt interrupted by shutdown; it will be sent after restart")
            return
        }
        metrics?.webhookDelivery(outcome: outcome.metricsOutcome)
        switch outcome {
        case .delivered(let status):
            logger.info("webhook delivered", metadata: ["http.status": "\(status)", "attempt": "\(delivery.attempts + 1)"])
        case .retry(_, let error, let next):
            logger.notice("webhook attempt failed; will retry", metadata: ["error": "\(error)", "retry.at": "\(next)", "attempt": "\(delivery.attempts + 1)"])
        case .dead(_, let error):
            logger.warning("webhook dead-lettered", metadata: ["error": "\(error)", "attempts": "\(delivery.attempts + 1)"])
        case .endpointGone(let url):
            logger.warning("webhook endpoint answered 410 Gone; disabled", metadata: ["endpoint": "\(url)"])
        }
        do {
            try await store.record(outcome, deliveryID: delivery.id, owner: leaseOwner, now: Date())
        } catch {
            logger.error("recording a webhook attempt failed; it will be retried when its lease expires", metadata: ["error": "\(error)"])
        }
    }

    private func attempt(_ job: WebhookJob) async -> WebhookAttemptOutcome {
        let delivery = job.delivery
        let target: OutboundURLGuard.PinnedTarget
        do {
            target = try await urlGuard.pinnedTarget(delivery.endpointURL)
        } catch {
            return .dead(status: nil, error: error.description)
        }
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: target.url)
        request.method = .POST
        if let host = target.hostHeader { request.headers.replaceOrAdd(name: "Host", value: host) }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "MediaJobs-Webhooks/1")
        request.headers.add(name: "webhook-id", value: delivery.eventID)
        request.headers.add(name: "webhook-timestamp", value: "\(timestamp)")
        request.headers.add(name: "webhook-signature", value: signer.signature(id: delivery.eventID, timestamp: timestamp, body: job.payload))
        request.body = .bytes(ByteBuffer(bytes: job.payload))
        let status: Int
        let retryAfter: Duration?
        do {
            let response = try await httpClient.execute(request, timeout: .init(settings.timeout))
            status = Int(response.status.code)
            retryAfter = ApiTopMixClient.retryAfter(response.headers)
            // Read (and drop) a little of the answer so the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            return failure(delivery, status: nil, error: "no answer: \(error)", retryAfter: nil)
        }
        switch status {
        case 200..<300: return .delivered(status: status)
        case 410: return .endpointGone(url: delivery.endpointURL)
        default: return failure(delivery, status: status, error: "the endpoint answered \(status)", retryAfter: retryAfter)
        }
    }

    /// Schedules the next attempt, or dead-letters after the last one of the schedule.
    private func failure(_ delivery: WebhookDelivery, status: Int?, error: String, retryAfter: Duration?) -> WebhookAttemptOutcome {
        let attemptsMade = delivery.attempts + 1
        guard attemptsMade < settings.retrySchedule.count else { return .dead(status: status, error: error) }
        let planned = settings.retrySchedule[attemptsMade].timeInterval
        // ±10 % jitter spreads retries of deliveries that failed together (an endpoint outage).
        let jittered = planned * Double.random(in: 0.9...1.1)
        let wait = max(jittered, retryAfter?.timeInterval ?? 0)
        return .retry(status: status, error: error, next: Date().addingTimeInterval(wait))
    }
}

extension WebhookAttemptOutcome {
    var metricsOutcome: ServiceMetrics.WebhookOutcome {
        switch self {
        case .delivered: .delivered
        case .retry: .failed
        case .dead: .dead
        case .endpointGone: .disabled
        }
    }
}
