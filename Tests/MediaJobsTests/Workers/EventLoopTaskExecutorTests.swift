import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import MediaJobs

/// The submit and poll workers' steps run on their event loop; other work stays on Swift's pool.
@Suite struct EventLoopTaskExecutorTests {
    @Test func preferringWorkAndItsChildTasksRunOnTheLoop() async {
        let executor = EventLoopTaskExecutor()
        #expect(!executor.eventLoop.inEventLoop)
        let (onLoop, childrenOnLoop) = await executor.run {
            let onLoop = executor.eventLoop.inEventLoop
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { executor.eventLoop.inEventLoop } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            return (onLoop, children)
        }
        #expect(onLoop)
        #expect(childrenOnLoop == [true, true, true, true])
    }

    @Test func aLeaseKeeperStepFollowsThePreference() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let keeper = LeaseKeeper(store: store, length: .seconds(60))
        let lease = Lease(owner: "test", epoch: 1)
        let executor = EventLoopTaskExecutor()
        let seen = Mutex<[Bool]>([])
        let step: @Sendable () async throws -> Void = { seen.withLock { $0.append(executor.eventLoop.inEventLoop) } }
        try await executor.run { try await keeper.whileHolding(taskID: "t", lease: lease, logger: Logger(label: "test"), step)}
        try await keeper.whileHolding(taskID: "t", lease: lease, logger: Logger(label: "test"), step)
        #expect(seen.withLock { $0 } == [true, false])
    }

    @Test func theProcessingWorkerPollsOnItsEventLoop() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let upstream = LoopRecordingUpstream()
        var settings = PipelineSettings()
        settings.pollInterval = .milliseconds(20)
        settings.maxPollInterval = .milliseconds(50)
        settings.idleTick = .milliseconds(50)
        let storage = LocalArtifactStore(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(UUID().uuidString)"))
        let pipeline = TaskPipeline(
            store: store, upstream: upstream,
            downloader: ArtifactDownloader(httpClient: HTTPClient.shared, storage: storage, urlGuard: OutboundURLGuard(), limits: .init()),
            settings: settings, events: TaskEvents(), signals: StageSignals(), leaseOwner: "test", logger: Logger(label: "test"))
        try await store.insert(MediaTask(request: .music(MusicRequest(prompt: "x")), deadline: .seconds(600)))
        let queued = try await store.claim(.queued, owner: "test", lease: .seconds(60), limit: 1, now: Date())
        await pipeline.run(try #require(queued.first))

        let executor = EventLoopTaskExecutor()
        let pollWorker = StageWorker(status: .processing, pipeline: pipeline, concurrency: 2, executor: executor, logger: Logger(label: "test"))
        let running = Task { try await pollWorker.run() }
        let pollLoop = await upstream.firstPollLoop()
        running.cancel()
        _ = try? await running.value
        #expect(pollLoop == ObjectIdentifier(executor.eventLoop))
    }
}

/// Accepts every submission and answers every poll "pending", noting the event loop (if any) the
/// first poll ran on.
private final class LoopRecordingUpstream: UpstreamClient {
    private let firstPoll = Mutex<(loop: ObjectIdentifier?, seen: Bool, waiter: CheckedContinuation<ObjectIdentifier?, Never>?)>((nil, false, nil))

    func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission {
        .accepted(upstreamID: "u-\(task.id)")
    }

    func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop.map { ObjectIdentifier($0) }
        let waiter = firstPoll.withLock { state -> CheckedContinuation<ObjectIdentifier?, Never>? in
            guard !state.seen else { return nil }
            state.loop = loop
            state.seen = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: loop)
        return .pending(progress: nil)
    }

    /// The event loop of the first poll, once it has happened.
    func firstPollLoop() async -> ObjectIdentifier? {
        await withCheckedContinuation { continuation in
            let loop = firstPoll.withLock { state -> ObjectIdentifier?? in
                if state.seen { return .some(state.loop) }
                state.waiter = continuation
                return .none
            }
            if let loop { continuation.resume(returning: loop) }
        }
    }
}
