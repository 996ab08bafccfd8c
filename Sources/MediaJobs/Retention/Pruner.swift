import Foundation
import Logging

/// Applies a ``PrunePolicy``: the one implementation behind `mediajobs prune`, `POST /admin/v1/prune`
/// and the automatic retention of `serve`.
///
/// Order of work, chosen so a crash at any point leaves rows and files agreeing:
/// 1. finish file removals an interrupted earlier run committed but did not carry out;
/// 2. delete task records past `deleteTasksOlderThan`, in batches;
/// 3. mark artifacts pruned, oldest first, until the age and size limits both hold, in batches.
/// Each batch is one transaction that changes the rows *and* records the files to remove; only
/// after it commits are the files deleted, and then the records dropped. A crash before a commit
/// changes nothing; a crash after it leaves pruned rows (already answered as expired, 410) whose
/// files the next prune or server start removes.
public struct Pruner: Sendable {
    let store: any RetentionStore
    let storage: any ArtifactStore
    let logger: Logger
    /// Rows per transaction: large enough to be quick, small enough not to hold the write lock for long.
    public var batchSize = 500
    /// For crash tests only: sleeps after each batch commits and before its files go, so a test can kill the process in between.
    public var pauseBeforeRemovingFiles: Duration?

    public init(store: any RetentionStore, storage: any ArtifactStore, logger: Logger) {
        self.store = store
        self.storage = storage
        self.logger = logger
    }

    /// Runs `policy`. With `dryRun` nothing changes, and the report says what a real run would remove.
    ///
    /// `progress` (when given) is called after every batch, with totals planned by a dry pass first.
    /// Cancellation stops the run between batches; what was committed so far stays done.
    public func run(
        _ policy: PrunePolicy, dryRun: Bool, now: Date = Date(), progress: (@Sendable (PruneProgress) -> Void)? = nil
    ) async throws -> PruneReport {
        guard !policy.isEmpty else { throw RetentionError.nothingToDo }
        var report = PruneReport(dryRun: dryRun, policy: policy, startedAt: now)
        if !dryRun {
            report.interruptedRemovalsFinished = try await finishFileRemovals().processed
        }
        var plan: PruneReport?
        if progress != nil {
            plan = try await run(policy, dryRun: true, now: now)
        }
        report.cutoff = policy.maxAge.map { now.adding(.zero - $0) }
        report.taskHorizon = policy.deleteTasksOlderThan.map { now.adding(.zero - $0) }
        let scope = PruneScope(kind: policy.kind, deleteTasksFinishedBefore: report.taskHorizon)
        report.storedBytesBefore = try await store.storedBytes(PruneScope(kind: policy.kind))

        var taskCursor: TaskDeletionCursor?
        while scope.deleteTasksFinishedBefore != nil {
            try Task.checkCancellation()
            let deleted = try await store.deleteTasks(scope, after: taskCursor, limit: batchSize, now: now, dryRun: dryRun)
            report.tasks.add(deleted)
            if !dryRun, !deleted.isEmpty { try await removeCommittedFiles(into: &report) }
            progress?(PruneProgress(phase: .deletingTasks, done: report.tasks.count, total: plan?.tasks.count, bytes: report.tasks.bytes))
            guard deleted.count == batchSize, let last = deleted.last else { break }
            taskCursor = last.cursor
        }

        let stored = try await store.storedBytes(scope)
        var rule = PruneRule(cutoff: report.cutoff, excessBytes: policy.maxTotalSize.map { stored - $0.bytes } ?? 0)
        var cursor: PruneCursor?
        while policy.maxAge != nil || policy.maxTotalSize != nil {
            try Task.checkCancellation()
            let batch = try await store.pruneArtifacts(scope, after: cursor, limit: batchSize, rule: rule, now: now, dryRun: dryRun)
            report.artifacts.add(batch.pruned)
            rule = rule.after(batch.pruned)
            if !dryRun, !batch.pruned.isEmpty { try await removeCommittedFiles(into: &report) }
            progress?(PruneProgress(phase: .pruningArtifacts, done: report.artifacts.count, total: plan?.artifacts.count, bytes: report.artifacts.bytes))
            // A refused candidate ends the walk (every later one is younger), as does the end of the table.
            guard batch.pruned.count == batch.scanned, batch.scanned == batchSize, let last = batch.pruned.last else { break }
            cursor = last.cursor
        }
        if let limit = policy.maxTotalSize {
            report.sizeLimitMet = report.storedBytesAfter <= limit.bytes
        }
        report.finishedAt = Date()
        if !dryRun, report.removed.files > 0 || report.tasks.count > 0 {
            logger.info(
                "prune removed stored files",
                metadata: [
                    "prune.artifacts": "\(report.artifacts.count)", "prune.tasks_deleted": "\(report.tasks.count)",
                    "prune.files": "\(report.removed.files)", "prune.bytes": "\(report.removed.bytes)",
                    "prune.stored_bytes_after": "\(report.storedBytesAfter)",
                ])
        }
        return report
    }

    /// Deletes one terminal task and then its files (a client's delete); nil when there is no such terminal task.
    public func deleteTask(id: String) async throws -> DeletedTask? {
        guard let deleted = try await store.deleteTask(id: id, now: Date()) else { return nil }
        try await finishFileRemovals()
        return deleted
    }

    /// Carries out every recorded file removal (after a crash, or right after a batch commits).
    @discardableResult
    public func finishFileRemovals() async throws -> FileRemovalTotals {
        var totals = FileRemovalTotals()
        var after: Int64 = 0
        while true {
            let removals = try await store.pendingFileRemovals(after: after, limit: batchSize)
            guard let last = removals.last else { return totals }
            var done: [Int64] = []
            for (removal, outcome) in zip(removals, await remove(removals)) {
                switch outcome {
                case .deleted:
                    totals.deleted += 1
                    done.append(removal.id)
                case .missing, .kept:
                    totals.missing += removal.restored ? 0 : 1
                    done.append(removal.id)
                case .failed(let reason):
                    // Kept for the next run; the file stays unserved meanwhile (its row is pruned or gone).
                    logger.error("could not remove a pruned file", metadata: ["task.id": "\(removal.taskID)", "file": "\(removal.fileName ?? "*")", "error": "\(reason)"])
                    totals.failed += 1
                }
            }
            totals.processed += done.count
            try await store.completeFileRemovals(done)
            after = last.id
        }
    }

    /// Drains removals and adds them to `report`.
    private func removeCommittedFiles(into report: inout PruneReport) async throws {
        if let pause = pauseBeforeRemovingFiles { try await Task.sleep(for: pause) }
        let totals = try await finishFileRemovals()
        report.filesDeleted += totals.deleted
        report.filesMissing += totals.missing
    }

    private enum RemovalOutcome {
        case deleted, missing, kept
        case failed(String)
    }

    /// Carries out a batch of removals, one outcome each, in order: the single files in one
    /// ``ArtifactStore/delete(_:)`` (one call for an object store), then the deleted tasks' folders.
    private func remove(_ removals: [FileRemoval]) async -> [RemovalOutcome] {
        var outcomes = [RemovalOutcome](repeating: .kept, count: removals.count)
        let files = removals.indices.compactMap { index -> (Int, ArtifactFileName)? in
            guard !removals[index].restored, let fileName = removals[index].fileName else { return nil }
            return (index, ArtifactFileName(taskID: removals[index].taskID, fileName: fileName))
        }
        for ((index, _), result) in zip(files, await storage.delete(files.map(\.1))) {
            switch result {
            case .success(let deletion): outcomes[index] = deletion == .deleted ? .deleted : .missing
            case .failure(let error): outcomes[index] = .failed(error.description)
            }
        }
        for index in removals.indices where removals[index].fileName == nil {
            outcomes[index] = await remove(removals[index])
        }
        return outcomes
    }

    /// Deletes one recorded file or a deleted task's files; the store refuses any name that would
    /// reach outside it.
    private func remove(_ removal: FileRemoval) async -> RemovalOutcome {
        guard !removal.restored else { return .kept }
        do throws(ArtifactStoreError) {
            let deletion =
                if let fileName = removal.fileName {
                    try await storage.delete(taskID: removal.taskID, fileName: fileName)
                } else {
                    try await storage.deleteTask(removal.taskID)
                }
            return deletion == .deleted ? .deleted : .missing
        } catch {
            return .failed(error.description)
        }
    }
}

/// What one drain of file removals did.
public struct FileRemovalTotals: Sendable, Equatable {
    /// Removals carried out and forgotten.
    public var processed = 0
    /// Files (or task folders) deleted.
    public var deleted = 0
    /// Already gone.
    public var missing = 0
    /// Could not be deleted; kept for the next run.
    public var failed = 0
}

/// How far a long prune has got, for a progress line on a terminal.
public struct PruneProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case deletingTasks = "deleting tasks"
        case pruningArtifacts = "pruning files"
    }

    public var phase: Phase
    public var done: Int
    /// What the dry pass planned, when it ran.
    public var total: Int?
    public var bytes: Int64
}
