import Foundation

/// The webhook outbox as the dispatcher and operators see it: deliveries to claim, attempts to
/// record, dead letters to send again.
///
/// Events and their deliveries are written by the task store, in the transaction that ends a task
/// (see ``WebhookOutbox``); this protocol only reads and moves them on. Every change to a claimed
/// delivery is fenced by its lease, as task changes are.
public protocol WebhookDeliveryStore: Sendable {
    /// Leases up to `limit` due pending deliveries to `owner` until `now + lease`, with their payloads.
    func claim(owner: String, lease: Duration, limit: Int, now: Date) async throws -> [WebhookJob]

    /// The earliest next attempt among unleased pending deliveries, so an idle dispatcher knows when to look again.
    func nextDue() async throws -> Date?

    /// Records the outcome of an attempt made under `owner`'s lease; nothing changes if the lease went elsewhere.
    ///
    /// ``WebhookAttemptOutcome/endpointGone(url:)`` also disables the endpoint: its other pending
    /// deliveries become `disabled`, and later events skip it until an operator redelivers to it.
    func record(_ outcome: WebhookAttemptOutcome, deliveryID: Int64, owner: String, now: Date) async throws

    /// Up to `limit` deliveries matching `filter`, newest first; with `after` (a delivery's id), only
    /// those older than it, so a page's last id asks for the next page.
    func list(_ filter: WebhookDeliveryFilter, after: Int64?, limit: Int) async throws -> [WebhookDelivery]

    /// The newest `limit` deliveries of one task, however many other tasks' came since.
    func list(taskID: String, limit: Int) async throws -> [WebhookDelivery]

    /// Schedules a dead, disabled or delivered delivery again with a fresh retry schedule and returns
    /// it (nil if there is none with `id`); re-enables its endpoint if a 410 had disabled it.
    func redeliver(id: Int64, now: Date) async throws -> WebhookDelivery?

    /// Schedules every dead delivery again; returns how many.
    func redeliverAllDead(now: Date) async throws -> Int

    /// Deliveries by status, for stats and metrics.
    func counts() async throws -> [WebhookDelivery.Status: Int]
}

extension WebhookDeliveryStore {
    /// The newest `limit` deliveries matching `filter`.
    public func list(_ filter: WebhookDeliveryFilter, limit: Int) async throws -> [WebhookDelivery] {
        try await list(filter, after: nil, limit: limit)
    }

    /// The newest 100 deliveries matching `filter`.
    public func list(_ filter: WebhookDeliveryFilter) async throws -> [WebhookDelivery] {
        try await list(filter, after: nil, limit: 100)
    }

    /// ``redeliver(id:now:)`` now.
    public func redeliver(id: Int64) async throws -> WebhookDelivery? {
        try await redeliver(id: id, now: Date())
    }

    /// ``redeliverAllDead(now:)`` now.
    public func redeliverAllDead() async throws -> Int {
        try await redeliverAllDead(now: Date())
    }
}
