import Foundation

/// A number of files and their size.
public struct FileTotals: Sendable, Equatable, Codable {
    public var files: Int
    public var bytes: Int64

    public init(files: Int = 0, bytes: Int64 = 0) {
        self.files = files
        self.bytes = bytes
    }

    static func + (lhs: FileTotals, rhs: FileTotals) -> FileTotals {
        FileTotals(files: lhs.files + rhs.files, bytes: lhs.bytes + rhs.bytes)
    }
}

/// What an operator wants to know at a glance (`GET /admin/v1/stats`, `mediajobs stats`); all read from the database.
public struct OperatorStats: Sendable, Equatable {
    /// The statuses of `webhook_deliveries`, always reported (0 when none).
    public static let webhookStatuses = ["pending", "delivered", "dead", "disabled"]

    public var generatedAt: Date
    /// Task counts by kind and status.
    public var tasks: [TaskKind: [TaskStatus: Int]]
    /// Tasks queued, processing or downloading.
    public var inFlight: Int
    /// When the oldest still-queued task was created.
    public var oldestQueuedAt: Date?
    /// Stored (unpruned) artifacts by kind.
    public var storage: [TaskKind: FileTotals]
    /// Artifact rows whose file retention removed, by kind (rows of deleted tasks are gone and not counted).
    public var expired: [TaskKind: FileTotals]
    /// Everything prunes ever removed in this data directory, also counting deleted tasks' files.
    public var prunedTotals: PrunedTotals
    /// Webhook deliveries by status.
    public var webhooks: [String: Int]
    /// Free space on the data directory's filesystem, when known.
    public var diskFreeBytes: Int64?

    public init(
        generatedAt: Date, tasks: [TaskKind: [TaskStatus: Int]] = [:], inFlight: Int = 0, oldestQueuedAt: Date? = nil,
        storage: [TaskKind: FileTotals] = [:], expired: [TaskKind: FileTotals] = [:], prunedTotals: PrunedTotals = PrunedTotals(),
        webhooks: [String: Int] = [:], diskFreeBytes: Int64? = nil
    ) {
        self.generatedAt = generatedAt
        self.tasks = tasks
        self.inFlight = inFlight
        self.oldestQueuedAt = oldestQueuedAt
        self.storage = storage
        self.expired = expired
        self.prunedTotals = prunedTotals
        self.webhooks = webhooks
        self.diskFreeBytes = diskFreeBytes
    }

    /// Seconds since the oldest queued task was created.
    public var oldestQueuedAgeSeconds: Double? {
        oldestQueuedAt.map { max(0, generatedAt.timeIntervalSince($0)) }
    }

    /// Tasks of `kind` (all statuses).
    public func taskCount(kind: TaskKind) -> Int {
        tasks[kind]?.values.reduce(0, +) ?? 0
    }

    /// Tasks in `status` (all kinds).
    public func taskCount(status: TaskStatus) -> Int {
        tasks.values.reduce(0) { $0 + ($1[status] ?? 0) }
    }
}

/// Lifetime totals of retention in one data directory (kept in the database, so they survive restarts and task deletion).
public struct PrunedTotals: Sendable, Equatable {
    /// Files removed (pruned artifacts and files of deleted tasks).
    public var files: Int64 = 0
    public var bytes: Int64 = 0
    /// Task records deleted.
    public var tasksDeleted: Int64 = 0
    /// When a prune last removed something.
    public var lastPrunedAt: Date?

    public init(files: Int64 = 0, bytes: Int64 = 0, tasksDeleted: Int64 = 0, lastPrunedAt: Date? = nil) {
        self.files = files
        self.bytes = bytes
        self.tasksDeleted = tasksDeleted
        self.lastPrunedAt = lastPrunedAt
    }
}

extension OperatorStats: Encodable {
    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", tasks, inFlight = "in_flight", oldestQueuedAgeSeconds = "oldest_queued_age_seconds"
        case oldestQueuedAt = "oldest_queued_at", storage, pruned, webhooks, diskFreeBytes = "disk_free_bytes"
    }

    /// `{"by_kind": {"music": {"queued": 0, …, "total": n}}, "by_status": {…}, "total": n}`: every kind and status, zeros included.
    struct TaskCounts: Encodable {
        var byKind: [String: [String: Int]]
        var byStatus: [String: Int]
        var total: Int

        enum CodingKeys: String, CodingKey {
            case byKind = "by_kind", byStatus = "by_status", total
        }
    }

    struct Storage: Encodable {
        var byKind: [String: FileTotals]
        var files: Int
        var bytes: Int64

        enum CodingKeys: String, CodingKey {
            case byKind = "by_kind", files, bytes
        }
    }

    struct Pruned: Encodable {
        var expiredByKind: [String: FileTotals]
        var removedFiles: Int64
        var removedBytes: Int64
        var tasksDeleted: Int64
        @NullEncoded var lastPrunedAt: Int64?

        enum CodingKeys: String, CodingKey {
            case expiredByKind = "expired_by_kind", removedFiles = "removed_files", removedBytes = "removed_bytes"
            case tasksDeleted = "tasks_deleted", lastPrunedAt = "last_pruned_at"
        }
    }

    struct Webhooks: Encodable {
        var byStatus: [String: Int]
        var pending: Int
        var dead: Int

        enum CodingKeys: String, CodingKey {
            case byStatus = "by_status", pending, dead
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var byKind: [String: [String: Int]] = [:]
        for kind in TaskKind.allCases {
            var counts = Dictionary(uniqueKeysWithValues: TaskStatus.allCases.map { ($0.rawValue, tasks[kind]?[$0] ?? 0) })
            counts["total"] = taskCount(kind: kind)
            byKind[kind.rawValue] = counts
        }
        let byStatus = Dictionary(uniqueKeysWithValues: TaskStatus.allCases.map { ($0.rawValue, taskCount(status: $0)) })
        try container.encode(TaskCounts(byKind: byKind, byStatus: byStatus, total: byStatus.values.reduce(0, +)), forKey: .tasks)
        try container.encode(generatedAt.unixSeconds, forKey: .generatedAt)
        try container.encode(inFlight, forKey: .inFlight)
        try container.encode(oldestQueuedAt?.unixSeconds, forKey: .oldestQueuedAt)
        try container.encode(oldestQueuedAgeSeconds.map { ($0 * 1000).rounded() / 1000 }, forKey: .oldestQueuedAgeSeconds)
        let stored = Dictionary(uniqueKeysWithValues: TaskKind.allCases.map { ($0.rawValue, storage[$0] ?? FileTotals()) })
        let storedTotal = stored.values.reduce(FileTotals(), +)
        try container.encode(Storage(byKind: stored, files: storedTotal.files, bytes: storedTotal.bytes), forKey: .storage)
        try container.encode(
            Pruned(
                expiredByKind: Dictionary(uniqueKeysWithValues: TaskKind.allCases.map { ($0.rawValue, expired[$0] ?? FileTotals()) }),
                removedFiles: prunedTotals.files, removedBytes: prunedTotals.bytes, tasksDeleted: prunedTotals.tasksDeleted,
                lastPrunedAt: prunedTotals.lastPrunedAt?.unixSeconds),
            forKey: .pruned)
        let hooks = Dictionary(uniqueKeysWithValues: Self.webhookStatuses.map { ($0, webhooks[$0] ?? 0) }).merging(webhooks) { known, _ in known }
        try container.encode(Webhooks(byStatus: hooks, pending: hooks["pending"] ?? 0, dead: hooks["dead"] ?? 0), forKey: .webhooks)
        try container.encode(diskFreeBytes, forKey: .diskFreeBytes)
    }
}
