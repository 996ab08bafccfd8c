import Foundation
import PostgresNIO

extension PostgresStore {
    /// Writes the webhook event of a task that just ended, and one delivery per target of the
    /// ``outbox``, in the transaction on `connection` that ended it. Returns whether an event was
    /// written (a task without targets gets none).
    ///
    /// Same transaction as the terminal update: an event exists exactly for the tasks that ended;
    /// a payload that cannot be rendered rolls the terminal update back too.
    func recordTerminalEvent(of task: MediaTask, now: Date, _ connection: PostgresConnection) async throws -> Bool {
        guard let type = WebhookEventType(terminal: task.status) else { return false }
        let disabled = Set(
            try await connection.rows("SELECT endpoint_url FROM webhook_disabled_endpoints", logger: logger).map { try $0.value("endpoint_url", as: String.self) })
        let targets = outbox.targets(for: task, type: type, disabled: disabled)
        guard !targets.isEmpty else { return false }
        let artifacts = try await connection.rows(
            "SELECT \(unescaped: TaskArtifact.postgresColumns) FROM artifacts WHERE task_id = \(task.id) ORDER BY idx", logger: logger
        ).map(TaskArtifact.init(postgresRow:))
        let eventID = WebhookOutbox.newEventID()
        let body = String(decoding: try outbox.renderPayload(task, artifacts), as: UTF8.self)
        try await connection.query(
            "INSERT INTO webhook_events (id, task_id, type, payload, created_at) VALUES (\(eventID), \(task.id), \(type.rawValue), \(body), \(now.millis))",
            logger: logger)
        try await connection.query(
            """
            INSERT INTO webhook_deliveries (event_id, task_id, endpoint_url, status, attempts, next_attempt_at, created_at)
            SELECT \(eventID), \(task.id), url, 'pending', 0, \(now.millis), \(now.millis) FROM unnest(\(targets)::text[]) WITH ORDINALITY AS u(url, n) ORDER BY n
            """, logger: logger)
        return true
    }
}
