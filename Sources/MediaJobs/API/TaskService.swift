import Foundation
import Logging

/// What the HTTP controllers share: accepting tasks, finding them, and presenting them.
public struct TaskService: Sendable {
    public let store: any TaskStore
    public let storage: ArtifactStorage
    public let signals: StageSignals
    public let events: TaskEvents
    public let limits: SubmissionLimits
    /// Checks `callback_url`s: no trusted hosts, private addresses only when the operator allows them.
    public let urlGuard: OutboundURLGuard
    /// How long a task may take end to end (its deadline).
    public let taskTimeout: Duration

    public init(
        store: any TaskStore, storage: ArtifactStorage, signals: StageSignals, events: TaskEvents, limits: SubmissionLimits,
        urlGuard: OutboundURLGuard, taskTimeout: Duration
    ) {
        self.store = store
        self.storage = storage
        self.signals = signals
        self.events = events
        self.limits = limits
        self.urlGuard = urlGuard
        self.taskTimeout = taskTimeout
    }

    var representations: TaskRepresentations { TaskRepresentations(storage: storage) }

    /// Validates the fields every submit endpoint shares, stores the task, and wakes the submit worker.
    func accept(_ request: TaskRequest, extras: SubmissionExtras) async throws -> MediaTask {
        if let callbackURL = extras.callbackURL {
            do {
                try await urlGuard.check(callbackURL)
            } catch {
                throw APIError.invalidValue("callback_url", "'callback_url' is not usable: \(error.description)")
            }
        }
        if let metadata = extras.metadata {
            guard case .object = metadata else { throw APIError.invalidValue("metadata", "'metadata' must be an object") }
            let size = (try? JSONCoding.string(metadata).utf8.count) ?? Int.max
            guard size <= limits.maxMetadataBytes else {
                throw APIError.invalidValue("metadata", "'metadata' must be at most \(limits.maxMetadataBytes) bytes of JSON")
            }
        }
        let task = MediaTask(request: request, metadata: extras.metadata, callbackURL: extras.callbackURL, deadline: taskTimeout)
        try await store.insert(task)
        signals.submit.signal()
        return task
    }

    /// The task with `id` if it exists and is of `kind` (when given); 404 otherwise.
    func find(_ id: String, kind: TaskKind? = nil) async throws -> (MediaTask, [TaskArtifact]) {
        guard let task = try await store.task(id: id), kind == nil || task.kind == kind else { throw APIError.taskNotFound(id) }
        let artifacts = try await store.artifacts(forTasks: [id])[id] ?? []
        return (task, artifacts)
    }

    /// Cancels a queued or processing task; 409 once it is past that.
    func cancel(_ id: String) async throws -> MediaTask {
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
        if required, value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
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

    public init() {}
}
