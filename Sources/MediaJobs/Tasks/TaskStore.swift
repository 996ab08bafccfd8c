import Foundation

/// Durable home of tasks and their artifacts.
///
/// Every state change is a compare-and-set on the task's current status (and, for workers,
/// their lease), so two workers can never both move one task. SQLite implements it for a
/// single node (``SQLiteTaskStore``); a store for several instances conforms to the same
/// protocol and passes the same contract tests (Tests/MediaJobsTests/Stores/).
public protocol TaskStore: Sendable {
    /// Stores a new task; it becomes claimable at its `nextAttemptAt`.
    func insert(_ task: MediaTask) async throws

    /// Stores a new task unless its idempotency key already names one, or its owner has too many in flight.
    ///
    /// One transaction: of any number of concurrent requests with the same key, exactly one creates
    /// the task; the others get it back (same fingerprint) or ``TaskStoreError/idempotencyKeyReused``.
    func accept(_ task: MediaTask, idempotency: IdempotencyClaim?, maxActivePerOwner: Int?, now: Date) async throws -> AcceptOutcome

    /// The task with `id`, if any.
    func task(id: String) async throws -> MediaTask?

    /// The task with `id` and its artifacts, read together (one round trip for status reads).
    func taskWithArtifacts(id: String) async throws -> (MediaTask, [TaskArtifact])?

    /// What a status answer shows of the task with `id`, and its artifacts; lighter than
    /// ``taskWithArtifacts(id:)`` for the most frequent read of the service.
    func statusWithArtifacts(id: String) async throws -> (TaskStatusRecord, [TaskArtifact])?

    /// The tasks among `ids` that exist, in the order of `ids`.
    func tasks(ids: [String]) async throws -> [MediaTask]

    /// A page of tasks, newest first.
    func list(_ query: TaskQuery) async throws -> TaskPage

    /// The artifacts of each of `taskIDs` (ordered by index); tasks without any are absent.
    func artifacts(forTasks taskIDs: [String]) async throws -> [String: [TaskArtifact]]

    /// The artifact stored as `<taskID>/<fileName>`, if any, with its task's owner (one read for `/files`).
    func artifact(taskID: String, fileName: String) async throws -> (artifact: TaskArtifact, owner: String?)?

    /// Leases up to `limit` tasks in `status` that are due at `now` to `owner`, for `lease`.
    ///
    /// Each claimed task comes back with its new ``MediaTask/lease`` (its epoch incremented), which
    /// every later write of the worker presents. Lease times are the store's clock: a store shared
    /// by several instances takes them from the database (`now` then only decides what is due),
    /// so instances whose clocks disagree still agree on when a lease expired.
    func claim(_ status: TaskStatus, owner: String, lease: Duration, limit: Int, now: Date) async throws -> [MediaTask]

    /// The earliest `nextAttemptAt` among unleased tasks in `status`, so an idle worker knows when to look again.
    func nextDue(_ status: TaskStatus) async throws -> Date?

    /// Applies `change` to a task held under `lease` in `status`, and releases the lease.
    ///
    /// Throws ``TaskStoreError/leaseLost(_:)`` when the task moved on or the lease went to
    /// someone else meanwhile: the caller's work is then stale and must be dropped. A terminal
    /// change writes the task's webhook event in the same transaction (``WebhookOutbox``).
    @discardableResult
    func advance(taskID: String, from status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws -> MediaTask

    /// ``advance(taskID:from:lease:change:now:)`` for a change that keeps the status (`change.path`
    /// is empty: a poll that found the task still running, a retry scheduled), without reading the
    /// task back: the most frequent write of a busy service, so the cheapest.
    func reschedule(taskID: String, in status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws

    /// Extends `lease` to `duration` from now (the store's clock, as in ``claim(_:owner:lease:limit:now:)``);
    /// false if the lease was lost.
    func renewLease(taskID: String, lease: Lease, for duration: Duration, now: Date) async throws -> Bool

    /// Gives up `lease` without changing the task, so it can be claimed at once.
    func releaseLease(taskID: String, lease: Lease) async throws -> Bool

    /// Records a stored file for a task held under `lease` in `downloading`; replaces an earlier row of the same index.
    func saveArtifact(_ artifact: TaskArtifact, lease: Lease) async throws

    /// Cancels a queued or processing task.
    ///
    /// Writes the task's webhook event in the same transaction, like a terminal ``advance(taskID:from:lease:change:now:)``.
    /// Throws ``TaskStoreError/notFound(_:)``, or ``TaskStoreError/conflict(id:status:)`` in any other state.
    func cancel(taskID: String, now: Date) async throws -> MediaTask

    /// A cheap round trip, for readiness checks.
    func ping() async throws
}

/// A change a worker makes to a task it holds.
public struct TaskChange: Sendable, Equatable {
    /// The states to pass through, in order (each must be an edge of the state machine); empty keeps the status.
    public var path: [TaskStatus] = []
    public var upstreamID: String?
    public var upstreamOutputs: [UpstreamOutput]?
    public var progress: Int?
    public var failReason: String?
    public var nextAttemptAt: Date?
    public var attempts: Int?
    public var pollCount: Int?
    public var upstreamAcceptedAt: Date?
    public var pollPriority: Double?

    public init(
        path: [TaskStatus] = [], upstreamID: String? = nil, upstreamOutputs: [UpstreamOutput]? = nil,
        progress: Int? = nil, failReason: String? = nil, nextAttemptAt: Date? = nil,
        attempts: Int? = nil, pollCount: Int? = nil, upstreamAcceptedAt: Date? = nil, pollPriority: Double? = nil
    ) {
        self.path = path
        self.upstreamID = upstreamID
        self.upstreamOutputs = upstreamOutputs
        self.progress = progress
        self.failReason = failReason
        self.nextAttemptAt = nextAttemptAt
        self.attempts = attempts
        self.pollCount = pollCount
        self.upstreamAcceptedAt = upstreamAcceptedAt
        self.pollPriority = pollPriority
    }

    /// Ends the task as failed with a reason clients can read.
    public static func fail(_ reason: String) -> TaskChange {
        TaskChange(path: [.failed], failReason: reason)
    }
}

/// Filters and cursor of `GET /v1/tasks`.
public struct TaskQuery: Sendable, Equatable {
    public var kind: TaskKind?
    public var status: TaskStatus?
    public var owner: String?
    /// Id of the last task of the previous page.
    public var after: String?
    public var limit: Int
    /// Oldest first (OpenAI's `order=asc`); newest first by default.
    public var ascending: Bool

    public init(kind: TaskKind? = nil, status: TaskStatus? = nil, owner: String? = nil, after: String? = nil, limit: Int = 20, ascending: Bool = false) {
        self.kind = kind
        self.status = status
        self.owner = owner
        self.after = after
        self.limit = limit
        self.ascending = ascending
    }

    /// The cursor comparison and the `ORDER BY` of this query's direction (SQL shared by the stores).
    var orderSQL: (after: String, orderBy: String) {
        ascending ? (">", "created_at ASC, id ASC") : ("<", "created_at DESC, id DESC")
    }
}

/// One page of tasks.
public struct TaskPage: Sendable, Equatable {
    public var tasks: [MediaTask]
    public var hasMore: Bool

    public init(tasks: [MediaTask], hasMore: Bool) {
        self.tasks = tasks
        self.hasMore = hasMore
    }
}

/// Why a store operation was refused.
public enum TaskStoreError: Error, Equatable, Sendable {
    case notFound(String)
    /// The task is no longer in the state the caller held it in, or the lease went elsewhere.
    case leaseLost(String)
    case invalidTransition(from: TaskStatus, path: [TaskStatus])
    /// The request does not fit the task's current status (e.g. cancelling a completed task).
    case conflict(id: String, status: TaskStatus)
    case duplicateID(String)
    /// The idempotency key was used before with a different request.
    case idempotencyKeyReused(key: String)
    /// The owner already has this many tasks in flight.
    case tooManyActiveTasks(limit: Int)
}

/// An `Idempotency-Key` presented with a submit.
public struct IdempotencyClaim: Sendable, Equatable {
    /// Keys are scoped to their owner: two clients may use the same key.
    public var owner: String
    public var key: String
    /// Digest of the normalised request; the same key with another request is refused.
    public var fingerprint: String
    /// How long a key is remembered.
    public var lifetime: Duration

    public init(owner: String?, key: String, fingerprint: String, lifetime: Duration = .seconds(24 * 3600)) {
        self.owner = owner ?? ""
        self.key = key
        self.fingerprint = fingerprint
        self.lifetime = lifetime
    }
}

/// What ``TaskStore/accept(_:idempotency:maxActivePerOwner:now:)`` did.
public enum AcceptOutcome: Sendable, Equatable {
    case created(MediaTask)
    /// The key named an existing task for the same request: that task, unchanged.
    case replayed(MediaTask)

    public var task: MediaTask {
        switch self {
        case .created(let task), .replayed(let task): task
        }
    }
}

extension TaskStore {
    public func reschedule(taskID: String, in status: TaskStatus, lease: Lease, change: TaskChange, now: Date) async throws {
        precondition(change.path.isEmpty, "reschedule keeps the status")
        try await advance(taskID: taskID, from: status, lease: lease, change: change, now: now)
    }
}
