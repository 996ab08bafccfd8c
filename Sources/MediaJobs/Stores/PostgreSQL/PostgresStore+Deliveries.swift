import Foundation
import PostgresNIO

extension PostgresStore: WebhookDeliveryStore {
    /// Deliveries with their event's type and payload.
    static let selectDeliveries = """
        SELECT d.*, e.type AS event_type, e.payload AS payload FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
        """

    // MARK: Dispatcher

    public func claim(owner: String, lease: Duration, limit: Int, now: Date) async throws -> [WebhookJob] {
        guard limit > 0 else { return [] }
        // Claimed like tasks: one statement, SKIP LOCKED, so each attempt is made by one dispatcher;
        // leases on the database's clock.
        let claimed = try await rows(
            """
            WITH c AS (
                SELECT id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= \(now.millis)
                    AND (lease_expires_at IS NULL OR lease_expires_at <= \(unescaped: Self.databaseNow))
                ORDER BY next_attempt_at FOR UPDATE SKIP LOCKED LIMIT \(limit)),
            u AS (
                UPDATE webhook_deliveries d SET lease_owner = \(owner), lease_expires_at = \(unescaped: Self.databaseNow) + \(lease.millis)
                FROM c WHERE d.id = c.id RETURNING d.*)
            SELECT u.*, e.type AS event_type, e.payload AS payload FROM u JOIN webhook_events e ON e.id = u.event_id
            ORDER BY u.next_attempt_at, u.id
            """)
        return try claimed.map { row in
            WebhookJob(delivery: try WebhookDelivery(postgresRow: row), payload: Array(try row.value("payload", as: String.self).utf8))
        }
    }

    public func nextDue() async throws -> Date? {
        try await scalar("SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending' AND lease_owner IS NULL", as: Int64?.self)?
            .map(Date.init(millis:))
    }

    public func record(_ outcome: WebhookAttemptOutcome, deliveryID: Int64, owner: String, now: Date) async throws {
        switch outcome {
        case .delivered(let status):
            try await run(
                """
                UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = \(now.millis),
                    last_response_status = \(status), last_error = NULL, delivered_at = \(now.millis), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(deliveryID) AND lease_owner = \(owner)
                """)
        case .retry(let status, let error, let next):
            try await run(
                """
                UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = \(now.millis), last_response_status = \(status),
                    last_error = \(error), next_attempt_at = \(next.millis), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(deliveryID) AND lease_owner = \(owner)
                """)
        case .dead(let status, let error):
            try await run(
                """
                UPDATE webhook_deliveries SET status = 'dead', attempts = attempts + 1, last_attempt_at = \(now.millis),
                    last_response_status = \(status), last_error = \(error), lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(deliveryID) AND lease_owner = \(owner)
                """)
        case .endpointGone(let url):
            try await transaction { connection in
                try await connection.query(
                    """
                    INSERT INTO webhook_disabled_endpoints (endpoint_url, disabled_at, reason) VALUES (\(url), \(now.millis), '410 Gone')
                    ON CONFLICT (endpoint_url) DO NOTHING
                    """, logger: logger)
                try await connection.query(
                    """
                    UPDATE webhook_deliveries SET status = 'disabled', last_response_status = 410,
                        last_error = 'the endpoint answered 410 Gone and was disabled', lease_owner = NULL, lease_expires_at = NULL,
                        attempts = attempts + CASE WHEN id = \(deliveryID) THEN 1 ELSE 0 END,
                        last_attempt_at = CASE WHEN id = \(deliveryID) THEN \(now.millis) ELSE last_attempt_at END
                    WHERE endpoint_url = \(url) AND status = 'pending'
                    """, logger: logger)
            }
        }
    }

    // MARK: Operators

    public func list(_ filter: WebhookDeliveryFilter, after: Int64?, limit: Int) async throws -> [WebhookDelivery] {
        let condition: String =
            switch filter {
            case .all: "TRUE"
            case .failed: "d.status = 'pending' AND d.attempts > 0"
            case .pending, .dead, .delivered, .disabled: "d.status = '\(filter.rawValue)'"
            }
        return try await rows(
            "\(unescaped: Self.selectDeliveries) WHERE \(unescaped: condition) AND d.id < \(after ?? Int64.max) ORDER BY d.id DESC LIMIT \(limit)"
        ).map(WebhookDelivery.init(postgresRow:))
    }

    public func list(taskID: String, limit: Int) async throws -> [WebhookDelivery] {
        // Found through webhook_deliveries_task (task_id, status): a task has a few deliveries, sorted here.
        try await rows("\(unescaped: Self.selectDeliveries) WHERE d.task_id = \(taskID) ORDER BY d.id DESC LIMIT \(limit)")
            .map(WebhookDelivery.init(postgresRow:))
    }

    public func redeliver(id: Int64, now: Date) async throws -> WebhookDelivery? {
        defer { notifier.wake(.webhooks) }
        return try await transaction { connection -> WebhookDelivery? in
            guard let row = try await connection.rows("\(unescaped: Self.selectDeliveries) WHERE d.id = \(id) FOR UPDATE OF d", logger: logger).first else {
                return nil
            }
            let delivery = try WebhookDelivery(postgresRow: row)
            try await connection.query("DELETE FROM webhook_disabled_endpoints WHERE endpoint_url = \(delivery.endpointURL)", logger: logger)
            try await connection.query(
                """
                UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(now.millis), delivered_at = NULL,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = \(id) AND status <> 'pending'
                """, logger: logger)
            return try await connection.rows("\(unescaped: Self.selectDeliveries) WHERE d.id = \(id)", logger: logger).first
                .map(WebhookDelivery.init(postgresRow:))
        }
    }

    public func redeliverAllDead(now: Date) async throws -> Int {
        let count = try await withConnection { [logger] connection in
            try await connection.execute(
                """
                UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(now.millis), lease_owner = NULL, lease_expires_at = NULL
                WHERE status = 'dead' RETURNING 1
                """, logger: logger)
        }
        if count > 0 { notifier.wake(.webhooks) }
        return count
    }

    public func counts() async throws -> [WebhookDelivery.Status: Int] {
        var counts: [WebhookDelivery.Status: Int] = [:]
        for row in try await rows("SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status") {
            if let status = WebhookDelivery.Status(rawValue: try row.value("status")) { counts[status] = try row.value("n") }
        }
        return counts
    }
}
