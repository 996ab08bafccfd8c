import NIOCore
import NIOPosix

/// A task executor that runs its jobs on one NIO event loop.
///
/// The submit and poll workers prefer one: a poll is a claim, an HTTP call to the provider and a
/// write, and with Swift's global pool each await hops between a pool thread and the event loop
/// that owns the connection. On the loop itself, AsyncHTTPClient picks the caller's loop
/// (`eventLoopGroup.any()`), so the request and its continuation run where they already are.
/// Only these workers prefer it: making the event loops the global executor cheapened polls too
/// but made every routed request dearer (BENCHMARKS.md figure 9).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next()) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor the current work prefers, for unstructured tasks it starts (they do not
    /// inherit a preference: `Task(executorPreference: EventLoopTaskExecutor.preferred)`).
    @TaskLocal static var preferred: EventLoopTaskExecutor?

    /// Runs `body` with this executor preferred, by it and by the tasks it starts.
    func run<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await Self.$preferred.withValue(self) {
            try await withTaskExecutorPreference(self) { try await body() }
        }
    }
}
