import Foundation
import Hummingbird

/// Webhook deliveries for operators under `/admin/v1` (behind the admin key), the same operations
/// as `mediajobs webhooks list|redeliver`.
struct WebhooksAdminController<Context: RequestContext> {
    let webhooks: any WebhookDeliveryStore

    static var maxLimit: Int { 1_000 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("webhooks/deliveries", use: list)
        group.post("webhooks/deliveries/{id}/redeliver", use: redeliver)
        group.post("webhooks/redeliver-dead", use: redeliverDead)
    }

    /// `GET /admin/v1/webhooks/deliveries?status=all|pending|failed|dead|delivered|disabled&limit=`.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let parameters = request.uri.queryParameters
        let statusText = parameters["status"].map(String.init) ?? "all"
        guard let filter = WebhookDeliveryFilter(rawValue: statusText) else {
            throw APIError.invalidValue(
                "status", "'status' must be one of \(WebhookDeliveryFilter.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let limitText = parameters["limit"].map(String.init) ?? "100"
        guard let limit = Int(limitText), (1...Self.maxLimit).contains(limit) else {
            throw APIError.invalidValue("limit", "'limit' must be an integer from 1 to \(Self.maxLimit)")
        }
        return try JSONResponse.make(DeliveryList(data: try await webhooks.list(filter, limit: limit)))
    }

    /// `POST /admin/v1/webhooks/deliveries/{id}/redeliver`: sends it again (same `webhook-id`, fresh schedule).
    @Sendable func redeliver(_ request: Request, context: Context) async throws -> Response {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), let delivery = try await webhooks.redeliver(id: id) else {
            throw APIError(status: .notFound, kind: .notFound, code: "delivery_not_found", message: "no webhook delivery with id '\(text)'")
        }
        context.logger.notice("webhook redelivery requested", metadata: ["webhook.delivery": "\(id)", "webhook.id": "\(delivery.eventID)"])
        return try JSONResponse.make(delivery)
    }

    /// `POST /admin/v1/webhooks/redeliver-dead`: every dead-lettered delivery again.
    @Sendable func redeliverDead(_ request: Request, context: Context) async throws -> Response {
        let count = try await webhooks.redeliverAllDead()
        context.logger.notice("redelivery of dead webhooks requested", metadata: ["webhook.count": "\(count)"])
        return try JSONResponse.make(["scheduled": count])
    }
}

struct DeliveryList: Encodable {
    var object = "list"
    var data: [WebhookDelivery]
}
