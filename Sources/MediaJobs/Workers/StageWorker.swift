import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A background service that runs one pipeline stage: it claims due tasks in its status and runs
/// up to `concurrency` steps at once.
///
/// It sleeps until the next task is due, a new task is signalled, or a step finishes; on graceful
/// shutdown it stops claiming and lets running steps finish.
public struct StageWorker: Service {
    let status: TaskStatus
    let pipeline: TaskPipeline
    let concurrency: Int
    let logger: Logger

    public init(status: TaskStatus, pipeline: TaskPipeline, concurrency: Int, logger: Logger) {
        self.status = status
        self.pipeline = pipeline
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    public func run() async throws {
        guard let signal = pipeline.signals.signal(for: status) else { return }
        let stopping = SharedFlag()
        let inFlight = SharedCounter()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !stopping.isSet, !Task.isCancelled {
                    let free = concurrency - inFlight.value
                    if free > 0 {
                        let claimed: [MediaTask]
                        do {
                            claimed = try await pipeline.store.claim(status, owner: pipeline.leaseOwner, lease: pipeline.settings.lease, limit: free, now: Date())
                        } catch {
                            logger.error("claiming tasks failed", metadata: ["status": "\(status.rawValue)", "error": "\(error)"])
                            claimed = []
                        }
                        for task in claimed {
                            inFlight.add(1)
                            group.addTask {
                                await pipeline.run(task)
                                inFlight.add(-1)
                                signal.signal()
                            }
                        }
                        if claimed.count == free { continue }
                    }
                    // With every slot busy only a finishing step (which signals) frees room.
                    let wait = free > 0 ? await idleWait() : pipeline.settings.idleTick
                    await signal.wait(timeout: wait)
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            signal.signal()
        }
    }

    /// How long to sleep: until the next due task, at most one idle tick.
    private func idleWait() async -> Duration {
        let tick = pipeline.settings.idleTick
        guard let due = try? await pipeline.store.nextDue(status) else { return tick }
        let wait = due.timeIntervalSinceNow
        if wait <= 0 { return .milliseconds(5) }
        return min(tick, .milliseconds(Int64(wait * 1000) + 1))
    }
}

/// A flag set once and read from any task.
final class SharedFlag: Sendable {
    private let storage = Atomic<Bool>(false)
    var isSet: Bool { storage.load(ordering: .acquiring) }
    func set() { storage.store(true, ordering: .releasing) }
}

/// A counter shared between a worker loop and its steps.
final class SharedCounter: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int { storage.load(ordering: .acquiring) }
    func add(_ delta: Int) { storage.add(delta, ordering: .acquiringAndReleasing) }
}
