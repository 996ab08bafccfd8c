import Foundation
import Testing

@testable import MediaJobs

@Suite struct SQLiteTaskStoreTests {
    let store: SQLiteTaskStore
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        store = try SQLiteTaskStore.inMemory()
    }

    func musicTask(at date: Date? = nil, prompt: String = "rain") -> MediaTask {
        MediaTask(request: .music(MusicRequest(prompt: prompt)), createdAt: date ?? now, deadline: .seconds(600))
    }

    @Test func insertedTaskReadsBackUnchanged() async throws {
        var task = musicTask()
        task.metadata = .object(["user": .string("u1"), "n": .number(3)])
        task.callbackURL = "https://example.com/hook"
        try await store.insert(task)
        let loaded = try #require(try await store.task(id: task.id))
        #expect(loaded == task)
    }

    @Test func duplicateIDsAreRefused() async throws {
        let task = musicTask()
        try await store.insert(task)
        await #expect(throws: TaskStoreError.duplicateID(task.id)) { try await store.insert(task) }
    }

    @Test func claimLeasesDueTasksOnlyOnce() async throws {
        let due = musicTask()
        var later = musicTask()
        later.nextAttemptAt = now.addingTimeInterval(60)
        try await store.insert(due)
        try await store.insert(later)

        let first = try await store.claim(.queued, owner: "a", lease: .seconds(30), limit: 10, now: now)
        #expect(first.map(\.id) == [due.id])
        #expect(first.first?.leaseOwner == "a")
        let second = try await store.claim(.queued, owner: "b", lease: .seconds(30), limit: 10, now: now)
        #expect(second.isEmpty)
    }

    @Test func expiredLeaseMakesTaskClaimableAgain() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "crashed", lease: .seconds(30), limit: 1, now: now)
        let stolen = try await store.claim(.queued, owner: "b", lease: .seconds(30), limit: 1, now: now.addingTimeInterval(31))
        #expect(stolen.map(\.id) == [task.id])
        // The first owner's late update is refused: its lease is gone.
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.advance(taskID: task.id, from: .queued, owner: "crashed", change: TaskChange(path: [.processing], upstreamID: "u"), now: now)
        }
    }

    @Test func advanceMovesStatusAndReleasesLease() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        let moved = try await store.advance(
            taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing], upstreamID: "up-1", nextAttemptAt: now.addingTimeInterval(2)), now: now)
        #expect(moved.status == .processing)
        #expect(moved.upstreamID == "up-1")
        #expect(moved.leaseOwner == nil)
        #expect(moved.finishedAt == nil)
    }

    @Test func advanceRefusesEdgesOutsideTheStateMachine() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        await #expect(throws: TaskStoreError.invalidTransition(from: .queued, path: [.completed])) {
            try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.completed]), now: now)
        }
    }

    @Test func terminalTaskNeverChangesAgain() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        let failed = try await store.advance(taskID: task.id, from: .queued, owner: "w", change: .fail("boom"), now: now)
        #expect(failed.status == .failed)
        #expect(failed.finishedAt != nil)
        await #expect(throws: TaskStoreError.conflict(id: task.id, status: .failed)) { try await store.cancel(taskID: task.id, now: now) }
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing]), now: now)
        }
        #expect(try await store.task(id: task.id)?.status == .failed)
    }

    @Test func cancelStopsAWorkerMidStep() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        let canceled = try await store.cancel(taskID: task.id, now: now)
        #expect(canceled.status == .canceled)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing], upstreamID: "late"), now: now)
        }
        await #expect(throws: TaskStoreError.notFound("missing")) { try await store.cancel(taskID: "missing", now: now) }
    }

    @Test func artifactsNeedTheDownloadLease() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing, .downloading], upstreamOutputs: [UpstreamOutput(url: "http://x/a.wav")]), now: now)
        let artifact = TaskArtifact(taskID: task.id, index: 0, fileName: "0.wav", contentType: "audio/wav", bytes: 10, sha256: "ab", sourceURL: "http://x/a.wav")
        await #expect(throws: TaskStoreError.leaseLost(task.id)) { try await store.saveArtifact(artifact, owner: "w") }
        _ = try await store.claim(.downloading, owner: "w", lease: .seconds(30), limit: 1, now: now)
        try await store.saveArtifact(artifact, owner: "w")
        try await store.saveArtifact(artifact, owner: "w")  // a re-download replaces, never duplicates
        #expect(try await store.artifacts(forTasks: [task.id])[task.id]?.count == 1)
        let stored = try #require(try await store.artifact(taskID: task.id, fileName: "0.wav"))
        #expect(stored.artifact.sha256 == "ab" && stored.artifact.bytes == 10)
        #expect(stored.owner == task.owner)
        #expect(try await store.artifact(taskID: task.id, fileName: "1.wav") == nil)
    }

    @Test func recoveryReleasesLeasesAndRepollsAtOnce() async throws {
        let task = musicTask()
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now)
        try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing], upstreamID: "u", nextAttemptAt: now.addingTimeInterval(300)), now: now)
        _ = try await store.claim(.processing, owner: "dead", lease: .seconds(600), limit: 1, now: now.addingTimeInterval(300))
        let unfinished = try await store.recoverAfterRestart(now: now.addingTimeInterval(301))
        #expect(unfinished == 1)
        let claimed = try await store.claim(.processing, owner: "new", lease: .seconds(30), limit: 1, now: now.addingTimeInterval(301))
        #expect(claimed.map(\.id) == [task.id])
    }

    @Test func listPagesNewestFirstWithFilters() async throws {
        var ids: [String] = []
        for index in 0..<7 {
            let task = musicTask(at: now.addingTimeInterval(Double(index)))
            try await store.insert(task)
            ids.append(task.id)
        }
        try await store.insert(MediaTask(request: .image(ImageRequest(model: "nano-banana-2", prompt: "cat")), createdAt: now, deadline: .seconds(60)))
        var seen: [String] = []
        var query = TaskQuery(kind: .music, limit: 3)
        while true {
            let page = try await store.list(query)
            seen += page.tasks.map(\.id)
            guard page.hasMore, let last = page.tasks.last else { break }
            query.after = last.id
        }
        #expect(seen == ids.reversed())
        #expect(try await store.list(TaskQuery(kind: .image)).tasks.count == 1)
        #expect(try await store.list(TaskQuery(status: .completed)).tasks.isEmpty)
    }

    @Test func batchLookupKeepsRequestOrder() async throws {
        let first = musicTask(prompt: "a")
        let second = musicTask(prompt: "b")
        try await store.insert(first)
        try await store.insert(second)
        let found = try await store.tasks(ids: [second.id, "missing", first.id])
        #expect(found.map(\.id) == [second.id, first.id])
    }

    /// Group commit: a refused submit in a batch (reused key, full quota) fails alone; the others
    /// of the same batch are stored.
    @Test func refusedSubmitsInABatchFailAlone() async throws {
        let first = musicTask(prompt: "first")
        _ = try await store.accept(first, idempotency: IdempotencyClaim(owner: nil, key: "k", fingerprint: "f1"), maxActivePerOwner: nil, now: now)
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<AcceptOutcome, TaskStoreError>).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let task = musicTask(prompt: "p\(index)")
                    // Every fourth submit reuses the key with another request: refused.
                    let claim = index % 4 == 0 ? IdempotencyClaim(owner: nil, key: "k", fingerprint: "other") : nil
                    do {
                        return (index, .success(try await store.accept(task, idempotency: claim, maxActivePerOwner: nil, now: now)))
                    } catch let error as TaskStoreError {
                        return (index, .failure(error))
                    }
                }
            }
            return try await group.reduce(into: [Int: Result<AcceptOutcome, TaskStoreError>]()) { $0[$1.0] = $1.1 }
        }
        var created: [MediaTask] = []
        for (index, outcome) in outcomes {
            switch outcome {
            case .success(.created(let task)):
                #expect(index % 4 != 0)
                created.append(task)
            case .failure(let error):
                #expect(index % 4 == 0)
                #expect(error == .idempotencyKeyReused(key: "k"))
            default:
                Issue.record("unexpected outcome \(outcome) for submit \(index)")
            }
        }
        #expect(created.count == 30)
        for task in created {
            #expect(try await store.task(id: task.id) == task)
        }
        #expect(try await store.list(TaskQuery(limit: 100)).tasks.count == 31)
    }
}
