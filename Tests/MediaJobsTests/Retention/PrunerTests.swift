import Foundation
import Synchronization
import Testing

@testable import MediaJobs

/// The ``Pruner`` against an in-memory store and real files: what goes, what stays, dry runs, batches and crashes.
@Suite struct PrunerTests {
    let fixture: RetentionFixture

    init() throws {
        fixture = try RetentionFixture()
    }

    @Test func maxAgeRemovesOldFilesAndKeepsTheirRows() async throws {
        let old = try await fixture.task(files: [(40, 100), (40, 100)])
        let young = try await fixture.task(.image, files: [(10, 50)])
        let report = try await fixture.pruner().run(PrunePolicy(maxAge: .seconds(30 * 86_400)), dryRun: false, now: fixture.now)

        #expect(report.artifacts.count == 2)
        #expect(report.artifacts.bytes == 200)
        #expect(report.filesDeleted == 2)
        #expect(!fixture.fileExists(old, 0) && !fixture.fileExists(old, 1))
        #expect(fixture.fileExists(young, 0))
        #expect(try await fixture.artifacts(old).map(\.prunedAt) == [fixture.now, fixture.now])
        #expect(try await fixture.artifacts(young).map(\.prunedAt) == [nil])
        #expect(try await fixture.store.task(id: old.id)?.status == .completed, "the task row stays")
        // The emptied task folder goes too.
        #expect(!FileManager.default.fileExists(atPath: fixture.storage.mediaDirectory.appendingPathComponent(old.id).path))
        #expect(try await fixture.pendingRemovals() == 0)
    }

    @Test func unfinishedTasksAndPendingWebhooksAreNeverTouched() async throws {
        let downloading = try await fixture.task(status: .downloading, files: [(40, 100)])
        let waitingForHook = try await fixture.task(files: [(40, 100)])
        try await fixture.webhook(for: waitingForHook, status: "pending")
        let hookDone = try await fixture.task(files: [(40, 100)])
        try await fixture.webhook(for: hookDone, status: "dead")
        let failed = try await fixture.task(status: .failed, files: [(40, 100)])

        let report = try await fixture.pruner().run(
            PrunePolicy(maxAge: .zero, maxTotalSize: ByteCount(bytes: 0)), dryRun: false, now: fixture.now)

        #expect(report.artifacts.count == 2)
        #expect(fixture.fileExists(downloading, 0))
        #expect(fixture.fileExists(waitingForHook, 0))
        #expect(!fixture.fileExists(hookDone, 0))
        #expect(!fixture.fileExists(failed, 0))
        #expect(report.storedBytesAfter == 200)
        #expect(report.sizeLimitMet == false)
    }

    @Test func sizeLimitRemovesOldestFirstUntilItHolds() async throws {
        let tasks = try await [4.0, 3, 2, 1].asyncMap { days in try await fixture.task(files: [(days, 100)]) }
        let report = try await fixture.pruner().run(PrunePolicy(maxTotalSize: ByteCount(bytes: 250)), dryRun: false, now: fixture.now)

        #expect(report.storedBytesBefore == 400)
        #expect(report.storedBytesAfter == 200)
        #expect(report.sizeLimitMet == true)
        #expect(tasks.map { fixture.fileExists($0, 0) } == [false, false, true, true])
        #expect(report.artifacts.oldest == fixture.daysAgo(4))
        #expect(report.artifacts.newest == fixture.daysAgo(3))
    }

    @Test func bothLimitsMustHold() async throws {
        let tasks = try await [50.0, 40, 20, 10, 5].asyncMap { days in try await fixture.task(files: [(days, 100)]) }
        // Age alone removes two; the size limit then needs one more.
        let report = try await fixture.pruner().run(
            PrunePolicy(maxAge: .seconds(30 * 86_400), maxTotalSize: ByteCount(bytes: 200)), dryRun: false, now: fixture.now)
        #expect(tasks.map { fixture.fileExists($0, 0) } == [false, false, false, true, true])
        #expect(report.artifacts.count == 3)

        // A generous size limit does not stop the age limit.
        let young = try await fixture.task(files: [(1, 100)])
        let again = try await fixture.pruner().run(
            PrunePolicy(maxAge: .seconds(8 * 86_400), maxTotalSize: ByteCount(bytes: 1_000_000)), dryRun: false, now: fixture.now)
        #expect(again.artifacts.count == 1)
        #expect(!fixture.fileExists(tasks[3], 0) && fixture.fileExists(tasks[4], 0) && fixture.fileExists(young, 0))
    }

    @Test func kindLimitsTheScopeOfTheSizeLimit() async throws {
        let music = try await fixture.task(.music, files: [(9, 1000)])
        let images = try await [8.0, 7, 6].asyncMap { days in try await fixture.task(.image, files: [(days, 100)]) }
        let report = try await fixture.pruner().run(PrunePolicy(maxTotalSize: ByteCount(bytes: 150), kind: .image), dryRun: false, now: fixture.now)
        #expect(report.storedBytesBefore == 300)
        #expect(report.artifacts.byKind == [.image: FileTotals(files: 2, bytes: 200)])
        #expect(fixture.fileExists(music, 0))
        #expect(images.map { fixture.fileExists($0, 0) } == [false, false, true])
    }

    @Test func dryRunChangesNothingAndMatchesTheRealRun() async throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<40 {
            let kind: TaskKind = Bool.random(using: &generator) ? .music : .image
            let files = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                (Double.random(in: 0...90, using: &generator), Int.random(in: 10...500, using: &generator))
            }
            let status: TaskStatus = [.completed, .completed, .completed, .failed, .downloading].randomElement(using: &generator)!
            try await fixture.task(kind, status: status, files: files, finishedDaysAgo: Double.random(in: 0...120, using: &generator))
        }
        let policy = PrunePolicy(maxAge: .seconds(60 * 86_400), maxTotalSize: ByteCount(bytes: 5_000), deleteTasksOlderThan: .seconds(100 * 86_400))
        let before = try await fixture.allArtifacts()

        let dry = try await fixture.pruner(batchSize: 3).run(policy, dryRun: true, now: fixture.now)
        #expect(try await fixture.allArtifacts() == before, "a dry run changes no row")
        #expect(try await fixture.unprunedArtifactsWithoutFile().isEmpty, "a dry run deletes no file")
        #expect(dry.artifacts.count > 0 && dry.tasks.count > 0)

        let real = try await fixture.pruner(batchSize: 3).run(policy, dryRun: false, now: fixture.now)
        #expect(real.artifacts == dry.artifacts)
        #expect(real.tasks == dry.tasks)
        #expect(real.storedBytesBefore == dry.storedBytesBefore)
        #expect(real.storedBytesAfter == dry.storedBytesAfter)
        #expect(real.filesDeleted == dry.artifacts.count + dry.tasks.count - real.filesMissing)
        #expect(try await fixture.unprunedArtifactsWithoutFile().isEmpty)
        #expect(try await fixture.prunedArtifactsWithFile().isEmpty)

        // Idempotent: the same policy again finds nothing more to do.
        let again = try await fixture.pruner().run(policy, dryRun: false, now: fixture.now)
        #expect(again.removed == FileTotals())
        #expect(again.tasks.count == 0)
    }

    @Test func batchSizeDoesNotChangeTheSelection() async throws {
        for day in stride(from: 1.0, through: 30, by: 1) {
            try await fixture.task(files: [(day, 100), (day, 50)])
        }
        let policy = PrunePolicy(maxAge: .seconds(20 * 86_400), maxTotalSize: ByteCount(bytes: 1_000))
        let large = try await fixture.pruner(batchSize: 500).run(policy, dryRun: true, now: fixture.now)
        let tiny = try await fixture.pruner(batchSize: 1).run(policy, dryRun: true, now: fixture.now)
        let real = try await fixture.pruner(batchSize: 4).run(policy, dryRun: false, now: fixture.now)
        #expect(large.artifacts == tiny.artifacts)
        #expect(real.artifacts == large.artifacts)
        #expect(real.storedBytesAfter <= 1_000)
    }

    @Test func oldTaskRecordsAreDeletedWithFilesAndWebhookRows() async throws {
        let ancient = try await fixture.task(files: [(200, 100), (200, 100)])
        try await fixture.webhook(for: ancient, status: "delivered")
        let ancientFailed = try await fixture.task(status: .failed, files: [], finishedDaysAgo: 190)
        let stuck = try await fixture.task(status: .processing, files: [], finishedDaysAgo: nil)
        let hookPending = try await fixture.task(files: [(200, 100)])
        try await fixture.webhook(for: hookPending, status: "pending")
        let recent = try await fixture.task(files: [(20, 100)])

        let report = try await fixture.pruner().run(PrunePolicy(deleteTasksOlderThan: .seconds(180 * 86_400)), dryRun: false, now: fixture.now)

        #expect(report.tasks.count == 2)
        #expect(report.tasks.files == 2 && report.tasks.bytes == 200)
        #expect(try await fixture.store.task(id: ancient.id) == nil)
        #expect(try await fixture.store.task(id: ancientFailed.id) == nil)
        #expect(try await fixture.store.task(id: stuck.id) != nil)
        #expect(try await fixture.store.task(id: hookPending.id) != nil)
        #expect(try await fixture.store.task(id: recent.id) != nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.storage.mediaDirectory.appendingPathComponent(ancient.id).path))
        #expect(fixture.fileExists(hookPending, 0) && fixture.fileExists(recent, 0))
        let stats = try await fixture.store.stats(now: fixture.now)
        #expect(stats.webhooks["delivered"] == nil, "webhook rows cascade with the task")
        #expect(stats.prunedTotals.tasksDeleted == 2)
        #expect(stats.prunedTotals.files == 2)
    }

    @Test func aCrashAfterTheCommitIsFinishedByTheNextRun() async throws {
        let tasks = try await [40.0, 35, 5].asyncMap { days in try await fixture.task(files: [(days, 100)]) }
        let policy = PrunePolicy(maxAge: .seconds(30 * 86_400))
        // What a pruner killed right after its transaction committed leaves behind: rows marked, files still there.
        let batch = try await fixture.store.pruneArtifacts(
            PruneScope(), after: nil, limit: 500, rule: PruneRule(cutoff: fixture.daysAgo(30), excessBytes: 0), now: fixture.now, dryRun: false)
        #expect(batch.pruned.count == 2)
        #expect(try await fixture.unprunedArtifactsWithoutFile().isEmpty, "rows not pruned always have their file")
        #expect(try await fixture.prunedArtifactsWithFile().count == 2)
        #expect(try await fixture.pendingRemovals() == 2)

        let next = try await fixture.pruner().run(policy, dryRun: false, now: fixture.now)
        #expect(next.interruptedRemovalsFinished == 2)
        #expect(next.artifacts.count == 0)
        #expect(try await fixture.prunedArtifactsWithFile().isEmpty)
        #expect(try await fixture.pendingRemovals() == 0)
        #expect(tasks.map { fixture.fileExists($0, 0) } == [false, false, true])
    }

    @Test func aRemovalOfAFileStoredAgainKeepsTheFile() async throws {
        let task = try await fixture.task(files: [(40, 100)])
        try await fixture.store.writer.write { db in
            try SQLiteTaskStore.recordRemoval(db, taskID: task.id, fileName: "0.wav", now: self.fixture.now)
        }
        let totals = try await fixture.pruner().finishFileRemovals()
        #expect(totals.processed == 1 && totals.deleted == 0)
        #expect(fixture.fileExists(task, 0))
    }

    @Test func anEmptyPolicyIsRefused() async throws {
        await #expect(throws: RetentionError.nothingToDo) {
            try await fixture.pruner().run(PrunePolicy(kind: .music), dryRun: true, now: fixture.now)
        }
    }

    @Test func progressCountsTowardsThePlannedTotal() async throws {
        for day in 1...10 { try await fixture.task(files: [(Double(day) + 30, 10)]) }
        let seen = ProgressLog()
        _ = try await fixture.pruner(batchSize: 4).run(PrunePolicy(maxAge: .seconds(30 * 86_400)), dryRun: false, now: fixture.now) { seen.append($0) }
        #expect(seen.values.map(\.done) == [4, 8, 10])
        #expect(seen.values.allSatisfy { $0.total == 10 })
    }
}
