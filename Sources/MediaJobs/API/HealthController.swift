import Foundation
import Hummingbird

/// `GET /healthz` (the process answers) and `GET /readyz` (it can do its work: database and storage usable).
struct HealthController<Context: RequestContext> {
    let store: any TaskStore
    let storage: any ArtifactStore
    /// Below this much free space storage counts as not ready: downloads would fail.
    let minimumFreeBytes: Int64

    func addRoutes(to router: Router<Context>) {
        router.get("healthz") { _, _ in try JSONResponse.make(["status": "ok"]) }
        router.get("readyz", use: ready)
    }

    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        var checks: [String: String] = [:]
        do {
            try await store.ping()
            checks["database"] = "ok"
        } catch {
            context.logger.error("readiness: database unusable", metadata: ["error": "\(error)"])
            checks["database"] = (error as? StoreUnavailable).map { "unavailable: \($0.reason)" } ?? "unavailable"
        }
        checks["storage"] = await storage.readiness(minimumFreeBytes: minimumFreeBytes).description
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return try JSONResponse.make(ReadinessBody(status: ready ? "ready" : "not_ready", checks: checks), status: ready ? .ok : .serviceUnavailable)
    }
}

struct ReadinessBody: Encodable {
    var status: String
    var checks: [String: String]
}
