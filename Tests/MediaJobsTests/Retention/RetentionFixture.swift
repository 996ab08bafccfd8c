import Foundation
import GRDB
import Logging

@testable import MediaJobs

/// An in-memory store plus a real media folder, with helpers to lay out tasks and artifacts of given ages.
final class RetentionFixture: Sendable {
    let store: SQLiteTaskStore
    let storage: LocalArtifactStore
    let directory: URL
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediajobs-retention-\(UUID().uuidString)")
        storage = LocalArtifactStore(dataDirectory: directory)
        try storage.prepare()
        store = try SQLiteStore.inMemory(outbox: .testing).tasks
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func pruner(batchSize: Int = 500) -> Pruner {
        var logger = Logger(label: "retention-test")
        logger.logLevel = .warning
        var pruner = Pruner(store: store, storage: storage, logger: logger)
        pruner.batchSize = batchSize
        return pruner
    }

    func daysAgo(_ days: Double) -> Date {
        now.addingTimeInterval(-days * 86_400)
    }

    /// A task in `status` with one stored file per entry of `files` (its age in days and size); a terminal task
    /// finished when its newest file was stored, unless `finishedDaysAgo` says otherwise.
    @discardableResult
    func task(
        _ kind: TaskKind = .music, status: TaskStatus = .completed, files: [(daysAgo: Double, bytes: Int)], finishedDaysAgo: Double? = nil
    ) async throws -> MediaTask {
        let createdDaysAgo = (files.map(\.daysAgo).max() ?? finishedDaysAgo ?? 0) + 0.01
        let request: TaskRequest =
            switch kind {
            case .music: .music(MusicRequest(prompt: "retention"))
            case .image: .image(ImageRequest(model: "nano-banana-2", prompt: "retention", count: max(1, files.count)))
            case .video: .video(VideoRequest(prompt: "retention"))
            }
        var task = MediaTask(request: request, createdAt: daysAgo(createdDaysAgo), deadline: .seconds(1800))
        task.status = status
        if status.isTerminal {
            task.finishedAt = daysAgo(finishedDaysAgo ?? files.map(\.daysAgo).min() ?? createdDaysAgo)
            task.progress = status == .completed ? 100 : 0
        }
        if status == .failed { task.failReason = "upstream said no" }
        if status != .queued { task.upstreamID = "up-\(task.id)" }
        try await store.insert(task)
        for (index, file) in files.enumerated() {
            try await addArtifact(to: task, index: index, bytes: file.bytes, createdAt: daysAgo(file.daysAgo))
        }
        return task
    }

    /// Writes the file and its artifact row.
    func addArtifact(to task: MediaTask, index: Int, bytes: Int, createdAt: Date) async throws {
        let fileName = "\(index).\(task.kind == .music ? "wav" : "png")"
        let artifact = TaskArtifact(
            taskID: task.id, index: index, fileName: fileName, contentType: task.kind == .music ? "audio/wav" : "image/png",
            bytes: Int64(bytes), sha256: String(repeating: "0", count: 64), sourceURL: "http://upstream.test/\(task.id)/\(index)",
            createdAt: createdAt)
        let url = storage.fileURL(taskID: task.id, fileName: fileName)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: 7, count: bytes).write(to: url)
        let arguments = artifact.databaseArguments()
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO artifacts (task_id, idx, file_name, content_type, bytes, sha256, source_url,
                        title, duration, style, image_url, created_at, pruned_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: arguments)
        }
    }

    /// Records a webhook delivery of `task` in `status` (`pending` blocks pruning).
    func webhook(for task: MediaTask, status: String) async throws {
        let eventID = "evt_\(UUID().uuidString)"
        try await store.writer.write { db in
            try db.execute(
                sql: "INSERT INTO webhook_events (id, task_id, type, payload, created_at) VALUES (?, ?, 'task.completed', '{}', ?)",
                arguments: [eventID, task.id, self.now.millis])
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (event_id, task_id, endpoint_url, status, next_attempt_at, created_at)
                    VALUES (?, ?, 'https://hooks.test/', ?, ?, ?)
                    """,
                arguments: [eventID, task.id, status, self.now.millis, self.now.millis])
        }
    }

    func fileExists(_ task: MediaTask, _ index: Int) -> Bool {
        FileManager.default.fileExists(atPath: storage.fileURL(taskID: task.id, fileName: "\(index).\(task.kind == .music ? "wav" : "png")").path)
    }

    func artifacts(_ task: MediaTask) async throws -> [TaskArtifact] {
        try await store.artifacts(forTasks: [task.id])[task.id] ?? []
    }

    /// Every artifact row: (task id, index, pruned?).
    func allArtifacts() async throws -> [TaskArtifact] {
        try await store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(TaskArtifact.columns) FROM artifacts ORDER BY task_id, idx").map(TaskArtifact.init(row:))
        }
    }

    func pendingRemovals() async throws -> Int {
        try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM file_removals") ?? 0 }
    }

    /// The invariant retention keeps at every moment: an artifact that is not pruned has its file.
    func unprunedArtifactsWithoutFile() async throws -> [String] {
        try await allArtifacts().filter { artifact in
            artifact.prunedAt == nil && !FileManager.default.fileExists(atPath: storage.fileURL(taskID: artifact.taskID, fileName: artifact.fileName).path)
        }.map(\.relativePath)
    }

    /// Pruned artifacts whose file is still on disk (allowed only until the recorded removals are drained).
    func prunedArtifactsWithFile() async throws -> [String] {
        try await allArtifacts().filter { artifact in
            artifact.prunedAt != nil && FileManager.default.fileExists(atPath: storage.fileURL(taskID: artifact.taskID, fileName: artifact.fileName).path)
        }.map(\.relativePath)
    }
}
