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
    /// Where the worker's steps run: on an event loop (see `EventLoopTaskExecutor`), or on
    /// Swift's global pool when nil.
    let executor: EventLoopTaskExecutor?

    public init(status: TaskStatus, pipeline: TaskPipeline, concurrency: Int, logger: Logger) {
        self.init(status: status, pipeline: pipeline, concurrency: concurrency, executor: nil, logger: logger)
    }

    /// The workers whose steps are short provider calls (submits and polls) share one event
    /// loop: the connections to the provider are then opened on it and each call goes out and
    /// comes back there, where a call from the pool may use a connection of another loop and wake
    /// it. Downloads stay on the pool (a download writes files for seconds).
    init(status: TaskStatus, pipeline: TaskPipeline, concurrency: Int, executor: EventLoopTaskExecutor?, logger: Logger) {
        self.status = status
        self.pipeline = pipeline
        self.concurrency = concurrency
        self.executor = executor
        self.logger = logger
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
