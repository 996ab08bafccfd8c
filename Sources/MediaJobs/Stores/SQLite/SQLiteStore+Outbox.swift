import Foundation
import GRDB

extension SQLiteStore {
    /// Writes the webhook event of a task that just ended, and one delivery per target of the
    /// ``outbox``, inside the transaction `db` that ended it. Returns whether an event was written
    /// (a task without targets gets none).
    ///
    /// Same transaction as the terminal update: an event exists exactly for the tasks that ended,
    /// whatever crashes afterwards; an error here (a payload that cannot be rendered) rolls the
    /// terminal update back too.
    func recordTerminalEvent(of task: MediaTask, now: Date, _ db: Database) throws -> Bool {
        guard let type = WebhookEventType(terminal: task.status) else { return false }
        let disabled = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT endpoint_url FROM webhook_disabled_endpoints")))
        let targets = outbox.targets(for: task, type: type, disabled: disabled)
        guard !targets.isEmpty else { return false }
        let artifacts = try SQLiteTaskStore.artifacts(of: task.id, db)
        let eventID = WebhookOutbox.newEventID()
        let body = String(decoding: try outbox.renderPayload(task, artifacts), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO webhook_events (id, task_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [eventID, task.id, type.rawValue, body, now.millis])
        for url in targets {
            try db.execute(
                sql: """
                    INSERT INTO webhook_deliveries (event_id, task_id, endpoint_url, status, attempts, next_attempt_at, created_at)
                    VALUES (?, ?, ?, 'pending', 0, ?, ?)
                    """,
                arguments: [eventID, task.id, url, now.millis, now.millis])
        }
        return true
    }
}
