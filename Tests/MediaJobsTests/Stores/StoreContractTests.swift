import Foundation
import Testing

@testable import MediaJobs

/// What every store must do, run against every ``StoreFactory``: the task basics here; the state
/// machine, concurrency, outbox, deliveries, retention and operators in the nested suites of the
/// `StoreContractTests+*.swift` files. Only the store protocols are used, so a new store passes or
/// fails the same tests.
@Suite struct StoreContractTests {
    @Test(arguments: StoreFactory.all)
    func insertedTaskReadsBackUnchanged(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        var task = MediaTask(
            request: .music(MusicRequest(prompt: "rain")), callbackURL: "https://example.com/hook", owner: "key-1", createdAt: store.now,
            deadline: .seconds(600))
        task.metadata = .object(["user": .string("u1"), "n": .number(3)])
        try await store.tasks.insert(task)
        #expect(try await store.tasks.task(id: task.id) == task)
        let (withArtifacts, artifacts) = try #require(try await store.tasks.taskWithArtifacts(id: task.id))
        #expect(withArtifacts == task && artifacts.isEmpty)
        let (record, none) = try #require(try await store.tasks.statusWithArtifacts(id: task.id))
        #expect(record == task.statusRecord && none.isEmpty)
        #expect(try await store.tasks.task(id: "suno_missing") == nil)
        #expect(try await store.tasks.statusWithArtifacts(id: "suno_missing") == nil)
        try await store.tasks.ping()
    }

    @Test(arguments: StoreFactory.all)
    func duplicateIDsAreRefused(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.queued()
        await #expect(throws: TaskStoreError.duplicateID(task.id)) { try await store.tasks.insert(task) }
    }

    @Test(arguments: StoreFactory.all)
    func batchLookupKeepsRequestOrder(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let first = try await store.queued(prompt: "a")
        let second = try await store.queued(prompt: "b")
        #expect(try await store.tasks.tasks(ids: [second.id, "missing", first.id]).map(\.id) == [second.id, first.id])
        #expect(try await store.tasks.tasks(ids: []).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func claimLeasesDueTasksOnlyOnce(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let due = try await store.queued(createdAt: store.now.addingTimeInterval(-1))
        let later = try await store.queued(createdAt: store.now.addingTimeInterval(60))
        #expect(try await store.tasks.nextDue(.queued) == due.nextAttemptAt)

        let first = try await store.tasks.claim(.queued, owner: "a", lease: .seconds(30), limit: 10, now: store.now)
        #expect(first.map(\.id) == [due.id])
        #expect(first.first?.leaseOwner == "a")
        #expect(first.first?.leaseExpiresAt != nil)
        #expect(first.first?.lease == Lease(owner: "a", epoch: 1), "the first claim of a task is its epoch 1")
        #expect(try await store.tasks.claim(.queued, owner: "b", lease: .seconds(30), limit: 10, now: store.now).isEmpty)
        // A leased task is not what an idle worker waits for.
        #expect(try await store.tasks.nextDue(.queued) == later.nextAttemptAt)
        #expect(try await store.tasks.nextDue(.processing) == nil)
        #expect(try await store.tasks.claim(.queued, owner: "b", lease: .seconds(30), limit: 0, now: store.now.addingTimeInterval(60)).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func claimTakesTheEarliestDueFirst(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let tasks = try await [30.0, 10, 20].asyncMap { seconds in try await store.queued(createdAt: store.now.addingTimeInterval(-seconds)) }
        let claimed = try await store.tasks.claim(.queued, owner: "a", lease: .seconds(30), limit: 2, now: store.now)
        #expect(claimed.map(\.id) == [tasks[0].id, tasks[2].id])
    }

    /// Compare-and-set: once the lease went to another worker, every late write of the first is refused.
    @Test(arguments: StoreFactory.all)
    func aLostLeaseRefusesEveryLateWrite(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.drive(try await store.queued(), to: .downloading)
        // A lease of zero has expired by the next statement, on whichever clock the store keeps leases.
        let crashed = try await store.lease(task, in: .downloading, owner: "crashed", for: .zero)
        let stolen = try await store.tasks.claim(.downloading, owner: "b", lease: .seconds(30), limit: 1, now: store.now)
        #expect(stolen.map(\.id) == [task.id])
        let holder = try #require(stolen.first?.lease)
        #expect(holder.epoch == crashed.epoch + 1)

        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.tasks.advance(taskID: task.id, from: .downloading, lease: crashed, change: TaskChange(path: [.completed]), now: store.now)
        }
        #expect(try await store.tasks.renewLease(taskID: task.id, lease: crashed, for: .seconds(600), now: store.now) == false)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.tasks.saveArtifact(store.artifact(of: task, index: 0), lease: crashed)
        }
        #expect(try await store.tasks.releaseLease(taskID: task.id, lease: crashed) == false)
        #expect(try await store.artifacts(task).isEmpty)
        let current = try #require(try await store.tasks.task(id: task.id))
        #expect(current.status == .downloading && current.lease == holder)
        // The new holder is unaffected.
        try await store.tasks.saveArtifact(store.artifact(of: task, index: 0), lease: holder)
        try await store.tasks.advance(taskID: task.id, from: .downloading, lease: holder, change: TaskChange(path: [.completed]), now: store.now)
    }

    /// The epoch fences a worker whose lease ran out and was claimed again by its own instance
    /// (same owner): only the newer claim may write.
    @Test(arguments: StoreFactory.all)
    func anOlderClaimOfTheSameOwnerIsRefused(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.drive(try await store.queued(), to: .processing)
        let paused = try await store.lease(task, in: .processing, for: .zero)
        let current = try await store.lease(task, in: .processing)
        #expect(paused.owner == current.owner && current.epoch == paused.epoch + 1)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.tasks.advance(taskID: task.id, from: .processing, lease: paused, change: .fail("late"), now: store.now)
        }
        #expect(try await store.tasks.renewLease(taskID: task.id, lease: paused, for: .seconds(60), now: store.now) == false)
        #expect(try await store.tasks.releaseLease(taskID: task.id, lease: paused) == false)
        let polled = try await store.tasks.advance(taskID: task.id, from: .processing, lease: current, change: TaskChange(progress: 30), now: store.now)
        #expect(polled.status == .processing && polled.progress == 30 && polled.leaseOwner == nil)
    }

    /// A write from a stale state is refused too, even by the lease holder's name.
    @Test(arguments: StoreFactory.all)
    func advanceFromAStateTheTaskLeftIsRefused(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.drive(try await store.queued(), to: .processing)
        let held = try await store.lease(task, in: .processing)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.tasks.advance(taskID: task.id, from: .queued, lease: held, change: TaskChange(path: [.processing]), now: store.now)
        }
        #expect(try await store.tasks.task(id: task.id)?.leaseOwner == "w")
    }

    @Test(arguments: StoreFactory.all)
    func renewedLeaseKeepsOthersOut(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.queued()
        // Claimed for no time at all, then renewed: the renewal is what keeps others out.
        let held = try await store.lease(task, in: .queued, owner: "a", for: .zero)
        #expect(try await store.tasks.renewLease(taskID: task.id, lease: held, for: .seconds(120), now: store.now))
        #expect(try await store.tasks.claim(.queued, owner: "b", lease: .seconds(30), limit: 1, now: store.now).isEmpty)
        // Renewed to zero, it is free again.
        #expect(try await store.tasks.renewLease(taskID: task.id, lease: held, for: .zero, now: store.now))
        #expect(try await store.tasks.claim(.queued, owner: "b", lease: .seconds(30), limit: 1, now: store.now).map(\.id) == [task.id])
    }

    @Test(arguments: StoreFactory.all)
    func releasedLeaseIsClaimableAtOnce(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.queued()
        let held = try await store.lease(task, in: .queued, owner: "a")
        #expect(try await store.tasks.releaseLease(taskID: task.id, lease: Lease(owner: "b", epoch: held.epoch)) == false)
        #expect(try await store.tasks.releaseLease(taskID: task.id, lease: held))
        let again = try await store.tasks.claim(.queued, owner: "b", lease: .seconds(30), limit: 1, now: store.now)
        #expect(again.map(\.id) == [task.id])
        #expect(again.first?.status == .queued && again.first?.attempts == 0)
    }

    @Test(arguments: StoreFactory.all)
    func advanceAppliesTheChangeAndReleasesTheLease(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.queued()
        let held = try await store.lease(task, in: .queued)
        let outputs = [UpstreamOutput(url: "http://upstream.test/a.wav", title: "A", duration: 1.5, style: "lo-fi", imageURL: "http://upstream.test/a.png")]
        let moved = try await store.tasks.advance(
            taskID: task.id, from: .queued, lease: held,
            change: TaskChange(path: [.processing], upstreamID: "up-1", upstreamOutputs: outputs, progress: 5, nextAttemptAt: store.now.addingTimeInterval(-2), attempts: 1, pollCount: 2),
            now: store.now.addingTimeInterval(1))
        #expect(moved.status == .processing)
        #expect(moved.upstreamID == "up-1" && moved.upstreamOutputs == outputs && moved.progress == 5)
        #expect(moved.attempts == 1 && moved.pollCount == 2)
        #expect(moved.nextAttemptAt == store.now.addingTimeInterval(-2))
        #expect(moved.updatedAt == store.now.addingTimeInterval(1))
        #expect(moved.leaseOwner == nil && moved.leaseExpiresAt == nil && moved.finishedAt == nil)
        #expect(try await store.tasks.task(id: task.id) == moved)

        // An empty path keeps the status (a poll that found the task still running).
        let polling = try await store.lease(moved, in: .processing)
        let polled = try await store.tasks.advance(taskID: task.id, from: .processing, lease: polling, change: TaskChange(progress: 40, pollCount: 3), now: store.now)
        #expect(polled.status == .processing && polled.progress == 40 && polled.pollCount == 3 && polled.upstreamID == "up-1")
    }

    @Test(arguments: StoreFactory.all)
    func completionSetsProgressAndFinishTime(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let end = store.now.addingTimeInterval(90)
        let completed = try await store.task(.completed, files: [(10, store.now)], finishedAt: end)
        #expect(completed.status == .completed && completed.progress == 100 && completed.finishedAt == end)
        let failed = try await store.task(.failed, finishedAt: end)
        #expect(failed.status == .failed && failed.failReason == "upstream said no" && failed.finishedAt == end)
    }

    @Test(arguments: StoreFactory.all)
    func cancelEndsQueuedAndProcessingTasksOnly(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let queued = try await store.queued()
        let processing = try await store.task(.processing)
        let downloading = try await store.task(.downloading)
        let completed = try await store.task(.completed)
        for task in [queued, processing] {
            let canceled = try await store.tasks.cancel(taskID: task.id, now: store.now.addingTimeInterval(5))
            #expect(canceled.status == .canceled && canceled.finishedAt == store.now.addingTimeInterval(5) && canceled.leaseOwner == nil)
        }
        for task in [downloading, completed] {
            await #expect(throws: TaskStoreError.conflict(id: task.id, status: task.status)) { try await store.tasks.cancel(taskID: task.id, now: store.now) }
        }
        await #expect(throws: TaskStoreError.notFound("suno_missing")) { try await store.tasks.cancel(taskID: "suno_missing", now: store.now) }
    }

    /// A cancel while a worker holds the task: the worker's next write is refused.
    @Test(arguments: StoreFactory.all)
    func cancelStopsAWorkerMidStep(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.queued()
        let held = try await store.lease(task, in: .queued)
        #expect(try await store.tasks.cancel(taskID: task.id, now: store.now).status == .canceled)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) {
            try await store.tasks.advance(taskID: task.id, from: .queued, lease: held, change: TaskChange(path: [.processing], upstreamID: "late"), now: store.now)
        }
        #expect(try await store.tasks.renewLease(taskID: task.id, lease: held, for: .seconds(60), now: store.now) == false)
        #expect(try await store.tasks.task(id: task.id)?.status == .canceled)
    }

    @Test(arguments: StoreFactory.all)
    func artifactsNeedTheDownloadLeaseAndReplaceByIndex(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        let task = try await store.drive(try await store.queued(owner: "key-1"), to: .processing)
        // Held, but not downloading yet.
        let polling = try await store.lease(task, in: .processing)
        await #expect(throws: TaskStoreError.leaseLost(task.id)) { try await store.tasks.saveArtifact(store.artifact(of: task, index: 0), lease: polling) }
        try await store.tasks.advance(taskID: task.id, from: .processing, lease: polling, change: TaskChange(path: [.downloading]), now: store.now)
        // Downloading, but not held.
        await #expect(throws: TaskStoreError.leaseLost(task.id)) { try await store.tasks.saveArtifact(store.artifact(of: task, index: 0), lease: polling) }
        let held = try await store.lease(task, in: .downloading)
        var second = store.artifact(of: task, index: 1, bytes: 20)
        second.title = "Rainy Afternoon"
        second.duration = 12.5
        second.style = "lo-fi"
        second.imageURL = "http://upstream.test/cover.png"
        try await store.tasks.saveArtifact(second, lease: held)
        try await store.tasks.saveArtifact(store.artifact(of: task, index: 0, bytes: 10), lease: held)
        // A re-download replaces, never duplicates.
        let replaced = store.artifact(of: task, index: 0, bytes: 11)
        try await store.tasks.saveArtifact(replaced, lease: held)

        #expect(try await store.artifacts(task) == [replaced, second])
        let found = try #require(try await store.tasks.artifact(taskID: task.id, fileName: "1.wav"))
        #expect(found.artifact == second && found.owner == "key-1")
        #expect(try await store.tasks.artifact(taskID: task.id, fileName: "2.wav") == nil)
        #expect(try await store.tasks.artifact(taskID: "suno_missing", fileName: "0.wav") == nil)
        let (_, withTask) = try #require(try await store.tasks.taskWithArtifacts(id: task.id))
        #expect(withTask == [replaced, second])
        let (_, withStatus) = try #require(try await store.tasks.statusWithArtifacts(id: task.id))
        #expect(withStatus == [replaced, second])
        let other = try await store.queued()
        #expect(try await store.tasks.artifacts(forTasks: [task.id, other.id]).keys.sorted() == [task.id])
    }

    /// Cursor paging: every task exactly once, newest first, ties on the creation time broken by id.
    @Test(arguments: StoreFactory.all)
    func listPagesNewestFirstWithFilters(_ factory: StoreFactory) async throws {
        let store = try await factory.make()
        var music: [MediaTask] = []
        for index in 0..<9 {
            // Three tasks share each creation time.
            music.append(try await store.queued(createdAt: store.now.addingTimeInterval(Double(index / 3)), owner: index % 2 == 0 ? "even" : "odd"))
        }
        let image = try await store.queued(.image, createdAt: store.now.addingTimeInterval(10))
        try await store.drive(music[4], to: .canceled)

        func walk(_ query: TaskQuery) async throws -> [String] {
            var query = query
            var seen: [String] = []
            while true {
                let page = try await store.tasks.list(query)
                #expect(page.tasks.count <= query.limit)
                seen += page.tasks.map(\.id)
                guard page.hasMore, let last = page.tasks.last else { break }
                query.after = last.id
            }
            return seen
        }
        let newestFirst = music.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
        #expect(try await walk(TaskQuery(kind: .music, limit: 2)) == newestFirst)
        #expect(try await walk(TaskQuery(limit: 4)) == [image.id] + newestFirst)
        #expect(try await walk(TaskQuery(kind: .music, owner: "odd", limit: 1)) == newestFirst.filter { id in music.first { $0.id == id }?.owner == "odd" })
        #expect(try await walk(TaskQuery(status: .canceled)) == [music[4].id])
        #expect(try await store.tasks.list(TaskQuery(kind: .image)).tasks.map(\.id) == [image.id])
        #expect(try await store.tasks.list(TaskQuery(status: .completed)) == TaskPage(tasks: [], hasMore: false))
        let full = try await store.tasks.list(TaskQuery(limit: 10))
        #expect(full.tasks.count == 10 && !full.hasMore)
    }
}
