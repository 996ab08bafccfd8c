import Foundation
import Logging
import PostgresNIO
import Testing

@testable import MediaJobs

/// What only the PostgreSQL store has: its migrations, wake-ups across instances, shared
/// settings, retention on one instance at a time. Runs when `MEDIAJOBS_TEST_DATABASE_URL` names a
/// database (always under scripts/test).
@Suite(.enabled(if: StoreFactory.testDatabaseURL != nil)) struct PostgresStoreTests {
    /// A fresh schema, and a pool that works in it.
    private func freshSchema() async throws -> PostgresRun {
        try await freshSchemaAndName().run
    }

    private func freshSchemaAndName() async throws -> (run: PostgresRun, schema: String) {
        let url = try #require(StoreFactory.testDatabaseURL)
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let run = try PostgresRun(url: url, schema: schema)
        try await run.client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        return (run, schema)
    }

    @Test func instancesStartingTogetherMigrateOnceAndAllComeUp() async throws {
        let run = try await freshSchema()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { _ = try await PostgresStore(client: run.client, outbox: .testing) }
            }
            try await group.waitForAll()
        }
        let versions = try await run.client.query("SELECT version FROM mediajobs_schema ORDER BY version").collect()
            .map { try $0.decode(Int.self) }
        #expect(versions == Array(1...PostgresStore.migrations.count))
    }

    @Test func aSchemaNewerThanTheBinaryIsRefused() async throws {
        let run = try await freshSchema()
        _ = try await PostgresStore(client: run.client, outbox: .testing)
        let newer = PostgresStore.migrations.count + 1
        try await run.client.query("INSERT INTO mediajobs_schema (version) VALUES (\(newer))")
        await #expect(throws: PostgresSchemaError.self) { _ = try await PostgresStore(client: run.client, outbox: .testing) }
    }

    /// What one instance commits wakes the others (a `NOTIFY` after the commit): a new task wakes
    /// their submit workers, a task's end (its webhook deliveries) their dispatchers; deployments
    /// in other schemas hear nothing.
    @Test(.timeLimit(.minutes(1))) func otherInstancesAreWokenByNotifications() async throws {
        let (run, schema) = try await freshSchemaAndName()
        let store = try await PostgresStore(client: run.client, outbox: .testing)
        let otherSchema = try await freshSchema()
        let unrelated = try await PostgresStore(client: otherSchema.client, outbox: .testing)
        let notifying = [Task { await store.runNotifier() }, Task { await unrelated.runNotifier() }]
        defer { notifying.forEach { $0.cancel() } }
        let (wakeUps, heard) = AsyncStream.makeStream(of: StoreWakeUp.self)
        let listener = PostgresWakeUpListener(
            url: try PostgresDatabaseURL(try #require(StoreFactory.testDatabaseURL)), searchPath: schema, wake: { heard.yield($0) },
            logger: Logger(label: "test.listener"))
        let listening = Task { await listener.run() }
        defer { listening.cancel() }
        var iterator = wakeUps.makeAsyncIterator()
        // Once connected it wakes every worker to re-check what it may have missed.
        #expect(Set([await iterator.next(), await iterator.next()]) == [.tasks, .webhooks])

        _ = try await unrelated.accept(MediaTask(request: .music(MusicRequest(prompt: "elsewhere")), deadline: .seconds(60)), idempotency: nil, maxActivePerOwner: nil, now: Date())
        var task = MediaTask(request: .music(MusicRequest(prompt: "p")), callbackURL: "https://client.example/cb", deadline: .seconds(60))
        task.nextAttemptAt = Date().addingTimeInterval(-1)
        _ = try await store.accept(task, idempotency: nil, maxActivePerOwner: nil, now: Date())
        #expect(await iterator.next() == .tasks)
        let lease = try #require(try await store.claim(.queued, owner: "w", lease: .seconds(60), limit: 1, now: Date()).first?.lease)
        try await store.advance(taskID: task.id, from: .queued, lease: lease, change: .fail("no"), now: Date())
        #expect(await iterator.next() == .webhooks)
    }

    /// The webhook signing secret (and any shared value): the first instance's proposal wins.
    @Test func sharedSettingsKeepTheFirstValue() async throws {
        let run = try await freshSchema()
        let store = try await PostgresStore(client: run.client, outbox: .testing)
        let results = try await withThrowingTaskGroup(of: (value: String, created: Bool).self) { group in
            for index in 0..<4 { group.addTask { try await store.sharedSetting("secret", proposing: "value-\(index)") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter(\.created).count == 1)
        #expect(Set(results.map(\.value)).count == 1)
        #expect(try await store.sharedSetting("secret", proposing: "later") == (results[0].value, false))
    }

    /// Scheduled retention: while one instance holds the lock, another's turn is skipped.
    @Test func retentionRunsOnOneInstanceAtATime() async throws {
        let run = try await freshSchema()
        let first = try await PostgresStore(client: run.client, outbox: .testing)
        let second = try await PostgresStore(client: run.client, outbox: .testing)
        let inside = WorkSignal()
        let release = WorkSignal()
        let holding = Task {
            try await first.exclusiveRetention {
                inside.signal()
                await release.wait(timeout: .seconds(60))
                return 1
            }
        }
        await inside.wait(timeout: .seconds(60))
        #expect(try await second.exclusiveRetention { 2 } == nil, "skipped while the other instance prunes")
        release.signal()
        #expect(try await holding.value == 1)
        #expect(try await second.exclusiveRetention { 2 } == 2, "its turn once the lock is free")
    }

    /// Plain submits that arrive together share inserts (group commit); a row that cannot be
    /// inserted (here a duplicate id) fails alone, the rest of its batch lands.
    @Test func concurrentPlainSubmitsAllLandAndABadRowFailsAlone() async throws {
        let run = try await freshSchema()
        let store = try await PostgresStore(client: run.client, outbox: .testing)
        let tasks = (0..<200).map { MediaTask(request: .music(MusicRequest(prompt: "p\($0)")), deadline: .seconds(60)) }
        var duplicate = MediaTask(request: .music(MusicRequest(prompt: "again")), deadline: .seconds(60))
        duplicate.id = tasks[7].id
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for task in tasks + [duplicate] {
                group.addTask { (try? await store.accept(task, idempotency: nil, maxActivePerOwner: nil, now: Date())) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 200, "every distinct task accepted, the duplicate refused")
        let stored = try await run.client.query("SELECT COUNT(*) FROM tasks").collect().first?.decode(Int.self)
        #expect(stored == 200)
        #expect(try await store.tasks(ids: tasks.map(\.id)).map(\.id) == tasks.map(\.id))
    }
}
