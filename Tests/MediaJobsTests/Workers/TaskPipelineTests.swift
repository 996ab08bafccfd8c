import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import Testing

@testable import MediaJobs

/// The pipeline's decisions (retry, fail, advance) for each provider answer.
@Suite struct TaskPipelineTests {
    let store: SQLiteTaskStore
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")

    init() throws {
        store = try SQLiteStore.inMemory(outbox: .testing).tasks
    }

    func pipeline(_ upstream: any UpstreamClient, maxAttempts: Int = 3, lease: Duration = .seconds(60)) -> TaskPipeline {
        let storage = LocalArtifactStore(dataDirectory: directory)
        var settings = PipelineSettings()
        settings.lease = lease
        settings.maxAttempts = maxAttempts
        settings.retryBackoff = RetryBackoff(base: .seconds(1), cap: .seconds(4))
        return TaskPipeline(
            store: store, upstream: upstream,
            downloader: ArtifactDownloader(httpClient: HTTPClient.shared, storage: storage, urlGuard: OutboundURLGuard(), limits: .init()),
            settings: settings, events: TaskEvents(), signals: StageSignals(), leaseOwner: "test", logger: Logger(label: "test"))
    }

    /// Inserts a task, leases it as a worker would, and runs one step.
    func step(_ pipeline: TaskPipeline, _ task: MediaTask? = nil, status: TaskStatus = .queued, at offset: TimeInterval = 0) async throws -> MediaTask {
        if let task { try await store.insert(task) }
        let claimed = try await store.claim(status, owner: "test", lease: .seconds(60), limit: 1, now: Date().addingTimeInterval(offset))
        let leased = try #require(claimed.first)
        await pipeline.run(leased)
        return try #require(try await store.task(id: leased.id))
    }

    static func music(deadline: Duration = .seconds(600)) -> MediaTask {
        MediaTask(request: .music(MusicRequest(prompt: "x")), deadline: deadline)
    }

    @Test func retryableErrorsBackOffThenSucceed() async throws {
        let upstream = ScriptedUpstream(submissions: [.failure(.unavailable(status: 503, retryAfter: nil)), .success(.accepted(upstreamID: "u1"))])
        let pipeline = pipeline(upstream)
        let before = Date()
        let afterError = try await step(pipeline, Self.music())
        #expect(afterError.status == .queued)
        #expect(afterError.attempts == 1)
        // Attempt 1 waits between half and all of the 1 s base.
        #expect(afterError.nextAttemptAt >= before.addingTimeInterval(0.49))
        #expect(afterError.leaseOwner == nil)
        let accepted = try await step(pipeline, at: 5)
        #expect(accepted.status == .processing)
        #expect(accepted.upstreamID == "u1")
        #expect(accepted.attempts == 0)
    }

    @Test func retryAfterIsHonoured() async throws {
        let pipeline = pipeline(ScriptedUpstream(submissions: [.failure(.rateLimited(retryAfter: .seconds(120)))]))
        let before = Date()
        let task = try await step(pipeline, Self.music())
        #expect(task.nextAttemptAt >= before.addingTimeInterval(119.99))
    }

    @Test func attemptsAreCapped() async throws {
        let failures = Array(repeating: Result<UpstreamSubmission, UpstreamError>.failure(.transport("refused")), count: 3)
        let pipeline = pipeline(ScriptedUpstream(submissions: failures), maxAttempts: 3)
        var task = try await step(pipeline, Self.music())
        task = try await step(pipeline, at: 10)
        task = try await step(pipeline, at: 20)
        #expect(task.status == .failed)
        #expect(task.failReason?.contains("gave up after 3 attempts") == true)
    }

    @Test func rejectionFailsAtOnce() async throws {
        let pipeline = pipeline(ScriptedUpstream(submissions: [.failure(.rejected(status: 400, message: "secret provider text"))]))
        let task = try await step(pipeline, Self.music())
        #expect(task.status == .failed)
        #expect(task.failReason?.contains("secret") == false)
    }

    @Test func pendingPollsBackOffAndFailedPollsFail() async throws {
        let pipeline = pipeline(
            ScriptedUpstream(
                submissions: [.success(.accepted(upstreamID: "u"))],
                polls: [.success(.pending(progress: 40)), .success(.failed(reason: "policy"))]))
        _ = try await step(pipeline, Self.music())
        let pending = try await step(pipeline, status: .processing, at: 60)
        #expect(pending.status == .processing)
        #expect(pending.pollCount == 1)
        #expect(pending.progress == 40)
        let failed = try await step(pipeline, status: .processing, at: 120)
        #expect(failed.status == .failed)
        #expect(failed.failReason == "policy")
    }

    @Test func completedPollMovesToDownloading() async throws {
        let outputs = [UpstreamOutput(url: "http://127.0.0.1:1/a.wav")]
        let pipeline = pipeline(ScriptedUpstream(submissions: [.success(.accepted(upstreamID: "u"))], polls: [.success(.completed(outputs: outputs))]))
        _ = try await step(pipeline, Self.music())
        let downloading = try await step(pipeline, status: .processing, at: 60)
        #expect(downloading.status == .downloading)
        #expect(downloading.upstreamOutputs == outputs)
    }

    @Test func pastItsDeadlineATaskFailsWithoutCallingTheProvider() async throws {
        let upstream = ScriptedUpstream()
        let pipeline = pipeline(upstream)
        var task = Self.music(deadline: .seconds(-1))
        task.nextAttemptAt = Date().addingTimeInterval(-5)
        let failed = try await step(pipeline, task)
        #expect(failed.status == .failed)
        #expect(failed.failReason?.contains("did not finish") == true)
        #expect(upstream.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aRefusedArtifactURLFailsTheTask() async throws {
        // The default guard refuses loopback addresses that are not the trusted upstream host.
        let outputs = [UpstreamOutput(url: "http://127.0.0.1:9/a.wav")]
        let pipeline = pipeline(ScriptedUpstream(submissions: [.success(.finished(upstreamID: "u", outputs: outputs))]))
        _ = try await step(pipeline, Self.music())
        let failed = try await step(pipeline, status: .downloading)
        #expect(failed.status == .failed)
        #expect(failed.failReason?.contains("loopback") == true)
    }

    /// A step holds its lease while it runs; once the lease is lost (here: the task was cancelled),
    /// the next renewal stops the step instead of letting it run on for someone else's task.
    @Test func aStepWhoseLeaseIsLostIsStopped() async throws {
        let upstream = HangingUpstream()
        let pipeline = pipeline(upstream, lease: .milliseconds(300))
        let task = Self.music()
        try await store.insert(task)
        let leased = try #require(try await store.claim(.queued, owner: "test", lease: .milliseconds(300), limit: 1, now: Date()).first)
        let step = Task { await pipeline.run(leased) }
        await upstream.started.wait(timeout: .seconds(30))
        _ = try await store.cancel(taskID: task.id, now: Date())
        await step.value
        let cutShort = upstream.wasCancelled.load(ordering: .relaxed)
        #expect(cutShort, "the provider call was cut short")
        #expect(try await store.task(id: task.id)?.status == .canceled)
    }

    /// A poll is not cut short when its lease goes (it only reads), but its answer is refused:
    /// a task cancelled while its poll was in flight stays cancelled, even when the provider then
    /// says it finished.
    @Test func aPollAnsweringAfterItsTaskWasCancelledChangesNothing() async throws {
        let upstream = GatedPollUpstream()
        let pipeline = pipeline(upstream)
        let task = Self.music()
        try await store.insert(task)
        let queued = try #require(try await store.claim(.queued, owner: "test", lease: .seconds(60), limit: 1, now: Date()).first)
        try await store.advance(
            taskID: task.id, from: .queued, lease: try #require(queued.lease),
            change: TaskChange(path: [.processing], upstreamID: "u", nextAttemptAt: Date()), now: Date())
        let polling = try #require(try await store.claim(.processing, owner: "test", lease: .seconds(60), limit: 1, now: Date().addingTimeInterval(1)).first)
        let step = Task { await pipeline.run(polling) }
        await upstream.started.wait(timeout: .seconds(30))
        _ = try await store.cancel(taskID: task.id, now: Date())
        upstream.answer.signal()
        await step.value
        let after = try #require(try await store.task(id: task.id))
        #expect(after.status == .canceled)
        #expect(after.upstreamOutputs.isEmpty)
        let cutShort = upstream.wasCancelled.load(ordering: .relaxed)
        #expect(!cutShort)
    }
}

/// A provider whose poll answers "completed" once the test lets it.
final class GatedPollUpstream: UpstreamClient {
    let started = WorkSignal()
    let answer = WorkSignal()
    let wasCancelled = Atomic<Bool>(false)

    func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission { .accepted(upstreamID: "u") }

    func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        started.signal()
        await answer.wait(timeout: .seconds(30))
        if Task.isCancelled { wasCancelled.store(true, ordering: .relaxed) }
        return .completed(outputs: [UpstreamOutput(url: "http://127.0.0.1:9/a.wav")])
    }
}

/// A provider whose submit never answers until its caller gives up.
final class HangingUpstream: UpstreamClient {
    let started = WorkSignal()
    let wasCancelled = Atomic<Bool>(false)

    func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission {
        started.signal()
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            wasCancelled.store(true, ordering: .relaxed)
        }
        throw .transport("cancelled")
    }

    func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        .pending(progress: nil)
    }
}
