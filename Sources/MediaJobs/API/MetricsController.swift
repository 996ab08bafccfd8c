import Foundation
import Hummingbird
import NIOCore

/// `GET /metrics`: every metric in the Prometheus text format, the database gauges read fresh for each scrape.
struct MetricsController<Context: RequestContext> {
    let store: any OperatorStore
    let metrics: ServiceMetrics

    func addRoutes(to router: Router<Context>) {
        router.get("metrics", use: scrape)
    }

    /// Refreshes the database gauges, then emits every metric.
    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        do {
            metrics.observe(try await store.stats(now: Date()))
        } catch {
            // The process's own counters are still worth a scrape; the database gauges keep their last values.
            context.logger.error("metrics: reading the database failed", metadata: ["error": "\(error)"])
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
    }
}
