import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// A step result that keeps the status (a poll that found the task running), written without
    /// reading the task back: the same compare-and-set as `advance`.
    @Suite struct Reschedule {
        @Test(arguments: StoreFactory.all)
        func rescheduleAppliesTheChangeAndReleasesTheLease(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let task = try await store.queued()
            let lease = try await store.lease(task, in: .queued)
            try await store.tasks.advance(
                taskID: task.id, from: .queued, lease: lease,
                change: TaskChange(path: [.processing], upstreamID: "up-1", nextAttemptAt: store.now, upstreamAcceptedAt: store.now), now: store.now)
            let polling = try await store.lease(task, in: .processing)
            let next = store.now.addingTimeInterval(42)
            let change = TaskChange(progress: 40, nextAttemptAt: next, attempts: 0, pollCount: 3)
            try await store.tasks.reschedule(taskID: task.id, in: .processing, lease: polling, change: change, now: store.now.addingTimeInterval(1))
            let stored = try #require(try await store.tasks.task(id: task.id))
            #expect(stored.status == .processing && stored.progress == 40 && stored.pollCount == 3 && stored.nextAttemptAt == next)
            #expect(stored.leaseOwner == nil && stored.upstreamAcceptedAt == store.now && stored.updatedAt == store.now.addingTimeInterval(1))
            // The same lease again, or the wrong status: refused, nothing written.
            await #expect(throws: TaskStoreError.leaseLost(task.id)) {
                try await store.tasks.reschedule(taskID: task.id, in: .processing, lease: polling, change: TaskChange(pollCount: 9), now: store.now)
            }
            await #expect(throws: TaskStoreError.leaseLost(task.id)) {
                try await store.tasks.reschedule(taskID: task.id, in: .downloading, lease: polling, change: TaskChange(pollCount: 9), now: store.now)
            }
            #expect(try await store.tasks.task(id: task.id)?.pollCount == 3)
        }

        /// More polls due than slots: the likeliest to find the task finished go first, and a task
        /// overdue for minutes goes before them all.
        @Test(arguments: StoreFactory.all)
        func pollsDueTogetherGoLikeliestFirst(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            var ids: [Double: String] = [:]
            for (priority, dueSecondsAgo) in [(0.1, 1.0), (0.9, 1.0), (0.5, 1.0), (0.0, 180.0)] {
                let task = try await store.queued()
                let lease = try await store.lease(task, in: .queued)
                try await store.tasks.advance(
                    taskID: task.id, from: .queued, lease: lease,
                    change: TaskChange(path: [.processing], upstreamID: "up", nextAttemptAt: store.now.addingTimeInterval(-dueSecondsAgo), pollPriority: priority),
                    now: store.now)
                ids[priority] = task.id
            }
            var order: [String] = []
            for _ in 0..<4 {
                let claimed = try await store.tasks.claim(.processing, owner: "w", lease: .seconds(60), limit: 1, now: store.now)
                order += claimed.map(\.id)
            }
            #expect(order == [ids[0.0], ids[0.9], ids[0.5], ids[0.1]].compactMap { $0 })
        }
    }
}
