import Foundation
import Logging
import ServiceLifecycle

/// The automatic retention policy of `serve`: runs the ``Pruner`` at start and then every `interval`,
/// on one instance at a time when several share the store.
///
/// On graceful shutdown it stops between batches (committed work stays done) and exits.
public struct RetentionService<C: Clock>: Service where C.Duration == Duration {
    let pruner: Pruner
    let policy: PrunePolicy
    let interval: Duration
    let metrics: ServiceMetrics
    let clock: C
    let logger: Logger

    public init(pruner: Pruner, policy: PrunePolicy, interval: Duration, metrics: ServiceMetrics, clock: C, logger: Logger) {
        self.pruner = pruner
        self.policy = policy
        self.interval = interval
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "automatic retention on",
            metadata: [
                "retention.max_age": "\(policy.maxAge?.humanReadable ?? "-")", "retention.max_total_size": "\(policy.maxTotalSize?.description ?? "-")",
                "retention.delete_tasks_older_than": "\(policy.deleteTasksOlderThan?.humanReadable ?? "-")",
                "retention.interval": "\(interval.humanReadable)",
            ])
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await runOnce()
                try await clock.sleep(for: interval)
            }
        }
    }

    /// One prune, unless another instance sharing the store is pruning; failures are logged and
    /// counted, and the next tick tries again.
    func runOnce() async {
        do {
            let (pruner, policy) = (pruner, policy)
            guard let report = try await pruner.store.exclusiveRetention({ try await pruner.run(policy, dryRun: false) }) else {
                logger.debug("retention skipped: another instance is running it")
                return
            }
            metrics.pruneRun(report, trigger: "schedule")
            if report.sizeLimitMet == false {
                logger.warning(
                    "retention could not get storage under the size limit: the rest belongs to unfinished tasks or pending webhooks",
                    metadata: ["retention.stored_bytes": "\(report.storedBytesAfter)", "retention.max_total_size": "\(policy.maxTotalSize?.bytes ?? 0)"])
            }
        } catch is CancellationError {
            return
        } catch {
            metrics.pruneFailed(trigger: "schedule")
            logger.error("automatic prune failed; retrying at the next interval", metadata: ["error": "\(error)"])
        }
    }
}
