import Foundation

/// What a prune should achieve (README, "Operating MediaJobs"): the same options for `mediajobs prune`,
/// `POST /admin/v1/prune` and the automatic policy of `serve`.
public struct PrunePolicy: Sendable, Equatable {
    /// Artifacts stored longer ago than this are removed.
    public var maxAge: Duration?
    /// Oldest artifacts are removed until the stored ones (of `kind`, when given) take at most this.
    public var maxTotalSize: ByteCount?
    /// Only artifacts and tasks of this kind are touched; nil for all.
    public var kind: TaskKind?
    /// Terminal tasks that finished longer ago than this are deleted: row, artifacts, webhook rows and files.
    public var deleteTasksOlderThan: Duration?

    public init(maxAge: Duration? = nil, maxTotalSize: ByteCount? = nil, kind: TaskKind? = nil, deleteTasksOlderThan: Duration? = nil) {
        self.maxAge = maxAge
        self.maxTotalSize = maxTotalSize
        self.kind = kind
        self.deleteTasksOlderThan = deleteTasksOlderThan
    }

    /// A policy that would never remove anything.
    public var isEmpty: Bool { maxAge == nil && maxTotalSize == nil && deleteTasksOlderThan == nil }

    /// The options as written by people, e.g. `30d`, `50GB`, `music`; nil leaves an option unset.
    public init(
        olderThan: String?, maxTotalSize: String?, kind: String?, deleteTasksOlderThan: String?
    ) throws(RetentionError) {
        func duration(_ text: String?, _ option: Option) throws(RetentionError) -> Duration? {
            guard let text else { return nil }
            guard let value = Duration(parsing: text) else {
                throw .invalidOption(option, "must be a duration such as 12h or 30d, got '\(text)'")
            }
            return value
        }
        maxAge = try duration(olderThan, .olderThan)
        self.deleteTasksOlderThan = try duration(deleteTasksOlderThan, .deleteTasksOlderThan)
        if let text = maxTotalSize {
            guard let size = ByteCount(parsing: text) else { throw .invalidOption(.maxTotalSize, "must be a size such as 500MB or 50GB, got '\(text)'") }
            self.maxTotalSize = size
        }
        if let text = kind {
            guard let value = TaskKind(rawValue: text.lowercased()) else {
                throw .invalidOption(.kind, "must be one of \(TaskKind.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
            }
            self.kind = value
        }
    }

    /// The options, for messages that must name them the way the caller wrote them.
    public enum Option: String, Sendable, CaseIterable {
        case olderThan = "older-than"
        case maxTotalSize = "max-total-size"
        case kind
        case deleteTasksOlderThan = "delete-tasks-older-than"

        /// `--older-than`.
        public var flag: String { "--\(rawValue)" }
        /// `older_than`.
        public var jsonKey: String { rawValue.replacingOccurrences(of: "-", with: "_") }
    }
}

/// Why a prune could not run.
public enum RetentionError: Error, Equatable, CustomStringConvertible {
    case invalidOption(PrunePolicy.Option, String)
    /// No limit was given, so nothing could ever be removed.
    case nothingToDo

    public var description: String {
        switch self {
        case .invalidOption(let option, let message): "\(option.flag) \(message)"
        case .nothingToDo: "give at least one of --older-than, --max-total-size or --delete-tasks-older-than"
        }
    }
}
