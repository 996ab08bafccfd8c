import Foundation
import Logging

/// `mediajobs storage sweep`: removes stored objects that no artifact row names — what a crash
/// between an upload and its row (or a failed removal) can leave behind.
///
/// Objects written within `minimumAge` are left alone: their upload may be in flight, its row
/// not committed yet. An object counts as named when an unpruned artifact row of its task has its
/// file name.
public struct StorageSweeper: Sendable {
    let store: any TaskStore
    let storage: any ArtifactStore
    let logger: Logger

    public init(store: any TaskStore, storage: any ArtifactStore, logger: Logger) {
        self.store = store
        self.storage = storage
        self.logger = logger
    }

    /// What a sweep found and did.
    public struct Report: Sendable, Equatable, Encodable {
        public var scanned = 0
        /// Objects too recent to judge.
        public var recent = 0
        public var orphans: [String] = []
        public var orphanBytes: Int64 = 0
        public var deleted = 0
        public var dryRun = false

        enum CodingKeys: String, CodingKey {
            case scanned, recent, orphans, deleted
            case orphanBytes = "orphan_bytes"
            case dryRun = "dry_run"
        }
    }

    /// Sweeps the whole storage; `dryRun` only reports.
    public func run(minimumAge: Duration = .seconds(3600), dryRun: Bool, now: Date = Date()) async throws -> Report {
        var report = Report(dryRun: dryRun)
        let objects = try await storage.listAll()
        report.scanned = objects.count
        let cutoff = now.adding(.zero - minimumAge)
        let old = objects.filter { object in
            guard let modified = object.modifiedAt, modified < cutoff else { return false }
            return true
        }
        report.recent = objects.count - old.count
        var orphans: [StoredObject] = []
        let byTask = Dictionary(grouping: old, by: \.file.taskID)
        let taskIDs = byTask.keys.sorted()
        for start in stride(from: 0, to: taskIDs.count, by: 500) {
            let batch = Array(taskIDs[start..<min(start + 500, taskIDs.count)])
            let rows = try await store.artifacts(forTasks: batch)
            for taskID in batch {
                let named = Set((rows[taskID] ?? []).filter { $0.prunedAt == nil }.map(\.fileName))
                orphans += (byTask[taskID] ?? []).filter { !named.contains($0.file.fileName) }
            }
        }
        report.orphans = orphans.map { "\($0.file.taskID)/\($0.file.fileName)" }.sorted()
        report.orphanBytes = orphans.reduce(0) { $0 + $1.bytes }
        guard !dryRun, !orphans.isEmpty else { return report }
        let results = await storage.delete(orphans.map(\.file))
        for (object, result) in zip(orphans, results) {
            switch result {
            case .success: report.deleted += 1
            case .failure(let error):
                logger.error("orphan not removed", metadata: ["file": "\(object.file.taskID)/\(object.file.fileName)", "error": "\(error)"])
            }
        }
        logger.notice("storage swept", metadata: ["orphans": "\(orphans.count)", "deleted": "\(report.deleted)"])
        return report
    }
}
