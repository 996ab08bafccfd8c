import Foundation
import GRDB

/// Builds the terminal hook that writes webhook events into the outbox.
public struct WebhookOutbox: Sendable {
    let endpoints: [WebhookEndpoint]
    /// The links to stored files in the task object the events carry.
    let publicURLs: PublicURLs
    /// Woken after an event is written so the dispatcher sends it at once.
    let signal: WorkSignal

    public init(endpoints: [WebhookEndpoint], publicURLs: PublicURLs, signal: WorkSignal) {
        self.endpoints = endpoints
        self.publicURLs = publicURLs
        self.signal = signal
    }

    /// The hook to install as ``SQLiteTaskStore/terminalHook``.
    public var terminalHook: SQLiteTaskStore.TerminalHook {
        let (endpoints, representations, signal) = (endpoints, TaskRepresentations(publicURLs: publicURLs), signal)
        return { db, task in
            let now = Date()
            try WebhookStore.recordEvent(db, task: task, endpoints: endpoints, payload: { task, artifacts in
                try JSONCoding.encoder().encode(
                    WebhookEventBody(type: WebhookEventType(terminal: task.status)?.rawValue ?? "", timestamp: now.iso8601, data: representations.task(task, artifacts: artifacts)))
            }, now: now)
            // The dispatcher's claim waits for this transaction to commit (one writer at a time).
            signal.signal()
        }
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
