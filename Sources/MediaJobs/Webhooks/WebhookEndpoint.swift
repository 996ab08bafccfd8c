/// The events MediaJobs sends.
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case completed = "task.completed"
    case failed = "task.failed"
    case canceled = "task.canceled"

    /// The event for a task that reached `status`, if it is terminal.
    public init?(terminal status: TaskStatus) {
        switch status {
        case .completed: self = .completed
        case .failed: self = .failed
        case .canceled: self = .canceled
        default: return nil
        }
    }
}

/// A globally configured receiver, with an optional filter on event types.
///
/// Written `https://host/path` (every event) or `https://host/path#task.failed+task.canceled`:
/// the fragment is never sent over HTTP, so it is free to carry the filter.
public struct WebhookEndpoint: Sendable, Equatable {
    public var url: String
    /// nil: every event type.
    public var events: Set<WebhookEventType>?

    public init(url: String, events: Set<WebhookEventType>? = nil) {
        self.url = url
        self.events = events
    }

    /// Parses the configuration form; nil if the filter names an unknown event.
    public init?(parsing text: String) {
        let parts = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        url = String(parts[0])
        guard !url.isEmpty else { return nil }
        if parts.count == 2 {
            var events: Set<WebhookEventType> = []
            for name in parts[1].split(separator: "+") {
                guard let type = WebhookEventType(rawValue: String(name)) else { return nil }
                events.insert(type)
            }
            guard !events.isEmpty else { return nil }
            self.events = events
        } else {
            events = nil
        }
    }

    public func accepts(_ type: WebhookEventType) -> Bool {
        events?.contains(type) ?? true
    }
}
