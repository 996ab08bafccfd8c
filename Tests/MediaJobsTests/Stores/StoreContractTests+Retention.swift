import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// What the ``Pruner`` relies on: which artifacts and tasks a prune may take, in which order,
    /// and the crash journal of file removals written in the same transaction.
    @Suite struct Retention {
        static let callback = "https://client.example/cb"

        /// Only finished tasks with no webhook still waiting; oldest first; marked and journaled together.
        @Test(arguments: StoreFactory.all)
        func pruneTakesOnlyFinishedTasksWithoutPendingWebhooks(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let deadHook = try await store.task(.completed, files: [(100, store.daysAgo(45))], callback: Self.callback)
            try await store.settleDeliveries(of: deadHook, .dead(status: 500, error: "gone for good"))
            let failed = try await store.task(.failed, files: [(100, store.daysAgo(42))])
            let pendingHook = try await store.task(.completed, files: [(100, store.daysAgo(41))], callback: Self.callback)
            let downloading = try await store.task(.downloading, files: [(100, store.daysAgo(40))])
            let young = try await store.task(.completed, files: [(100, store.daysAgo(5))])
            let rule = PruneRule(cutoff: store.daysAgo(30), excessBytes: 0)

            let dry = try await store.tasks.pruneArtifacts(PruneScope(), after: nil, limit: 100, rule: rule, now: store.now, dryRun: true)
            #expect(dry.pruned.map(\.taskID) == [deadHook.id, failed.id])
            #expect(try await store.tasks.pendingFileRemovals(after: 0, limit: 10).isEmpty, "a dry run journals nothing")
            #expect(try await store.artifacts(deadHook).first?.prunedAt == nil, "a dry run marks nothing")

            let batch = try await store.tasks.pruneArtifacts(PruneScope(), after: nil, limit: 100, rule: rule, now: store.now, dryRun: false)
            #expect(batch == dry)
            #expect(batch.scanned == 3, "the young artifact was a candidate, refused by the rule")
            #expect(batch.pruned.map(\.createdAt) == [store.daysAgo(45), store.daysAgo(42)])
            #expect(batch.pruned.allSatisfy { $0.bytes == 100 && $0.fileName == "0.wav" && $0.kind == .music })
            for task in [deadHook, failed] {
                #expect(try await store.artifacts(task).map(\.prunedAt) == [store.now])
            }
            for task in [pendingHook, downloading, young] {
                #expect(try await store.artifacts(task).map(\.prunedAt) == [nil])
            }
            // The journal: one removal per pruned file, to carry out after the commit.
            let removals = try await store.tasks.pendingFileRemovals(after: 0, limit: 10)
            #expect(removals.map(\.taskID) == [deadHook.id, failed.id])
            #expect(removals.allSatisfy { $0.fileName == "0.wav" && !$0.restored })
            #expect(try await store.tasks.pendingFileRemovals(after: removals[0].id, limit: 10).map(\.id) == [removals[1].id])
            #expect(try await store.tasks.pendingFileRemovals(after: 0, limit: 1).map(\.id) == [removals[0].id])
            try await store.tasks.completeFileRemovals(removals.map(\.id))
            #expect(try await store.tasks.pendingFileRemovals(after: 0, limit: 10).isEmpty)
            // Pruned once: the same rule finds nothing more.
            #expect(try await store.tasks.pruneArtifacts(PruneScope(), after: nil, limit: 100, rule: rule, now: store.now, dryRun: false).pruned.isEmpty)

            // Once its webhook is delivered, the waiting task's files may go too.
            try await store.settleDeliveries(of: pendingHook, .delivered(status: 200))
            let later = try await store.tasks.pruneArtifacts(PruneScope(), after: nil, limit: 100, rule: rule, now: store.now, dryRun: false)
            #expect(later.pruned.map(\.taskID) == [pendingHook.id])
        }

        /// The walk goes oldest first in batches after a cursor; the size rule takes just enough.
        @Test(arguments: StoreFactory.all)
        func theWalkContinuesAfterItsCursorUntilTheExcessIsCovered(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let tasks = try await [50.0, 40, 30, 20, 10].asyncMap { days in try await store.task(.completed, files: [(100, store.daysAgo(days))]) }
            try await store.task(.image, .completed, files: [(1_000, store.daysAgo(60))])
            #expect(try await store.tasks.storedBytes(PruneScope()) == 1_500)
            let scope = PruneScope(kind: .music)
            #expect(try await store.tasks.storedBytes(scope) == 500)

            var rule = PruneRule(cutoff: nil, excessBytes: 250)
            let first = try await store.tasks.pruneArtifacts(scope, after: nil, limit: 2, rule: rule, now: store.now, dryRun: false)
            #expect(first.scanned == 2 && first.pruned.map(\.taskID) == [tasks[0].id, tasks[1].id])
            rule = rule.after(first.pruned)
            let second = try await store.tasks.pruneArtifacts(scope, after: first.pruned.last?.cursor, limit: 2, rule: rule, now: store.now, dryRun: false)
            #expect(second.scanned == 2 && second.pruned.map(\.taskID) == [tasks[2].id])
            #expect(try await store.tasks.storedBytes(scope) == 200)
            #expect(try await store.tasks.storedBytes(PruneScope(kind: .image)) == 1_000, "another kind is out of scope")
        }

        @Test(arguments: StoreFactory.all)
        func oldTasksAreDeletedWithTheirArtifactsAndDeliveries(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let ancient = try await store.task(.completed, files: [(100, store.daysAgo(201)), (100, store.daysAgo(201))], finishedAt: store.daysAgo(200), callback: Self.callback)
            try await store.settleDeliveries(of: ancient, .delivered(status: 200))
            let ancientFailed = try await store.task(.failed, finishedAt: store.daysAgo(190))
            let stuck = try await store.task(.processing, createdAt: store.daysAgo(300))
            let hookPending = try await store.task(.completed, files: [(100, store.daysAgo(200))], finishedAt: store.daysAgo(199), callback: Self.callback)
            let recent = try await store.task(.completed, files: [(100, store.daysAgo(20))], finishedAt: store.daysAgo(20))
            let scope = PruneScope(deleteTasksFinishedBefore: store.daysAgo(180))
            // Files of tasks about to be deleted are not counted against a size limit.
            #expect(try await store.tasks.storedBytes(PruneScope()) == 400)
            #expect(try await store.tasks.storedBytes(scope) == 200)

            let dry = try await store.tasks.deleteTasks(scope, after: nil, limit: 100, now: store.now, dryRun: true)
            #expect(dry.map(\.id) == [ancient.id, ancientFailed.id])
            #expect(try await store.tasks.task(id: ancient.id) != nil)

            let first = try await store.tasks.deleteTasks(scope, after: nil, limit: 1, now: store.now, dryRun: false)
            #expect(first == [DeletedTask(id: ancient.id, kind: .music, finishedAt: store.daysAgo(200), stored: FileTotals(files: 2, bytes: 200))])
            let second = try await store.tasks.deleteTasks(scope, after: first.last?.cursor, limit: 1, now: store.now, dryRun: false)
            #expect(second.map(\.id) == [ancientFailed.id])
            #expect(try await store.tasks.deleteTasks(scope, after: second.last?.cursor, limit: 1, now: store.now, dryRun: false).isEmpty)

            #expect(try await store.tasks.task(id: ancient.id) == nil)
            #expect(try await store.tasks.task(id: ancientFailed.id) == nil)
            #expect(try await store.tasks.artifact(taskID: ancient.id, fileName: "0.wav") == nil)
            for task in [stuck, hookPending, recent] {
                #expect(try await store.tasks.task(id: task.id) != nil)
            }
            #expect(try await store.webhooks.list(.all).map(\.taskID) == [hookPending.id], "deliveries go with their task")
            // The journal asks for the deleted tasks' folders.
            let removals = try await store.tasks.pendingFileRemovals(after: 0, limit: 10)
            #expect(removals.map(\.taskID) == [ancient.id, ancientFailed.id])
            #expect(removals.allSatisfy { $0.fileName == nil })
        }

        /// A file stored again after its removal was journaled (a retried task) is kept.
        @Test(arguments: StoreFactory.all)
        func aRemovalOfAFileStoredAgainIsMarkedRestored(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let failed = try await store.task(.failed, files: [(100, store.daysAgo(1)), (100, store.daysAgo(1))])
            let retried = try await store.tasks.retry(taskID: failed.id, now: store.now)
            let journaled = try await store.tasks.pendingFileRemovals(after: 0, limit: 10)
            #expect(Set(journaled.map(\.fileName)) == ["0.wav", "1.wav"])
            #expect(journaled.allSatisfy { $0.taskID == failed.id && !$0.restored })
            // The new run downloads the first file again before the journal was carried out.
            try await store.drive(retried, to: .downloading, files: [(100, store.now)])
            let after = try await store.tasks.pendingFileRemovals(after: 0, limit: 10)
            #expect(Dictionary(uniqueKeysWithValues: after.map { ($0.fileName ?? "", $0.restored) }) == ["0.wav": true, "1.wav": false])
        }
    }
}
