import Foundation
import Logging

/// The steps that move a task from `queued` to a terminal state, one per non-terminal status.
///
/// Each step works on a task its worker leased, and ends by a conditional update through the
/// store; if the task was cancelled or the lease lost meanwhile, the update is refused and the
/// step's result dropped.
public struct TaskPipeline: Sendable {
    public let store: any TaskStore
    public let upstream: any UpstreamClient
    public let downloader: ArtifactDownloader
    public let settings: PipelineSettings
    public let events: TaskEvents
    public let signals: StageSignals
    /// Identifies this process's leases.
    public let leaseOwner: String
    let logger: Logger

    public init(
        store: any TaskStore, upstream: any UpstreamClient, downloader: ArtifactDownloader, settings: PipelineSettings,
        events: TaskEvents, signals: StageSignals, leaseOwner: String, logger: Logger
    ) {
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
        var logger = logger
        logger[metadataKey: "task.id"] = "\(task.id)"
        logger[metadataKey: "task.kind"] = "\(task.kind.rawValue)"
        if let upstreamID = task.upstreamID { logger[metadataKey: "upstream.id"] = "\(upstreamID)" }
        do {
            if Date() >= task.deadlineAt {
                try await finish(task, .fail("the task did not finish within \(settings.taskTimeout.humanReadable)"), logger: logger)
                return
            }
            switch task.status {
            case .queued: try await submit(task, logger: logger)
            case .processing: try await poll(task, logger: logger)
            case .downloading: try await download(task, logger: logger)
            case .completed, .failed, .canceled: return
            }
        } catch where Task.isCancelled {
            await releaseAfterCancellation(task, logger: logger)
        } catch TaskStoreError.leaseLost {
            logger.info("task moved on while this step ran (cancelled or re-leased); result dropped")
        } catch {
            logger.error("task step failed; it will be retried when its lease expires", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Steps

    private func submit(_ task: MediaTask, logger: Logger) async throws {
        let submission: UpstreamSubmission
        do {
            submission = try await upstream.submit(task)
        } catch {
            try await retryOrFail(task, error: error, isRetryable: error.isRetryable, retryAfter: error.retryAfter, logger: logger)
            return
        }
        let now = Date()
        switch submission {
        case .accepted(let upstreamID):
            var generator = SystemRandomNumberGenerator()
            let change = TaskChange(
                path: [.processing], upstreamID: upstreamID, progress: 0,
                nextAttemptAt: now.adding(settings.pollDelay(afterPolls: 0, using: &generator)), attempts: 0, pollCount: 0)
            try await store.advance(taskID: task.id, from: .queued, owner: leaseOwner, change: change, now: now)
            logger.info("upstream accepted task", metadata: ["upstream.id": "\(upstreamID)"])
        case .finished(let upstreamID, let outputs):
            let change = TaskChange(path: [.processing, .downloading], upstreamID: upstreamID, upstreamOutputs: outputs, progress: 90, nextAttemptAt: now, attempts: 0)
            try await store.advance(taskID: task.id, from: .queued, owner: leaseOwner, change: change, now: now)
            logger.info("upstream finished task synchronously", metadata: ["upstream.id": "\(upstreamID)", "outputs": "\(outputs.count)"])
            signals.download.signal()
        }
    }

    private func poll(_ task: MediaTask, logger: Logger) async throws {
        guard let upstreamID = task.upstreamID else {
            try await finish(task, .fail("internal error: processing task without an upstream id"), logger: logger)
            return
        }
        let progress: UpstreamProgress
        do {
            progress = try await upstream.poll(kind: task.kind, upstreamID: upstreamID)
        } catch {
            try await retryOrFail(task, error: error, isRetryable: error.isRetryable, retryAfter: error.retryAfter, logger: logger)
            return
        }
        let now = Date()
        switch progress {
        case .pending(let percent):
            var generator = SystemRandomNumberGenerator()
            let change = TaskChange(
                progress: percent.map { min($0, 89) }, nextAttemptAt: now.adding(settings.pollDelay(afterPolls: task.pollCount + 1, using: &generator)),
                attempts: 0, pollCount: task.pollCount + 1)
            try await store.advance(taskID: task.id, from: .processing, owner: leaseOwner, change: change, now: now)
        case .completed(let outputs):
            let change = TaskChange(path: [.downloading], upstreamOutputs: outputs, progress: 90, nextAttemptAt: now, attempts: 0)
            try await store.advance(taskID: task.id, from: .processing, owner: leaseOwner, change: change, now: now)
            logger.info("upstream completed task", metadata: ["outputs": "\(outputs.count)"])
            signals.download.signal()
        case .failed(let reason):
            try await finish(task, .fail(reason), logger: logger)
        }
    }

    private func download(_ task: MediaTask, logger: Logger) async throws {
        guard !task.upstreamOutputs.isEmpty else {
            try await finish(task, .fail("the upstream reported no outputs"), logger: logger)
            return
        }
        let stored = try await store.artifacts(forTasks: [task.id])[task.id] ?? []
        try await withLeaseRenewal(of: task) {
            for (index, output) in task.upstreamOutputs.enumerated() {
                if let existing = stored.first(where: { $0.index == index }), await downloader.hasStoredFile(existing) {
                    continue  // kept from an earlier try that stopped part-way
                }
                let file: ArtifactDownloader.StoredFile
                do throws(DownloadError) {
                    file = try await downloader.download(output.url, taskID: task.id, index: index, kind: task.kind)
                } catch {
                    try await retryOrFail(task, error: error, isRetryable: error.isRetryable, retryAfter: nil, logger: logger)
                    return
                }
                let artifact = TaskArtifact(
                    taskID: task.id, index: index, fileName: file.fileName, contentType: file.media.contentType, bytes: file.bytes,
                    sha256: file.sha256, sourceURL: output.url, title: output.title, duration: output.duration, style: output.style,
                    imageURL: output.imageURL)
                try await store.saveArtifact(artifact, owner: leaseOwner)
                logger.info("artifact stored", metadata: ["artifact.index": "\(index)", "artifact.bytes": "\(file.bytes)", "artifact.sha256": "\(file.sha256)"])
            }
            try await finish(task, TaskChange(path: [.completed]), logger: logger)
        }
    }

    // MARK: Helpers

    /// Ends a task and tells anyone waiting on it.
    private func finish(_ task: MediaTask, _ change: TaskChange, logger: Logger) async throws {
        let ended = try await store.advance(taskID: task.id, from: task.status, owner: leaseOwner, change: change, now: Date())
        events.taskEnded(task.id)
        if ended.status == .failed {
            logger.warning("task failed", metadata: ["reason": "\(ended.failReason ?? "")"])
        } else {
            logger.info("task \(ended.status.rawValue)")
        }
    }

    /// Schedules another try of the same step with backoff, or fails the task when retrying cannot help.
    private func retryOrFail(_ task: MediaTask, error: any Error, isRetryable: Bool, retryAfter: Duration?, logger: Logger) async throws {
        // A step cut short by shutdown did not fail: hand the task back untouched.
        if Task.isCancelled { throw CancellationError() }
        let attempts = task.attempts + 1
        guard isRetryable, attempts < settings.maxAttempts else {
            let suffix = isRetryable ? " (gave up after \(attempts) attempts)" : ""
            try await finish(task, .fail("\(error)\(suffix)"), logger: logger)
            return
        }
        let delay = settings.retryBackoff.delay(attempt: attempts, retryAfter: retryAfter)
        logger.notice("step failed; retrying", metadata: ["error": "\(error)", "attempt": "\(attempts)", "retry.in": "\(delay.humanReadable)"])
        let now = Date()
        try await store.advance(
            taskID: task.id, from: task.status, owner: leaseOwner, change: TaskChange(nextAttemptAt: now.adding(delay), attempts: attempts), now: now)
    }

    /// Gives a task back after shutdown cancelled its step, so a restart (or another instance) takes it at once.
    private func releaseAfterCancellation(_ task: MediaTask, logger: Logger) async {
        // The release must run even though this task is cancelled.
        let released = await Task.detached { [store, leaseOwner] in
            (try? await store.releaseLease(taskID: task.id, owner: leaseOwner)) ?? false
        }.value
        logger.notice("step interrupted by shutdown; task handed back", metadata: ["lease.released": "\(released)"])
    }

    /// Keeps the lease alive while a long step (a big download) runs.
    private func withLeaseRenewal(of task: MediaTask, _ body: () async throws -> Void) async throws {
        let interval = settings.lease / 3
        let renewer = Task { [store, leaseOwner, settings] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                _ = try? await store.renewLease(taskID: task.id, owner: leaseOwner, until: Date().adding(settings.lease))
            }
        }
        defer { renewer.cancel() }
        try await body()
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
