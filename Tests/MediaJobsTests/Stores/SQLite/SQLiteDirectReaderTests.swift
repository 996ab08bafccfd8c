import Foundation
import GRDB
import Testing

@testable import MediaJobs

/// The event-loop reads (``EventLoopStoreAccess``): the SQLite C-API reader of file databases and
/// the GRDB read of in-memory ones answer the same as the full task read.
@Suite struct SQLiteDirectReaderTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func storedTasks(in store: SQLiteTaskStore) async throws -> (finished: MediaTask, queued: MediaTask, artifacts: [TaskArtifact]) {
        var finished = MediaTask(request: .music(MusicRequest(prompt: "rain")), createdAt: now, deadline: .seconds(600))
        finished.status = .failed
        finished.progress = 100
        finished.failReason = "provider said \"no\" \\ twice\n"
        finished.owner = "owner-digest"
        finished.finishedAt = now.addingTimeInterval(42)
        let queued = MediaTask(request: .music(MusicRequest(prompt: "sun")), createdAt: now, deadline: .seconds(600))
        try await store.insert(finished)
        try await store.insert(queued)
        let artifacts = [
            TaskArtifact(
                taskID: finished.id, index: 0, fileName: "0.wav", contentType: "audio/wav", bytes: 1234, sha256: String(repeating: "a", count: 64),
                sourceURL: "http://127.0.0.1:9/a.wav", title: "Rainy Afternoon", duration: 12.5, style: "lo-fi", imageURL: "http://127.0.0.1:9/a.png",
                createdAt: now),
            TaskArtifact(
                taskID: finished.id, index: 1, fileName: "1.wav", contentType: "audio/wav", bytes: 99, sha256: String(repeating: "b", count: 64),
                sourceURL: "http://127.0.0.1:9/b.wav", createdAt: now, prunedAt: now.addingTimeInterval(7)),
        ]
        // Written in reverse: the reader must order by index.
        try await store.writer.write { db in
            for artifact in artifacts.reversed() {
                try db.execute(sql: "INSERT INTO artifacts (\(TaskArtifact.columns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", arguments: artifact.databaseArguments())
            }
        }
        return (finished, queued, artifacts)
    }

    func expectSameAnswers(_ store: SQLiteTaskStore) async throws {
        let (finished, queued, artifacts) = try await storedTasks(in: store)
        let status = try #require(try await store.statusWithArtifacts(id: finished.id))
        #expect(status.0 == finished.statusRecord)
        #expect(status.1 == artifacts)
        let full = try #require(try await store.taskWithArtifacts(id: finished.id))
        #expect(status.0 == full.0.statusRecord)
        #expect(status.1 == full.1)

        let pending = try #require(try await store.statusWithArtifacts(id: queued.id))
        #expect(pending.0 == queued.statusRecord)
        #expect(pending.1.isEmpty)
        #expect(try await store.statusWithArtifacts(id: "suno_missing") == nil)

        let file = try #require(try store.readArtifact(taskID: finished.id, fileName: "1.wav"))
        #expect(file.artifact == artifacts[1] && file.owner == "owner-digest")
        #expect(try await store.artifact(taskID: finished.id, fileName: "1.wav")?.artifact == artifacts[1])
        #expect(try store.readArtifact(taskID: finished.id, fileName: "2.wav") == nil)
        #expect(try store.readStatus(id: finished.id)?.1 == artifacts)
    }

    @Test func fileDatabaseReadsThroughTheDirectReader() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing).tasks
        #expect(store.database.directReader != nil)
        try await expectSameAnswers(store)
    }

    @Test func inMemoryDatabaseReadsThroughGRDB() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        #expect(store.database.directReader == nil)
        try await expectSameAnswers(store)
    }

    @Test func directReaderSeesCommitsAndSurvivesConcurrentReads() async throws {
        let directory = TemporaryDirectory()
        let store = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: .testing).tasks
        let tasks = (0..<20).map { MediaTask(request: .music(MusicRequest(prompt: "p\($0)")), createdAt: now, deadline: .seconds(600)) }
        for task in tasks { try await store.insert(task) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<8 {
                group.addTask {
                    // Each reader walks the tasks from another starting point.
                    for task in tasks[(round * 2)...] + tasks[..<(round * 2)] {
                        let record = try #require(try await store.statusWithArtifacts(id: task.id))
                        #expect(record.0.id == task.id, "round \(round)")
                    }
                }
            }
            try await group.waitForAll()
        }
        // A change committed through GRDB is visible to the next status read.
        _ = try await store.cancel(taskID: tasks[0].id, now: now)
        #expect(try await store.statusWithArtifacts(id: tasks[0].id)?.0.status == .canceled)
    }
}
