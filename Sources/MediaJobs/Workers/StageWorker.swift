import Foundation
import Logging
import ServiceLifecycle

/// A background service that runs one pipeline stage: it claims due tasks in its status and runs
/// up to `concurrency` steps at once.
public struct StageWorker: Service, CustomStringConvertible {
    let status: TaskStatus
    let pipeline: TaskPipeline
    let concurrency: Int
    let logger: Logger
    /// Where the worker's steps run: an event loop of their own (see `EventLoopTaskExecutor`),
    /// or Swift's global pool when nil.
    let executor: EventLoopTaskExecutor?

    /// The poll worker (`.processing`) runs on an event loop: its steps are short and mostly
    /// HTTP. Submits and downloads stay on the pool (a download writes files for seconds).
    public init(status: TaskStatus, pipeline: TaskPipeline, concurrency: Int, logger: Logger) {
        self.status = status
        self.pipeline = pipeline
        self.concurrency = concurrency
        self.logger = logger
        self.executor = status == .processing ? EventLoopTaskExecutor() : nil
    }

    /// Service lifecycle logs services by description: keep it short (and free of configuration).
    public var description: String { "StageWorker(\(status.rawValue))" }

    public func run() async throws {
        guard let signal = pipeline.signals.signal(for: status) else { return }
        let (status, pipeline) = (status, pipeline)
        let loop = WorkLoop<MediaTask>(
            name: "\(status.rawValue) worker", concurrency: concurrency, idleTick: pipeline.settings.idleTick,
            shutdownGrace: pipeline.settings.shutdownGrace, batchWindow: min(.milliseconds(100), pipeline.settings.pollInterval), signal: signal,
            claim: { limit in
                try await pipeline.store.claim(status, owner: pipeline.leaseOwner, lease: pipeline.settings.lease, limit: limit, now: Date())
            },
            nextDue: { try await pipeline.store.nextDue(status) },
            process: { task in await pipeline.run(task) },
            logger: logger
        )
        if let executor {
            await executor.run { await loop.run() }
        } else {
            await loop.run()
        }
    }
}
