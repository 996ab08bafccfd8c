import Foundation
import Logging
import Testing

@testable import MediaJobs

/// `storage sweep`: what no artifact row names goes, once old enough; named and recent files stay.
@Suite struct StorageSweeperTests {
    @Test func removesOldOrphansOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = LocalArtifactStore(dataDirectory: directory)
        try storage.prepare()
        let database = try SQLiteStore.inMemory(outbox: .testing)
        let task = MediaTask(request: .music(MusicRequest(prompt: "kept")), deadline: .seconds(600))
        try await database.tasks.insert(task)
        let lease = try #require(try await database.tasks.claim(.queued, owner: "w", lease: .seconds(60), limit: 1, now: Date()).first?.lease)
        try await database.tasks.advance(taskID: task.id, from: .queued, lease: lease, change: TaskChange(path: [.processing, .downloading]), now: Date())
        let held = try #require(try await database.tasks.claim(.downloading, owner: "w", lease: .seconds(60), limit: 1, now: Date()).first?.lease)
        try await database.tasks.saveArtifact(
            TaskArtifact(taskID: task.id, index: 0, fileName: "0.wav", contentType: "audio/wav", bytes: 3, sha256: String(repeating: "0", count: 64),
                         sourceURL: "http://upstream.test/0.wav"), lease: held)

        func place(_ taskID: String, _ name: String, age: TimeInterval) throws {
            let folder = storage.mediaDirectory.appendingPathComponent(taskID)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let file = folder.appendingPathComponent(name)
            try Data([1, 2, 3]).write(to: file)
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: file.path)
        }
        try place(task.id, "0.wav", age: 7200)  // named by its row
        try place(task.id, "1.wav", age: 7200)  // no row: an orphan
        try place("suno_gone", "0.wav", age: 7200)  // no task at all
        try place("suno_gone", "1.wav", age: 60)  // an orphan, but an upload may be in flight

        let sweeper = StorageSweeper(store: database.tasks, storage: storage, logger: Logger(label: "test"))
        let dryRun = try await sweeper.run(dryRun: true)
        #expect(dryRun.scanned == 4 && dryRun.recent == 1 && dryRun.deleted == 0)
        #expect(dryRun.orphans == ["\(task.id)/1.wav", "suno_gone/0.wav"])
        #expect(dryRun.orphanBytes == 6)
        #expect(try await storage.listAll().count == 4, "a dry run removes nothing")

        let swept = try await sweeper.run(dryRun: false)
        #expect(swept.deleted == 2)
        let left = try await storage.listAll().map { "\($0.file.taskID)/\($0.file.fileName)" }.sorted()
        #expect(left == ["\(task.id)/0.wav", "suno_gone/1.wav"])
    }
}
