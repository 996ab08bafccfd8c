import Foundation

/// One event on its way to one endpoint (a row of `webhook_deliveries`).
public struct WebhookDelivery: Sendable, Equatable, Encodable {
    /// Where a delivery stands.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Waiting for its next attempt (the first, or a retry after a failure).
        case pending
        case delivered
        /// Every attempt of the schedule failed; kept for operators to redeliver.
        case dead
        /// The endpoint answered 410 Gone and was switched off.
        case disabled
    }

    public var id: Int64
    /// The event's id, sent as `webhook-id`; the same for every attempt and endpoint.
    public var eventID: String
    public var eventType: String
    public var taskID: String
    public var endpointURL: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastAttemptAt: Date?
    public var lastResponseStatus: Int?
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, status, attempts
        case eventID = "event_id", eventType = "event_type", taskID = "task_id", endpointURL = "endpoint_url"
        case nextAttemptAt = "next_attempt_at", lastAttemptAt = "last_attempt_at", lastResponseStatus = "last_response_status"
        case lastError = "last_error", createdAt = "created_at", deliveredAt = "delivered_at"
    }

    /// Times as Unix seconds, like every other API object; absent values as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(endpointURL, forKey: .endpointURL)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(nextAttemptAt.unixSeconds, forKey: .nextAttemptAt)
        try container.encode(lastAttemptAt?.unixSeconds, forKey: .lastAttemptAt)
        try container.encode(lastResponseStatus, forKey: .lastResponseStatus)
        try container.encode(lastError, forKey: .lastError)
        try container.encode(createdAt.unixSeconds, forKey: .createdAt)
        try container.encode(deliveredAt?.unixSeconds, forKey: .deliveredAt)
    }
}

/// What the dispatcher needs to send one delivery.
public struct WebhookJob: Sendable, Equatable {
    public var delivery: WebhookDelivery
    /// The event body, fixed when the task ended.
    public var payload: [UInt8]

    public init(delivery: WebhookDelivery, payload: [UInt8]) {
        self.delivery = delivery
        self.payload = payload
    }
}

/// Which deliveries an operator wants to see.
public enum WebhookDeliveryFilter: String, Sendable, CaseIterable {
    case all
    case pending
    /// Pending deliveries whose last attempt failed.
    case failed
    case dead
    case delivered
    case disabled
}
