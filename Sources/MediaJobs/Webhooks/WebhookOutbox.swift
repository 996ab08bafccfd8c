import Foundation

/// What a task store needs to write a webhook event when a task ends: who receives it, how its
/// payload reads, and whom to wake once it is written.
///
/// A store takes it when it is opened and writes the event and its deliveries in the same
/// transaction as the terminal update (advance to a terminal state, cancel): the event exists
/// exactly for the tasks that ended, whatever crashes afterwards, and a payload that cannot be
/// rendered rolls the terminal update back with it.
public struct WebhookOutbox: Sendable {
    /// Global receivers, besides each task's own `callback_url`.
    public var endpoints: [WebhookEndpoint]
    /// The event body for a task that just ended and its artifacts.
    public var renderPayload: @Sendable (MediaTask, [TaskArtifact]) throws -> Data
    /// Called after a transaction that wrote an event has committed, so the dispatcher sends it at once.
    public var wake: @Sendable () -> Void

    public init(
        endpoints: [WebhookEndpoint], renderPayload: @escaping @Sendable (MediaTask, [TaskArtifact]) throws -> Data,
        wake: @escaping @Sendable () -> Void
    ) {
        self.endpoints = endpoints
        self.renderPayload = renderPayload
        self.wake = wake
    }

    /// The outbox of the service: `{"type", "timestamp", "data": <task object>}` bodies (the task object of `GET /v1/tasks/{id}`).
    static func taskEvents(endpoints: [WebhookEndpoint], representations: TaskRepresentations, wake: @escaping @Sendable () -> Void) -> WebhookOutbox {
        WebhookOutbox(
            endpoints: endpoints,
            renderPayload: { task, artifacts in
                try JSONCoding.encoder().encode(
                    WebhookEventBody(
                        type: WebhookEventType(terminal: task.status)?.rawValue ?? "", timestamp: Date().iso8601,
                        data: representations.task(task, artifacts: artifacts)))
            },
            wake: wake)
    }

    /// Where the event of `task` (of `type`) goes: its `callback_url` first, then every global
    /// endpoint that wants `type`, each once, leaving out the ones in `disabled` (answered 410).
    public func targets(for task: MediaTask, type: WebhookEventType, disabled: Set<String>) -> [String] {
        var targets = endpoints.filter { $0.accepts(type) }.map(\.url)
        if let callback = task.callbackURL { targets.insert(callback, at: 0) }
        return targets.reduce(into: []) { unique, url in
            if !unique.contains(url), !disabled.contains(url) { unique.append(url) }
        }
    }

    /// A fresh event id (`webhook-id`): `msg_` and 32 hex digits.
    public static func newEventID() -> String {
        "msg_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}

/// `{"type": "task.completed", "timestamp": "<ISO 8601>", "data": <task object>}`.
struct WebhookEventBody: Encodable {
    var type: String
    var timestamp: String
    var data: TaskObject
}

extension Date {
    /// ISO 8601 in UTC with milliseconds, e.g. `2026-11-23T03:11:15.123Z`.
    var iso8601: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: self)
    }
}
