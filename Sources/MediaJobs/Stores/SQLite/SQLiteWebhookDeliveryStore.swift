import Foundation
import GRDB

/// The webhook deliveries of a ``SQLiteStore`` (the events are written by ``SQLiteTaskStore``
/// when a task ends).
public struct SQLiteWebhookDeliveryStore: WebhookDeliveryStore {
    /// The open database.
    let database: SQLiteStore

    var writer: any DatabaseWriter { database.writer }

    // MARK: Dispatcher

    public func claim(owner: String, lease: Duration, limit: Int, now: Date) async throws -> [WebhookJob] {
        guard limit > 0 else { return [] }
        return try await writer.write { db in
            let ids = try Int64.fetchAll(
                db.cachedStatement(sql: """
                    UPDATE webhook_deliveries SET lease_owner = ?, lease_expires_at = ?
                    WHERE id IN (
                        SELECT id FROM webhook_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)
                        ORDER BY next_attempt_at LIMIT ?)
                    RETURNING id
                    """),
                arguments: [owner, now.adding(lease).millis, now.millis, now.millis, limit])
            guard !ids.isEmpty else { return [] }
            return try Row.fetchAll(
                db,
                sql: "\(Self.selectDeliveries) WHERE d.id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))",
                arguments: StatementArguments(ids)
            ).map { row in WebhookJob(delivery: WebhookDelivery(row: row), payload: Array((row["payload"] as String).utf8)) }
        }
    }

    public func nextDue() async throws -> Date? {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending' AND lease_owner IS NULL")
                .map(Date.init(millis:))
        }
    }

    public func record(_ outcome: WebhookAttemptOutcome, deliveryID: Int64, owner: String, now: Date) async throws {
        try await writer.write { db in
            switch outcome {
            case .delivered(let status):
                try db.execute(
                    sql: """
                        UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = ?,
                            last_response_status = ?, last_error = NULL, delivered_at = ?, lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = ? AND lease_owner = ?
                        """,
                    arguments: [now.millis, status, now.millis, deliveryID, owner])
            case .retry(let status, let error, let next):
                try db.execute(
                    sql: """
                        UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = ?, last_response_status = ?,
                            last_error = ?, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = ? AND lease_owner = ?
                        """,
                    arguments: [now.millis, status, error, next.millis, deliveryID, owner])
            case .dead(let status, let error):
                try db.execute(
                    sql: """
                        UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, last_attempt_at = ?,
                            last_response_status = ?, last_error = ?, lease_owner = NULL, lease_expires_at = NULL
                        WHERE id = ? AND lease_owner = ?
                        """,
                    arguments: [now.millis, status, error, deliveryID, owner])
            case .endpointGone(let url):
                try db.execute(
                    sql: "INSERT OR IGNORE INTO webhook_disabled_endpoints (endpoint_url, disabled_at, reason) VALUES (?, ?, '410 Gone')",
                    arguments: [url, now.millis])
                try db.execute(
                    sql: """
                        UPDATE webhook_deliveries SET status = 'disabled', last_response_status = 410,
                            last_error = 'the endpoint answered 410 Gone and was disabled', lease_owner = NULL, lease_expires_at = NULL,
                            attempts = attempts + (id = ?), last_attempt_at = CASE WHEN id = ? THEN ? ELSE last_attempt_at END
                        WHERE endpoint_url = ? AND status = 'pending'
                        """,
                    arguments: [deliveryID, deliveryID, now.millis, url])
            }
        }
    }

    // MARK: Operators

    public func list(_ filter: WebhookDeliveryFilter, after: Int64?, limit: Int) async throws -> [WebhookDelivery] {
        let condition: String =
            switch filter {
            case .all: "1"
            case .failed: "d.status = 'pending' AND d.attempts > 0"
            case .pending, .dead, .delivered, .disabled: "d.status = '\(filter.rawValue)'"
            }
        return try await writer.read { db in
            try Row.fetchAll(
                db, sql: "\(Self.selectDeliveries) WHERE \(condition) AND d.id < ? ORDER BY d.id DESC LIMIT ?", arguments: [after ?? Int64.max, limit]
            ).map(WebhookDelivery.init(row:))
        }
    }

    public func list(taskID: String, limit: Int) async throws -> [WebhookDelivery] {
        // Found through webhook_deliveries_task (task_id, status): a task has a few deliveries, sorted here.
        try await writer.read { db in
            try Row.fetchAll(db, sql: "\(Self.selectDeliveries) WHERE d.task_id = ? ORDER BY d.id DESC LIMIT ?", arguments: [taskID, limit])
                .map(WebhookDelivery.init(row:))
        }
    }

    public func redeliver(id: Int64, now: Date) async throws -> WebhookDelivery? {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "\(Self.selectDeliveries) WHERE d.id = ?", arguments: [id]) else { return nil }
            let delivery = WebhookDelivery(row: row)
            try db.execute(sql: "DELETE FROM webhook_disabled_endpoints WHERE endpoint_url = ?", arguments: [delivery.endpointURL])
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL,
                        lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ? AND status != 'pending'
                    """,
                arguments: [now.millis, id])
            return try Row.fetchOne(db, sql: "\(Self.selectDeliveries) WHERE d.id = ?", arguments: [id]).map(WebhookDelivery.init(row:))
        }
    }

    public func redeliverAllDead(now: Date) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE status = 'dead'",
                arguments: [now.millis])
            return db.changesCount
        }
    }

    public func counts() async throws -> [WebhookDelivery.Status: Int] {
        try await writer.read { db in
            var counts: [WebhookDelivery.Status: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status") {
                if let status = WebhookDelivery.Status(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    /// Deliveries with their event's type and payload.
    static let selectDeliveries = """
        SELECT d.*, e.type AS event_type, e.payload AS payload FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        """
}

extension WebhookDelivery {
    /// Decodes a row of ``SQLiteWebhookDeliveryStore/selectDeliveries``.
    init(row: Row) {
        self.init(
            id: row["id"], eventID: row["event_id"], eventType: row["event_type"], taskID: row["task_id"], endpointURL: row["endpoint_url"],
            status: Status(rawValue: row["status"]) ?? .pending, attempts: row["attempts"], nextAttemptAt: Date(millis: row["next_attempt_at"]),
            lastAttemptAt: (row["last_attempt_at"] as Int64?).map(Date.init(millis:)), lastResponseStatus: row["last_response_status"],
            lastError: row["last_error"], createdAt: Date(millis: row["created_at"]),
            deliveredAt: (row["delivered_at"] as Int64?).map(Date.init(millis:)))
    }
}
