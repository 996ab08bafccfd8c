/// The lifecycle of a task (docs/architecture.md, "The flow of one task").
///
/// ```
/// queued ──► processing ──► downloading ──► completed
///    └────────────┴───────────────┴──► failed
///    └────────────┴──► canceled
/// ```
public enum TaskStatus: String, Sendable, Codable, CaseIterable {
    case queued
    case processing
    case downloading
    case completed
    case failed
    case canceled

    /// Terminal states never change again.
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .canceled: true
        case .queued, .processing, .downloading: false
        }
    }

    /// States in which a client may still cancel: nothing has been stored yet.
    public var isCancelable: Bool { self == .queued || self == .processing }

    /// Whether the state machine has a direct edge from `self` to `next`.
    public func canTransition(to next: TaskStatus) -> Bool {
        switch (self, next) {
        case (.queued, .processing), (.processing, .downloading), (.downloading, .completed):
            true
        case (_, .failed):
            !isTerminal
        case (_, .canceled):
            isCancelable
        default:
            false
        }
    }

    /// Whether `path` (starting at `self`) follows edges of the state machine only.
    public func canFollow(_ path: [TaskStatus]) -> Bool {
        var current = self
        for next in path {
            guard current.canTransition(to: next) else { return false }
            current = next
        }
        return !path.isEmpty
    }

    /// All non-terminal states: the ones workers and recovery care about.
    public static let active: [TaskStatus] = allCases.filter { !$0.isTerminal }
}
