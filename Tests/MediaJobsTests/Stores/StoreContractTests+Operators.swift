import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// The operator's retry edge and the statistics.
    @Suite struct Operators {
        @Test(arguments: StoreFactory.all)
        func retrySendsAFailedTaskBackToTheQueueAsNew(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let failed = try await store.task(.failed, files: [(100, store.daysAgo(1))])
            let budget = failed.deadlineAt.timeIntervalSince(failed.createdAt)
            let retried = try await store.tasks.retry(taskID: failed.id, now: store.now)

            #expect(retried.status == .queued)
            #expect(retried.attempts == 0 && retried.pollCount == 0 && retried.progress == 0)
            #expect(retried.failReason == nil && retried.finishedAt == nil && retried.upstreamID == nil)
            #expect(retried.upstreamOutputs.isEmpty)
            #expect(retried.nextAttemptAt == store.now && retried.updatedAt == store.now)
            #expect(retried.deadlineAt == store.now.addingTimeInterval(budget))
            #expect(retried.leaseOwner == nil)
            #expect(retried.createdAt == failed.createdAt && retried.request == failed.request)
            #expect(try await store.artifacts(failed).isEmpty, "the old run's artifacts go")
            #expect(try await store.tasks.pendingFileRemovals(after: 0, limit: 10).map(\.fileName) == ["0.wav"], "their files are journaled")
            #expect(try await store.tasks.claim(.queued, owner: "w", lease: .seconds(60), limit: 5, now: store.now).map(\.id) == [failed.id])
        }

        @Test(arguments: StoreFactory.all)
        func onlyFailedTasksCanBeRetried(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let completed = try await store.task(.completed, files: [(10, store.daysAgo(1))])
            let canceled = try await store.task(.canceled)
            let queued = try await store.queued()
            let processing = try await store.task(.processing)
            for task in [completed, canceled, queued, processing] {
                await #expect(throws: TaskStoreError.conflict(id: task.id, status: task.status)) {
                    try await store.tasks.retry(taskID: task.id, now: store.now)
                }
            }
            await #expect(throws: TaskStoreError.notFound("suno_missing")) { try await store.tasks.retry(taskID: "suno_missing", now: store.now) }
            #expect(try await store.artifacts(completed).count == 1)
            #expect(try await store.tasks.pendingFileRemovals(after: 0, limit: 10).isEmpty)
        }

        @Test(arguments: StoreFactory.all)
        func statsCountTasksStorageRetentionAndBacklog(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            try await store.task(.completed, files: [(100, store.daysAgo(3)), (150, store.daysAgo(3))])
            try await store.task(.image, .completed, files: [(1_000, store.daysAgo(40))])
            try await store.task(.image, .failed)
            let queued = try await store.queued(createdAt: store.daysAgo(0.5))
            let deadHook = try await store.task(.completed, callback: "https://client.example/cb")
            try await store.settleDeliveries(of: deadHook, .dead(status: nil, error: "refused"))
            try await store.task(.completed, callback: "https://client.example/cb")
            try await store.task(.processing)
            _ = try await store.tasks.pruneArtifacts(
                PruneScope(), after: nil, limit: 100, rule: PruneRule(cutoff: store.daysAgo(30), excessBytes: 0), now: store.now, dryRun: false)

            let stats = try await store.tasks.stats(now: store.now)
            #expect(stats.generatedAt == store.now)
            #expect(stats.tasks[.music] == [.completed: 3, .queued: 1, .processing: 1])
            #expect(stats.tasks[.image] == [.completed: 1, .failed: 1])
            #expect(stats.inFlight == 2)
            #expect(stats.oldestQueuedAt == queued.createdAt)
            #expect(stats.storage[.music] == FileTotals(files: 2, bytes: 250))
            #expect(stats.storage[.image] == nil)
            #expect(stats.expired[.image] == FileTotals(files: 1, bytes: 1_000))
            #expect(stats.prunedTotals == PrunedTotals(files: 1, bytes: 1_000, tasksDeleted: 0, lastPrunedAt: store.now))
            #expect(stats.webhooks == ["pending": 1, "dead": 1])
        }
    }
}
