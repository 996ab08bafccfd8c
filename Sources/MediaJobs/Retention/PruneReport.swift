import Foundation

/// What a prune removed, or with `dryRun` would remove: a dry run and the real run that follows it
/// (with nothing changing in between) report the same selection.
public struct PruneReport: Sendable, Equatable {
    public var dryRun: Bool
    public var policy: PrunePolicy
    public var startedAt: Date
    public var finishedAt: Date
    /// Artifacts stored before this were due by age.
    public var cutoff: Date?
    /// Terminal tasks finished before this were due for deletion.
    public var taskHorizon: Date?
    /// Artifacts marked pruned (files removed, rows kept as expired).
    public var artifacts = ArtifactSelection()
    /// Task records deleted, with the files they still had.
    public var tasks = TaskSelection()
    /// Stored bytes within the policy's kind before the run.
    public var storedBytesBefore: Int64 = 0
    /// Whether the stored bytes are now within `policy.maxTotalSize`; nil without a size limit.
    public var sizeLimitMet: Bool?
    /// Files deleted from disk by this run (after a dry run: 0).
    public var filesDeleted = 0
    /// Files that were already gone when this run came to delete them.
    public var filesMissing = 0
    /// File removals that an interrupted earlier prune had committed but not carried out, finished first.
    public var interruptedRemovalsFinished = 0

    public init(dryRun: Bool, policy: PrunePolicy, startedAt: Date) {
        self.dryRun = dryRun
        self.policy = policy
        self.startedAt = startedAt
        self.finishedAt = startedAt
    }

    /// Stored bytes within the policy's kind after the run (or after the real run, for a dry run).
    public var storedBytesAfter: Int64 { storedBytesBefore - artifacts.bytes - tasks.bytes }

    /// Files and bytes removed in all: pruned artifacts and the files of deleted tasks.
    public var removed: FileTotals { FileTotals(files: artifacts.count + tasks.files, bytes: artifacts.bytes + tasks.bytes) }

    /// The pruned artifacts.
    public struct ArtifactSelection: Sendable, Equatable {
        public var count = 0
        public var bytes: Int64 = 0
        /// When the oldest and newest of them were stored.
        public var oldest: Date?
        public var newest: Date?
        public var byKind: [TaskKind: FileTotals] = [:]

        mutating func add(_ candidates: [PruneCandidate]) {
            for candidate in candidates {
                count += 1
                bytes += candidate.bytes
                oldest = min(oldest ?? candidate.createdAt, candidate.createdAt)
                newest = max(newest ?? candidate.createdAt, candidate.createdAt)
                byKind[candidate.kind, default: FileTotals()] = byKind[candidate.kind, default: FileTotals()] + FileTotals(files: 1, bytes: candidate.bytes)
            }
        }
    }

    /// The deleted tasks.
    public struct TaskSelection: Sendable, Equatable {
        public var count = 0
        /// Stored files they still had, and their bytes.
        public var files = 0
        public var bytes: Int64 = 0
        /// When the first and last of them finished.
        public var oldest: Date?
        public var newest: Date?

        mutating func add(_ tasks: [DeletedTask]) {
            for task in tasks {
                count += 1
                files += task.stored.files
                bytes += task.stored.bytes
                oldest = min(oldest ?? task.finishedAt, task.finishedAt)
                newest = max(newest ?? task.finishedAt, task.finishedAt)
            }
        }
    }
}

extension PruneReport: Encodable {
    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", policy, cutoff, taskHorizon = "task_horizon", artifacts, tasksDeleted = "tasks_deleted", removed
        case storedBytesBefore = "stored_bytes_before", storedBytesAfter = "stored_bytes_after", sizeLimitMet = "size_limit_met"
        case filesDeleted = "files_deleted", filesMissing = "files_missing", interruptedRemovalsFinished = "interrupted_removals_finished"
        case startedAt = "started_at", durationMilliseconds = "duration_ms"
    }

    struct Policy: Encodable {
        var olderThanSeconds: Int64?
        var maxTotalSizeBytes: Int64?
        var kind: String?
        var deleteTasksOlderThanSeconds: Int64?

        enum CodingKeys: String, CodingKey {
            case olderThanSeconds = "older_than_seconds", maxTotalSizeBytes = "max_total_size_bytes", kind
            case deleteTasksOlderThanSeconds = "delete_tasks_older_than_seconds"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(olderThanSeconds, forKey: .olderThanSeconds)
            try container.encode(maxTotalSizeBytes, forKey: .maxTotalSizeBytes)
            try container.encode(kind, forKey: .kind)
            try container.encode(deleteTasksOlderThanSeconds, forKey: .deleteTasksOlderThanSeconds)
        }
    }

    struct Selection: Encodable {
        var count: Int
        var files: Int?
        var bytes: Int64
        var oldest: Int64?
        var newest: Int64?
        var byKind: [String: FileTotals]?
        var timeField: String

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(count, forKey: Key(stringValue: "count"))
            if let files { try container.encode(files, forKey: Key(stringValue: "files")) }
            try container.encode(bytes, forKey: Key(stringValue: "bytes"))
            try container.encode(oldest, forKey: Key(stringValue: "oldest_\(timeField)"))
            try container.encode(newest, forKey: Key(stringValue: "newest_\(timeField)"))
            if let byKind { try container.encode(byKind, forKey: Key(stringValue: "by_kind")) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(
            Policy(
                olderThanSeconds: policy.maxAge?.components.seconds, maxTotalSizeBytes: policy.maxTotalSize?.bytes, kind: policy.kind?.rawValue,
                deleteTasksOlderThanSeconds: policy.deleteTasksOlderThan?.components.seconds),
            forKey: .policy)
        try container.encode(cutoff?.unixSeconds, forKey: .cutoff)
        try container.encode(taskHorizon?.unixSeconds, forKey: .taskHorizon)
        try container.encode(
            Selection(
                count: artifacts.count, bytes: artifacts.bytes, oldest: artifacts.oldest?.unixSeconds, newest: artifacts.newest?.unixSeconds,
                byKind: Dictionary(uniqueKeysWithValues: TaskKind.allCases.map { ($0.rawValue, artifacts.byKind[$0] ?? FileTotals()) }),
                timeField: "created_at"),
            forKey: .artifacts)
        try container.encode(
            Selection(
                count: tasks.count, files: tasks.files, bytes: tasks.bytes, oldest: tasks.oldest?.unixSeconds, newest: tasks.newest?.unixSeconds,
                timeField: "finished_at"),
            forKey: .tasksDeleted)
        try container.encode(removed, forKey: .removed)
        try container.encode(storedBytesBefore, forKey: .storedBytesBefore)
        try container.encode(storedBytesAfter, forKey: .storedBytesAfter)
        try container.encode(sizeLimitMet, forKey: .sizeLimitMet)
        try container.encode(filesDeleted, forKey: .filesDeleted)
        try container.encode(filesMissing, forKey: .filesMissing)
        try container.encode(interruptedRemovalsFinished, forKey: .interruptedRemovalsFinished)
        try container.encode(startedAt.unixSeconds, forKey: .startedAt)
        try container.encode(Int64((finishedAt.timeIntervalSince(startedAt) * 1000).rounded()), forKey: .durationMilliseconds)
    }
}
