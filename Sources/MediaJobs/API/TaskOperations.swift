import Crypto
import Foundation
import Logging

/// What the HTTP controllers share: accepting tasks, finding them, and presenting them.
public struct TaskOperations: Sendable {
    public let store: any TaskStore
    public let storage: any ArtifactStore
    /// The links to stored files that task objects carry.
    public let publicURLs: PublicURLs
    public let signals: StageSignals
    public let events: TaskEvents
    public let limits: SubmissionLimits
    /// Checks `callback_url`s: no trusted hosts, private addresses only when the operator allows them.
    public let urlGuard: OutboundURLGuard
    /// How long a task may take end to end (its deadline).
    public let taskTimeout: Duration

    public init(
        store: any TaskStore, storage: any ArtifactStore, publicURLs: PublicURLs, signals: StageSignals, events: TaskEvents,
        limits: SubmissionLimits, urlGuard: OutboundURLGuard, taskTimeout: Duration
    ) {
        self.store = store
        self.storage = storage
        self.publicURLs = publicURLs
        self.signals = signals
        self.events = events
        self.limits = limits
        self.urlGuard = urlGuard
        self.taskTimeout = taskTimeout
    }

    var representations: TaskRepresentations { TaskRepresentations(publicURLs: publicURLs) }

    /// Validates the fields every submit endpoint shares, stores the task (or finds the one its
    /// idempotency key names), and wakes the submit worker.
    func accept(_ request: TaskRequest, extras: SubmissionExtras, owner: String?, idempotencyKey: String?) async throws -> AcceptOutcome {
        if let callbackURL = extras.callbackURL {
            do {
                try await urlGuard.check(callbackURL)
            } catch {
                throw APIError.invalidValue("callback_url", "'callback_url' is not usable: \(error.description)")
            }
        }
        let (task, claim) = try prepare(request, extras: extras, owner: owner, idempotencyKey: idempotencyKey)
        do {
            let outcome = try await store.accept(task, idempotency: claim, maxActivePerOwner: activeLimit(for: owner), now: Date())
            accepted(outcome)
            return outcome
        } catch {
            throw Self.refusal(error)
        }
    }

    /// The checks of ``accept(_:extras:owner:idempotencyKey:)`` that need no I/O (all but the
    /// `callback_url` look-up), and the task to store.
    func prepare(_ request: TaskRequest, extras: SubmissionExtras, owner: String?, idempotencyKey: String?) throws -> (MediaTask, IdempotencyClaim?) {
        if let metadata = extras.metadata {
            guard case .object = metadata else { throw APIError.invalidValue("metadata", "'metadata' must be an object") }
            let size = (try? JSONCoding.string(metadata).utf8.count) ?? Int.max
            guard size <= limits.maxMetadataBytes else {
                throw APIError.invalidValue("metadata", "'metadata' must be at most \(limits.maxMetadataBytes) bytes of JSON")
            }
        }
        var claim: IdempotencyClaim?
        if let key = idempotencyKey {
            guard !key.isEmpty, key.count <= 255 else {
                throw APIError.invalidRequest("'Idempotency-Key' must be 1 to 255 characters", code: "invalid_idempotency_key", param: "Idempotency-Key")
            }
            claim = IdempotencyClaim(owner: owner, key: key, fingerprint: try Self.fingerprint(request, extras))
        }
        let task = MediaTask(request: request, metadata: extras.metadata, callbackURL: extras.callbackURL, owner: owner, deadline: taskTimeout)
        return (task, claim)
    }

    /// Most tasks `owner` may have in flight (no cap when the server runs without keys).
    func activeLimit(for owner: String?) -> Int? {
        owner == nil ? nil : limits.maxActiveTasksPerKey
    }

    /// After the store took a submit: a new task wakes the submit worker.
    func accepted(_ outcome: AcceptOutcome) {
        if case .created = outcome { signals.submit.signal() }
    }

    /// The client's error for a store's refusal of a submit; other errors pass unchanged.
    static func refusal(_ error: any Error) -> any Error {
        switch error {
        case TaskStoreError.idempotencyKeyReused:
            return APIError(
                status: .unprocessableContent, kind: .invalidRequest, code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request", param: "Idempotency-Key")
        case TaskStoreError.tooManyActiveTasks(let limit):
            var refusal = APIError(
                status: .tooManyRequests, kind: .rateLimit, code: "too_many_active_tasks",
                message: "this API key already has \(limit) tasks in flight; wait for some to finish")
            refusal.headers[.retryAfter] = "10"
            return refusal
        default:
            return error
        }
    }

    /// Identifies "the same request" for idempotency: the normalised request, not its bytes.
    static func fingerprint(_ request: TaskRequest, _ extras: SubmissionExtras) throws -> String {
        struct Fingerprint: Encodable {
            var kind: String
            var request: RequestEcho
            var callbackURL: String?
            var metadata: JSONValue?
        }
        let data = try JSONCoding.encoder().encode(
            Fingerprint(kind: request.kind.rawValue, request: RequestEcho(request), callbackURL: extras.callbackURL, metadata: extras.metadata))
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// The task with `id` if it exists, is of `kind` (when given) and belongs to `owner`; 404 otherwise
    /// (another key's task is "not found", not "forbidden": its existence is not revealed).
    func find(_ id: String, kind: TaskKind? = nil, owner: String?) async throws -> (MediaTask, [TaskArtifact]) {
        guard let (task, artifacts) = try await store.taskWithArtifacts(id: id), kind == nil || task.kind == kind, Self.visible(task, to: owner) else {
            throw APIError.taskNotFound(id)
        }
        return (task, artifacts)
    }

    /// ``find(_:kind:owner:)`` for status answers: what they show of the task, read without the rest.
    func findStatus(_ id: String, kind: TaskKind, owner: String?) async throws -> (TaskStatusRecord, [TaskArtifact]) {
        try Self.admitStatus(try await store.statusWithArtifacts(id: id), id: id, kind: kind, owner: owner)
    }

    /// The rule of ``findStatus(_:kind:owner:)`` applied to what a read found, shared with the
    /// status reads answered on the event loop (``StatusFastPath``).
    static func admitStatus(
        _ found: (TaskStatusRecord, [TaskArtifact])?, id: String, kind: TaskKind, owner: String?
    ) throws -> (TaskStatusRecord, [TaskArtifact]) {
        guard let (record, artifacts) = found, record.kind == kind, visible(owner: record.owner, to: owner) else {
            throw APIError.taskNotFound(id)
        }
        return (record, artifacts)
    }

    /// Whether `owner` may see `task`: with keys configured, only its own.
    static func visible(_ task: MediaTask, to owner: String?) -> Bool {
        visible(owner: task.owner, to: owner)
    }

    static func visible(owner taskOwner: String?, to owner: String?) -> Bool {
        owner == nil || taskOwner == owner
    }

    /// Cancels a queued or processing task; 409 once it is past that.
    func cancel(_ id: String, owner: String?) async throws -> MediaTask {
        _ = try await find(id, owner: owner)
        do {
            let task = try await store.cancel(taskID: id, now: Date())
            events.taskEnded(id)
            return task
        } catch TaskStoreError.notFound {
            throw APIError.taskNotFound(id)
        } catch TaskStoreError.conflict(_, let status) {
            throw APIError(status: .conflict, kind: .conflict, code: "task_not_cancelable", message: "the task is \(status.rawValue) and can no longer be canceled")
        }
    }

    /// Validates a prompt-like text field.
    func text(_ value: String?, field: String, required: Bool = false, maxLength: Int) throws -> String? {
        guard let value else {
            if required { throw APIError.missing(field) }
            return nil
        }
        // The same set as CharacterSet.whitespacesAndNewlines (Unicode White_Space), without
        // trimming a bridged copy of the string on every submit (4 % of a submit's CPU).
        if required, value.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            throw APIError.invalidValue(field, "'\(field)' must not be empty")
        }
        guard value.count <= maxLength else {
            throw APIError.invalidValue(field, "'\(field)' must be at most \(maxLength) characters")
        }
        return value
    }
}

/// Submit-time fields shared by every kind (extensions to the upstream formats).
struct SubmissionExtras {
    var callbackURL: String?
    var metadata: JSONValue?
}

/// Size limits on what clients may submit.
public struct SubmissionLimits: Sendable {
    public var maxPromptLength = 4_000
    public var maxLyricsLength = 20_000
    public var maxShortFieldLength = 200
    public var maxMetadataBytes = 16 * 1024
    /// Images per request (OpenAI's `n`).
    public var maxImages = 4
    /// Tasks one API key may have in flight; more get 429 (no cap when the server runs without keys).
    public var maxActiveTasksPerKey = 1_000

    public init() {}
}
