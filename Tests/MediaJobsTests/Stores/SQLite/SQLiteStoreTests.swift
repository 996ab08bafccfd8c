import Foundation
import GRDB
import Testing

@testable import MediaJobs

/// What only the single-node SQLite store does: start-up recovery that releases every lease, the
/// data-directory lock, and its schema migrations.
@Suite struct SQLiteStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func recoveryReleasesEveryLeaseAndRepollsAtOnce() async throws {
        let database = try SQLiteStore.inMemory(outbox: WebhookOutbox(endpoints: [], renderPayload: { _, _ in Data("{}".utf8) }, wake: {}))
        let store = database.tasks
        let polling = MediaTask(request: .music(MusicRequest(prompt: "a")), createdAt: now, deadline: .seconds(600))
        let queued = MediaTask(request: .music(MusicRequest(prompt: "b")), createdAt: now, deadline: .seconds(600))
        var hooked = MediaTask(request: .music(MusicRequest(prompt: "c")), createdAt: now, deadline: .seconds(600))
        hooked.callbackURL = "https://client.example/cb"
        for task in [polling, queued, hooked] { try await store.insert(task) }
        let claimed = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 3, now: now)
        func lease(of task: MediaTask) throws -> Lease { try #require(claimed.first { $0.id == task.id }?.lease) }
        try await store.advance(
            taskID: polling.id, from: .queued, lease: try lease(of: polling), change: TaskChange(path: [.processing], upstreamID: "u", nextAttemptAt: now.addingTimeInterval(300)), now: now)
        try await store.advance(taskID: hooked.id, from: .queued, lease: try lease(of: hooked), change: .fail("x"), now: now)
        // The previous process held a poll, a submit and a webhook delivery when it died.
        _ = try await store.claim(.processing, owner: "dead", lease: .seconds(600), limit: 1, now: now.addingTimeInterval(300))
        #expect(try await database.webhooks.claim(owner: "dead", lease: .seconds(600), limit: 1, now: now).count == 1)

        let restart = now.addingTimeInterval(301)
        #expect(try await database.recoverSingleNodeAfterRestart(now: restart) == 2)
        #expect(try await store.claim(.queued, owner: "new", lease: .seconds(30), limit: 1, now: restart).map(\.id) == [queued.id])
        #expect(try await store.claim(.processing, owner: "new", lease: .seconds(30), limit: 1, now: restart).map(\.id) == [polling.id])
        #expect(try await database.webhooks.claim(owner: "new", lease: .seconds(30), limit: 1, now: restart).first?.delivery.taskID == hooked.id)
    }

    @Test func recoveryMakesAPollDueNowButKeepsAnEarlierTime() async throws {
        let database = try SQLiteStore.inMemory(outbox: .testing)
        let task = MediaTask(request: .music(MusicRequest(prompt: "a")), createdAt: now, deadline: .seconds(600))
        try await database.tasks.insert(task)
        let held = try #require(try await database.tasks.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now).first?.lease)
        try await database.tasks.advance(
            taskID: task.id, from: .queued, lease: held, change: TaskChange(path: [.processing], upstreamID: "u", nextAttemptAt: now.addingTimeInterval(10)),
            now: now)
        _ = try await database.recoverSingleNodeAfterRestart(now: now.addingTimeInterval(60))
        #expect(try await database.tasks.task(id: task.id)?.nextAttemptAt == now.addingTimeInterval(10))
        _ = try await database.recoverSingleNodeAfterRestart(now: now.addingTimeInterval(5))
        #expect(try await database.tasks.task(id: task.id)?.nextAttemptAt == now.addingTimeInterval(5))
    }

    /// `serve` takes the data-directory lock; operator commands open the same database beside it.
    @Test func onlyOneServerAtATimeButOperatorsBesideIt() throws {
        let directory = TemporaryDirectory()
        try {
            let serving = try SQLiteStore.openForServing(dataDirectory: directory.url, outbox: .testing)
            #expect(throws: StartupError.self) { try SQLiteStore.openForServing(dataDirectory: directory.url, outbox: .testing) }
            let beside = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing)
            #expect(beside.lock == nil)
            // Any store made from the serving one keeps the lock.
            let tasks = serving.tasks
            withExtendedLifetime(tasks) {}
        }()
        // Once every store of the first server is gone, another may start.
        _ = try SQLiteStore.openForServing(dataDirectory: directory.url, outbox: .testing)
    }

    /// Claims and same-status step results commit without an fsync; the connection is back to
    /// fsyncing every commit after each, so a submit's commit stays durable.
    @Test func onlyClaimsAndReschedulesSkipTheFsync() async throws {
        let directory = TemporaryDirectory()
        let database = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing)
        @Sendable func level(_ db: Database) throws -> Int? { try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        func level() async throws -> Int? { try await database.writer.writeWithoutTransaction { try level($0) } }
        #expect(try await level() == 2)  // FULL
        let during = try await database.writer.writeWithoutTransaction { db in try SQLiteDurability.deferred.committing(db) { try level(db) } }
        #expect(during == 1)  // NORMAL
        #expect(try await level() == 2)

        let task = MediaTask(request: .music(MusicRequest(prompt: "a")), createdAt: now, deadline: .seconds(600))
        try await database.tasks.insert(task)
        let held = try #require(try await database.tasks.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: now).first?.lease)
        #expect(try await level() == 2)
        try await database.tasks.reschedule(
            taskID: task.id, in: .queued, lease: held, change: TaskChange(nextAttemptAt: now.addingTimeInterval(10), attempts: 1), now: now)
        #expect(try await level() == 2)
        let reopened = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing)
        #expect(try await reopened.tasks.task(id: task.id)?.attempts == 1)
    }

    /// A reschedule (a poll that found the task still running) writes the row and its due-time
    /// entry, no other index: SQLite rewrites the entries of every index on an assigned column,
    /// changed or not. Measured in WAL pages against an `UPDATE` of the lease and due time alone,
    /// on as many rows spread alike: 103 pages against 102, where assigning `status` as well wrote
    /// 116 (the `(owner, status)` index).
    @Test func aRescheduleWritesNoIndexButTheDueTimes() async throws {
        let directory = TemporaryDirectory()
        let database = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing)
        let tasks = (0..<2_000).map { index in
            var task = MediaTask(request: .music(MusicRequest(prompt: "song \(index)")), createdAt: now, deadline: .seconds(600))
            task.owner = "one-key"
            return task
        }
        try await database.writer.write { db in
            for task in tasks { try SQLiteTaskStore.insertRow(try task.databaseArguments(), db) }
        }
        var leases: [String: Lease] = [:]
        for _ in 0..<(tasks.count / TaskStatus.claimCandidates + 1) {
            for task in try await database.tasks.claim(.queued, owner: "w", lease: .seconds(60), limit: tasks.count, now: now) { leases[task.id] = task.lease }
        }
        #expect(leases.count == tasks.count)
        /// WAL pages written by `update`, run in one transaction on every 20th task from `first`.
        func pagesWritten(from first: Int, _ update: @escaping @Sendable (_ id: String, _ lease: Lease, _ due: Int64, Database) throws -> Void) async throws -> Int {
            let rows = stride(from: first, to: tasks.count, by: 20).map { (tasks[$0].id, leases[tasks[$0].id]!) }
            return try await database.writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                try db.inTransaction {
                    for (offset, (id, lease)) in rows.enumerated() { try update(id, lease, 1_800_000_500_000 + Int64(offset * 7_919 % 100) * 1_000, db) }
                    return .commit
                }
                return try #require(try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")?[1] as Int?)
            }
        }
        let leaseAndDueTime = try await pagesWritten(from: 10) { id, lease, due, db in
            try db.execute(
                sql: "UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? WHERE id = ? AND lease_epoch = ?",
                arguments: [due, id, lease.epoch])
            #expect(db.changesCount == 1)
        }
        let reschedule = try await pagesWritten(from: 0) { id, lease, due, db in
            try db.execute(
                sql: SQLiteTaskStore.rescheduleSQL,
                arguments: [1_800_000_000_000, nil, nil, nil, nil, due, 0, 3, nil, 0.5, id, "queued", lease.owner, lease.epoch])
            #expect(db.changesCount == 1)
        }
        #expect(reschedule <= leaseAndDueTime + leaseAndDueTime / 10, "\(reschedule) WAL pages against \(leaseAndDueTime) for the lease and due time alone")
    }

    @Test func migrationsRunOnceAndKeepTheData() async throws {
        let directory = TemporaryDirectory()
        let task = MediaTask(request: .music(MusicRequest(prompt: "kept")), createdAt: now, deadline: .seconds(600))
        try await SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing).tasks.insert(task)
        let reopened = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing)
        #expect(try await reopened.tasks.task(id: task.id) == task)
        let applied = try await reopened.writer.read { db in try SQLiteStore.migrator.appliedIdentifiers(db) }
        #expect(applied == Set(SQLiteStore.migrator.migrations))
        #expect(try await reopened.writer.read { db in try SQLiteStore.migrator.hasCompletedMigrations(db) })
    }

    /// Task rows are read by position from ``MediaTask/columns``: the list must name every column
    /// the migrations made, in the table's order, or a new column would go unread (but for the
    /// columns derived from the request, named in ``MediaTask/derivedColumns``).
    @Test func taskColumnsAreTheTablesInItsOrder() async throws {
        let database = try SQLiteStore.inMemory(outbox: .testing)
        let table = try await database.writer.read { db in try db.columns(in: "tasks").map(\.name) }
        let listed = MediaTask.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(listed + MediaTask.derivedColumns == table)
    }
}
