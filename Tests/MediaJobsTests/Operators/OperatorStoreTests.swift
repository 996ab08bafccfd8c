import Foundation
import Logging
import Synchronization
import Testing

@testable import MediaJobs

/// Statistics and the operator's retry edge, against an in-memory store.
@Suite struct OperatorStoreTests {
    let fixture: RetentionFixture

    init() throws {
        fixture = try RetentionFixture()
    }

    @Test func retrySendsAFailedTaskBackToTheQueueAsNew() async throws {
        let failed = try await fixture.task(status: .failed, files: [(1, 100)])
        // It had been given a 30 minute budget; the retry gets the same from now.
        let budget = failed.deadlineAt.timeIntervalSince(failed.createdAt)
        let retried = try await fixture.store.retry(taskID: failed.id, now: fixture.now)

        #expect(retried.status == .queued)
        #expect(retried.attempts == 0 && retried.pollCount == 0 && retried.progress == 0)
        #expect(retried.failReason == nil && retried.finishedAt == nil && retried.upstreamID == nil)
        #expect(retried.upstreamOutputs.isEmpty)
        #expect(retried.nextAttemptAt == fixture.now)
        #expect(retried.deadlineAt == fixture.now.addingTimeInterval(budget))
        #expect(retried.leaseOwner == nil)
        #expect(try await fixture.artifacts(failed).isEmpty, "the old run's artifacts go")
        #expect(fixture.fileExists(failed, 0), "the file is removed after the commit, by the caller")
        try await fixture.pruner().finishFileRemovals()
        #expect(!fixture.fileExists(failed, 0))

        // A worker can claim it again.
        let claimed = try await fixture.store.claim(.queued, owner: "w", lease: .seconds(60), limit: 5, now: fixture.now)
        #expect(claimed.map(\.id) == [failed.id])
    }

    @Test func onlyFailedTasksCanBeRetried() async throws {
        let completed = try await fixture.task(status: .completed, files: [(1, 10)])
        let canceled = try await fixture.task(status: .canceled, files: [])
        let queued = try await fixture.task(status: .queued, files: [])
        for task in [completed, canceled, queued] {
            await #expect(throws: TaskStoreError.conflict(id: task.id, status: task.status)) {
                try await fixture.store.retry(taskID: task.id, now: fixture.now)
            }
        }
        await #expect(throws: TaskStoreError.notFound("suno_missing")) {
            try await fixture.store.retry(taskID: "suno_missing", now: fixture.now)
        }
        #expect(try await fixture.artifacts(completed).count == 1)
    }

    @Test func statsCountTasksStorageAndBacklog() async throws {
        try await fixture.task(.music, status: .completed, files: [(3, 100), (3, 150)])
        let old = try await fixture.task(.image, status: .completed, files: [(40, 1000)])
        try await fixture.task(.image, status: .failed, files: [])
        try await fixture.task(.music, status: .queued, files: [])
        let hooked = try await fixture.task(.music, status: .completed, files: [])
        try await fixture.webhook(for: hooked, status: "pending")
        try await fixture.webhook(for: hooked, status: "dead")
        try await fixture.task(.music, status: .processing, files: [])
        _ = try await fixture.pruner().run(PrunePolicy(maxAge: .seconds(30 * 86_400)), dryRun: false, now: fixture.now)

        let stats = try await fixture.store.stats(now: fixture.now)
        #expect(stats.tasks[.music] == [.completed: 2, .queued: 1, .processing: 1])
        #expect(stats.tasks[.image] == [.completed: 1, .failed: 1])
        #expect(stats.inFlight == 2)
        #expect(stats.oldestQueuedAgeSeconds == 0.01 * 86_400)
        #expect(stats.storage[.music] == FileTotals(files: 2, bytes: 250))
        #expect(stats.storage[.image] == nil)
        #expect(stats.expired[.image] == FileTotals(files: 1, bytes: 1000))
        #expect(stats.prunedTotals == PrunedTotals(files: 1, bytes: 1000, tasksDeleted: 0, lastPrunedAt: fixture.now))
        #expect(stats.webhooks == ["pending": 1, "dead": 1])
        #expect(old.kind == .image)

        // The JSON shape reports every kind and status, zeros included.
        let json = try #require(try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(stats)) as? [String: Any])
        #expect(value(json, "tasks.by_kind.image.queued") as? Int == 0)
        #expect(value(json, "tasks.by_kind.music.total") as? Int == 4)
        #expect(value(json, "tasks.by_status.completed") as? Int == 3)
        #expect(value(json, "tasks.total") as? Int == 6)
        #expect(value(json, "storage.bytes") as? Int == 250)
        #expect(value(json, "pruned.removed_bytes") as? Int == 1000)
        #expect(value(json, "webhooks.pending") as? Int == 1)
        #expect(value(json, "webhooks.by_status.delivered") as? Int == 0)
    }
}

@Suite struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLine() throws {
        let line = JSONLogHandler.line(
            timestamp: Date(timeIntervalSince1970: 1_800_000_000.25), level: .warning, label: "mediajobs", message: "task \"failed\"\nbadly",
            metadata: ["task.id": "suno_1", "task.kind": "music", "message": "clash", "nested": .dictionary(["a": .array(["1", "2"])])])
        #expect(line.hasSuffix("}\n"))
        #expect(!line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "mediajobs")
        #expect(object["message"] as? String == "task \"failed\"\nbadly")
        #expect(object["task.id"] as? String == "suno_1")
        #expect(object["task.kind"] as? String == "music")
        #expect(object["meta.message"] as? String == "clash")
        #expect(value(object, "nested") as? [String: [String]] == ["a": ["1", "2"]])
    }

    @Test func handlerMergesLoggerMetadata() throws {
        let lines = LineLog()
        var logger = Logger(label: "test") { label in JSONLogHandler(label: label, output: lines.append) }
        logger[metadataKey: "task.id"] = "img_1"
        logger.info("stored", metadata: ["upstream.id": "up_9"])
        let first = try #require(lines.values.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["task.id"] as? String == "img_1")
        #expect(object["upstream.id"] as? String == "up_9")
        #expect(object["level"] as? String == "info")
    }
}

/// Lines written by a handler under test.
final class LineLog: Sendable {
    private let storage = Mutex<[String]>([])
    var append: @Sendable (String) -> Void { { line in self.storage.withLock { $0.append(line) } } }
    var values: [String] { storage.withLock { $0 } }
}
