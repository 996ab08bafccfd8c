import Foundation
import Logging

/// The steps that move a task from `queued` to a terminal state, one per non-terminal status.
///
/// Each step works on a task its worker leased, keeps the lease alive while it runs, and ends
/// by a conditional update through the store fenced by that lease; if the task was cancelled
/// or the lease lost meanwhile, the update is refused and the step's result dropped.
public struct TaskPipeline: Sendable {
    public let store: any TaskStore
    public let upstream: any UpstreamClient
    public let downloader: ArtifactDownloader
    public let settings: PipelineSettings
    public let events: TaskEvents
    public let signals: StageSignals
    /// This instance's worker identity, the owner of its leases.
    public let leaseOwner: String
    /// When each processing task is polled next.
    public let scheduler: PollScheduler
    /// Keeps the leases of the steps in flight.
    let leaseKeeper: LeaseKeeper
    let logger: Logger

    /// `scheduler` by default learns in memory only (durations are not kept across restarts).
    public init(
        store: any TaskStore, upstream: any UpstreamClient, downloader: ArtifactDownloader, settings: PipelineSettings,
        events: TaskEvents, signals: StageSignals, leaseOwner: String, scheduler: PollScheduler? = nil, logger: Logger
    ) {
        self.scheduler = scheduler ?? PollScheduler(durations: UpstreamDurations(limits: settings.pollLimits, store: nil))
        self.leaseKeeper = LeaseKeeper(store: store, length: settings.lease)
        self.store = store
        self.upstream = upstream
        self.downloader = downloader
        self.settings = settings
        self.events = events
        self.signals = signals
        self.leaseOwner = leaseOwner
        self.logger = logger
    }

    /// Runs the step for the task's status.
    func run(_ task: MediaTask) async {
        guard let lease = task.lease else {
            Step.logger(logger, for: task).error("internal error: a claimed task without a lease; step skipped")
            return
        }
        let step = Step(task: task, lease: lease, pipelineLogger: logger)
        do {
            try await whileHolding(step, interruptible: task.status != .processing) {
                if Date() >= task.deadlineAt {
                    try await finish(step, .fail("the task did not finish within \(settings.taskTimeout.humanReadable)"))
                    return
                }
                switch task.status {
                case .queued: try await submit(step)
                case .processing: try await poll(step)
                case .downloading: try await download(step)
                case .completed, .failed, .canceled: return
                }
            }
        } catch where Task.isCancelled {
            await releaseAfterCancellation(step)
        } catch TaskStoreError.leaseLost {
            step.logger.info("task moved on while this step ran (cancelled or re-leased); result dropped")
        } catch {
            step.logger.error("task step failed; it will be retried when its lease expires", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Steps

    /// The task a step works on, the lease it holds it under, and the step's logger.
    struct Step: Sendable {
        let task: MediaTask
        let lease: Lease
        let pipelineLogger: Logger

        /// The pipeline's logger with the task's metadata, built when the step logs rather than
        /// for every step: a poll that finds the task still running logs nothing at the default
        /// level, and setting the metadata on each one cost ~1 % of the poll worker's CPU.
        var logger: Logger { Self.logger(pipelineLogger, for: task) }

        static func logger(_ logger: Logger, for task: MediaTask) -> Logger {
            var logger = logger
            logger[metadataKey: "task.id"] = .string(task.id)
            logger[metadataKey: "task.kind"] = .string(task.kind.rawValue)
            if let upstreamID = task.upstreamID { logger[metadataKey: "upstream.id"] = .string(upstreamID) }
            return logger
        }

        /// A debug line, with nothing built unless debug logging is on.
        func debug(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata) {
            guard pipelineLogger.logLevel <= .debug else { return }
            logger.debug(message(), metadata: metadata())
        }
    }

    private func submit(_ step: Step) async throws {
        let task = step.task
        let submission: UpstreamSubmission
        do {
            submission = try await upstream.submit(task)
        } catch {
            try await retryOrFail(step, error: error, isRetryable: error.isRetryable, retryAfter: error.retryAfter)
            return
        }
        let now = Date()
        switch submission {
        case .accepted(let upstreamID):
            var generator = SystemRandomNumberGenerator()
            let next = scheduler.firstPoll(task, acceptedAt: now, using: &generator)
            let change = TaskChange(
                path: [.processing], upstreamID: upstreamID, progress: 0, nextAttemptAt: next.at, attempts: 0, pollCount: 0, upstreamAcceptedAt: now,
                pollPriority: next.priority)
            try await store.advance(taskID: task.id, from: .queued, lease: step.lease, change: change, now: now)
            step.logger.info("upstream accepted task", metadata: ["upstream.id": "\(upstreamID)"])
            step.debug("first poll planned", metadata: ["poll.at": "\(next.at.iso8601)", "poll.why": "\(next.reason)"])
        case .finished(let upstreamID, let outputs):
            let change = TaskChange(path: [.processing, .downloading], upstreamID: upstreamID, upstreamOutputs: outputs, progress: 90, nextAttemptAt: now, attempts: 0)
            try await store.advance(taskID: task.id, from: .queued, lease: step.lease, change: change, now: now)
            step.logger.info("upstream finished task synchronously", metadata: ["upstream.id": "\(upstreamID)", "outputs": "\(outputs.count)"])
            signals.download.signal()
        }
    }

    private func poll(_ step: Step) async throws {
        let task = step.task
        guard let upstreamID = task.upstreamID else {
            try await finish(step, .fail("internal error: processing task without an upstream id"))
            return
        }
        let progress: UpstreamProgress
        do {
            progress = try await upstream.poll(kind: task.kind, upstreamID: upstreamID)
        } catch {
            try await retryOrFail(step, error: error, isRetryable: error.isRetryable, retryAfter: error.retryAfter)
            return
        }
        let now = Date()
        switch progress {
        case .pending(let percent):
            var generator = SystemRandomNumberGenerator()
            let next = scheduler.nextPoll(task, progress: percent, now: now, using: &generator)
            let change = TaskChange(
                progress: percent.map { min($0, 89) }, nextAttemptAt: next.at, attempts: 0, pollCount: task.pollCount + 1, pollPriority: next.priority)
            try await store.reschedule(taskID: task.id, in: .processing, lease: step.lease, change: change, now: now)
            step.debug("next poll planned", metadata: ["poll.at": "\(next.at.iso8601)", "poll.why": "\(next.reason)"])
        case .completed(let outputs):
            scheduler.observeCompletion(task, now: now)
            let change = TaskChange(path: [.downloading], upstreamOutputs: outputs, progress: 90, nextAttemptAt: now, attempts: 0)
            try await store.advance(taskID: task.id, from: .processing, lease: step.lease, change: change, now: now)
            step.logger.info("upstream completed task", metadata: ["outputs": "\(outputs.count)"])
            signals.download.signal()
        case .failed(let reason):
            scheduler.forget(task)
            try await finish(step, .fail(reason))
        }
    }

    private func download(_ step: Step) async throws {
        let task = step.task
        guard !task.upstreamOutputs.isEmpty else {
            try await finish(step, .fail("the upstream reported no outputs"))
            return
        }
        let stored = try await store.artifacts(forTasks: [task.id])[task.id] ?? []
        for planned in PlannedArtifact.plan(for: task) {
            let (index, output) = (planned.index, planned.output)
            if let existing = stored.first(where: { $0.index == index }), await downloader.hasStoredFile(existing) {
                continue  // kept from an earlier try that stopped part-way
            }
            let file: ArtifactDownloader.StoredFile
            do throws(DownloadError) {
                file = try await downloader.download(planned.url, taskID: task.id, index: index, kind: task.kind, expected: planned.expected)
            } catch {
                try await retryOrFail(step, error: error, isRetryable: error.isRetryable, retryAfter: nil)
                return
            }
            let artifact = TaskArtifact(
                taskID: task.id, index: index, fileName: file.fileName, contentType: file.media.contentType, bytes: file.bytes,
                sha256: file.sha256, sourceURL: output.url, title: output.title, duration: output.duration, style: output.style,
                imageURL: output.imageURL)
            try await store.saveArtifact(artifact, lease: step.lease)
            step.logger.info("artifact stored", metadata: ["artifact.index": "\(index)", "artifact.bytes": "\(file.bytes)", "artifact.sha256": "\(file.sha256)"])
        }
        try await finish(step, TaskChange(path: [.completed]))
    }

    // MARK: Helpers

    /// Ends a task and tells anyone waiting on it.
    private func finish(_ step: Step, _ change: TaskChange) async throws {
        let ended = try await store.advance(taskID: step.task.id, from: step.task.status, lease: step.lease, change: change, now: Date())
        events.taskEnded(step.task.id)
        if ended.status == .failed {
            step.logger.warning("task failed", metadata: ["reason": "\(ended.failReason ?? "")"])
        } else {
            step.logger.info("task \(ended.status.rawValue)")
        }
    }

    /// Schedules another try of the same step with backoff, or fails the task when retrying cannot help.
    private func retryOrFail(_ step: Step, error: any Error, isRetryable: Bool, retryAfter: Duration?) async throws {
        // A step cut short by shutdown did not fail: hand the task back untouched.
        if Task.isCancelled { throw CancellationError() }
        let attempts = step.task.attempts + 1
        guard isRetryable, attempts < settings.maxAttempts else {
            let suffix = isRetryable ? " (gave up after \(attempts) attempts)" : ""
            try await finish(step, .fail("\(error)\(suffix)"))
            return
        }
        let delay = settings.retryBackoff.delay(attempt: attempts, retryAfter: retryAfter)
        step.logger.notice("step failed; retrying", metadata: ["error": "\(error)", "attempt": "\(attempts)", "retry.in": "\(delay.humanReadable)"])
        let now = Date()
        try await store.reschedule(
            taskID: step.task.id, in: step.task.status, lease: step.lease, change: TaskChange(nextAttemptAt: now.adding(delay), attempts: attempts), now: now)
    }

    /// Gives a task back after shutdown cancelled its step, so a restart (or another instance) takes it at once.
    private func releaseAfterCancellation(_ step: Step) async {
        // The release must run even though this task is cancelled.
        let released = await Task.detached { [store] in
            (try? await store.releaseLease(taskID: step.task.id, lease: step.lease)) ?? false
        }.value
        step.logger.notice("step interrupted by shutdown; task handed back", metadata: ["lease.released": "\(released)"])
    }

    /// Runs `body` while renewing the step's lease every third of its length.
    ///
    /// A step whose lease is lost (another worker claimed the task after it expired) or cannot be
    /// renewed before it runs out (the database is unreachable) ends with
    /// ``TaskStoreError/leaseLost(_:)``: whatever it does after that belongs to someone else. An
    /// `interruptible` step is stopped at once; a poll is not (``LeaseKeeper``), its provider call
    /// only reads and its result is refused by the lease's fence.
    private func whileHolding(_ step: Step, interruptible: Bool, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await leaseKeeper.whileHolding(taskID: step.task.id, lease: step.lease, interruptible: interruptible, logger: step.pipelineLogger, body)
    }
}

/// One wake-up signal per stage worker.
public struct StageSignals: Sendable {
    public let submit = WorkSignal()
    public let poll = WorkSignal()
    public let download = WorkSignal()

    public init() {}

    /// The signal of the worker for `status`.
    public func signal(for status: TaskStatus) -> WorkSignal? {
        switch status {
        case .queued: submit
        case .processing: poll
        case .downloading: download
        default: nil
        }
    }
}
