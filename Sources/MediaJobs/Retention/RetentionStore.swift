import Foundation

/// What the ``Pruner`` needs from the database.
///
/// Crash consistency rests on one rule: a file is removed from disk only after the transaction
/// that marks its artifact pruned (or deletes its task) has committed, and that same transaction
/// writes a *file removal* entry. The pruner deletes the files and then the entries; entries
/// that a crash left behind are finished by the next prune or at server start-up. So an artifact
/// row that is not pruned always has its file, and a pruned row's file is gone once the removals
/// are drained.
public protocol RetentionStore: Sendable {
    /// Bytes of stored (unpruned) artifacts within `scope`, leaving out the tasks `scope` deletes.
    func storedBytes(_ scope: PruneScope) async throws -> Int64

    /// Walks prunable artifacts oldest first, after `cursor`, up to `limit` of them; keeps the prefix `rule`
    /// accepts and, unless `dryRun`, marks those pruned at `now` and records their file removals, in one transaction.
    ///
    /// Prunable: not pruned yet, the task is terminal, no webhook delivery of the task is pending, and the
    /// task is not one that `scope` deletes.
    func pruneArtifacts(_ scope: PruneScope, after cursor: PruneCursor?, limit: Int, rule: PruneRule, now: Date, dryRun: Bool) async throws -> PruneBatch

    /// Walks terminal tasks finished before `scope.deleteTasksFinishedBefore` without a pending webhook
    /// delivery, oldest first, after `cursor`, up to `limit`; unless `dryRun`, deletes them (artifacts and
    /// webhook rows cascade) and records the removal of their folders, in one transaction.
    func deleteTasks(_ scope: PruneScope, after cursor: TaskDeletionCursor?, limit: Int, now: Date, dryRun: Bool) async throws -> [DeletedTask]

    /// Deletes task `id` if it is terminal (artifacts and webhook rows cascade) and records the
    /// removal of its folder, in one transaction; nil when there is no such terminal task. A
    /// client's own delete (`DELETE /v1/videos/{id}`), counted with the prunes' deletions.
    func deleteTask(id: String, now: Date) async throws -> DeletedTask?

    /// File removals recorded by committed prunes, deletions or retries, oldest first, after the one with id `after`.
    func pendingFileRemovals(after id: Int64, limit: Int) async throws -> [FileRemoval]

    /// Forgets removals whose files are gone.
    func completeFileRemovals(_ ids: [Int64]) async throws

    /// Runs `body` unless another instance sharing the store is running scheduled retention right
    /// now (then returns nil, and that instance does the work). A store of one node just runs it.
    func exclusiveRetention<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws -> Result?
}

/// What a prune may touch.
public struct PruneScope: Sendable, Equatable {
    /// Only artifacts and tasks of this kind; nil for all.
    public var kind: TaskKind?
    /// Terminal tasks finished before this are deleted outright; nil keeps every task record.
    public var deleteTasksFinishedBefore: Date?

    public init(kind: TaskKind? = nil, deleteTasksFinishedBefore: Date? = nil) {
        self.kind = kind
        self.deleteTasksFinishedBefore = deleteTasksFinishedBefore
    }
}

/// Decides how much of an oldest-first run of candidates to prune: everything older than `cutoff`,
/// and then more until the stored bytes are down by `excessBytes`.
public struct PruneRule: Sendable, Equatable {
    /// Artifacts stored before this go whatever their size; nil for no age limit.
    public var cutoff: Date?
    /// How many bytes above the size limit are still stored; ≤ 0 when the limit holds (or there is none).
    public var excessBytes: Int64

    public init(cutoff: Date?, excessBytes: Int64) {
        self.cutoff = cutoff
        self.excessBytes = excessBytes
    }

    /// How many of `candidates` (oldest first) to take. Once one is refused every later one is too
    /// (they are younger, and the excess only shrinks), so the walk can stop there.
    public func accepted(_ candidates: [PruneCandidate]) -> Int {
        var excess = excessBytes
        var taken = 0
        for candidate in candidates {
            let expired = cutoff.map { candidate.createdAt.millis < $0.millis } ?? false
            guard expired || excess > 0 else { break }
            excess -= candidate.bytes
            taken += 1
        }
        return taken
    }

    /// The rule for the candidates after `taken`.
    public func after(_ taken: [PruneCandidate]) -> PruneRule {
        PruneRule(cutoff: cutoff, excessBytes: excessBytes - taken.reduce(0) { $0 + $1.bytes })
    }
}

/// An artifact a prune may remove.
public struct PruneCandidate: Sendable, Equatable {
    public var taskID: String
    public var index: Int
    public var fileName: String
    public var kind: TaskKind
    public var bytes: Int64
    public var createdAt: Date

    public init(taskID: String, index: Int, fileName: String, kind: TaskKind, bytes: Int64, createdAt: Date) {
        self.taskID = taskID
        self.index = index
        self.fileName = fileName
        self.kind = kind
        self.bytes = bytes
        self.createdAt = createdAt
    }

    /// Where the walk continues after this candidate.
    public var cursor: PruneCursor { PruneCursor(createdAt: createdAt, taskID: taskID, index: index) }
}

/// Position in the oldest-first walk over artifacts: `(created_at, task_id, idx)`.
public struct PruneCursor: Sendable, Equatable {
    public var createdAt: Date
    public var taskID: String
    public var index: Int
}

/// One step of the artifact walk.
public struct PruneBatch: Sendable, Equatable {
    /// Candidates read (up to the limit); fewer than the limit means the walk reached the end.
    public var scanned: Int
    /// The accepted prefix (marked pruned unless it was a dry run).
    public var pruned: [PruneCandidate]

    public init(scanned: Int, pruned: [PruneCandidate]) {
        self.scanned = scanned
        self.pruned = pruned
    }
}

/// Position in the oldest-first walk over finished tasks: `(finished_at, id)`.
public struct TaskDeletionCursor: Sendable, Equatable {
    public var finishedAt: Date
    public var taskID: String
}

/// A task record a prune deletes, with the stored files that go with it.
public struct DeletedTask: Sendable, Equatable {
    public var id: String
    public var kind: TaskKind
    public var finishedAt: Date
    /// Its artifacts that still had a file.
    public var stored: FileTotals

    public init(id: String, kind: TaskKind, finishedAt: Date, stored: FileTotals) {
        self.id = id
        self.kind = kind
        self.finishedAt = finishedAt
        self.stored = stored
    }

    public var cursor: TaskDeletionCursor { TaskDeletionCursor(finishedAt: finishedAt, taskID: id) }
}

/// A file (or a whole task folder) to remove from disk, recorded in the transaction that made it unused.
public struct FileRemoval: Sendable, Equatable {
    public var id: Int64
    public var taskID: String
    /// Nil removes the task's whole folder (the task was deleted).
    public var fileName: String?
    /// The artifact was stored again since (a retried task downloaded it anew): keep the file.
    public var restored: Bool

    public init(id: Int64, taskID: String, fileName: String?, restored: Bool) {
        self.id = id
        self.taskID = taskID
        self.fileName = fileName
        self.restored = restored
    }
}
