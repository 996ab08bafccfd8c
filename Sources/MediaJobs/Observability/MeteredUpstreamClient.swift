/// An ``UpstreamClient`` that records every call in ``ServiceMetrics`` (`mediajobs_upstream_*`) and passes it on.
public struct MeteredUpstreamClient: UpstreamClient {
    let base: any UpstreamClient
    let metrics: ServiceMetrics

    public init(_ base: any UpstreamClient, metrics: ServiceMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission {
        let start = ContinuousClock.now
        do {
            let submission = try await base.submit(task)
            metrics.upstreamCall(operation: "submit", kind: task.kind, status: "2xx", duration: ContinuousClock.now - start)
            return submission
        } catch {
            metrics.upstreamCall(operation: "submit", kind: task.kind, status: error.metricStatus, duration: ContinuousClock.now - start)
            throw error
        }
    }

    public func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        let start = ContinuousClock.now
        do {
            let progress = try await base.poll(kind: kind, upstreamID: upstreamID)
            metrics.upstreamCall(operation: "poll", kind: kind, status: "2xx", duration: ContinuousClock.now - start)
            return progress
        } catch {
            metrics.upstreamCall(operation: "poll", kind: kind, status: error.metricStatus, duration: ContinuousClock.now - start)
            throw error
        }
    }
}

extension UpstreamError {
    /// The `status` label: the HTTP status the provider answered, or what went wrong without one.
    var metricStatus: String {
        switch self {
        case .rateLimited: "429"
        case .unavailable(let status, _): String(status)
        case .rejected(let status, _): String(status)
        case .transport: "transport"
        case .invalidResponse: "invalid_response"
        }
    }
}
