/// One HTTP request being timed, counted the same way whichever path answers it (the router's
/// ``HTTPMetricsMiddleware`` or an answer written on the event loop): by method, the route
/// template and the status the client got (`mediajobs_http_*`).
struct HTTPRequestTiming: Sendable {
    /// The route label of a request that matched no route.
    static let unmatchedRoute = "NotFound"

    /// The request's method, as the label spells it (`GET`).
    let method: String
    /// When the request's head was read.
    let started: ContinuousClock.Instant

    /// Starts timing a request (now, unless it started earlier).
    init(method: String, started: ContinuousClock.Instant = .now) {
        self.method = method
        self.started = started
    }

    /// Counts the request under `route` (a template such as `/v1/tasks/{id}`, so ids never become
    /// labels; nil when no route matched) with the time since it started.
    func record(route: String?, status: Int, in metrics: ServiceMetrics) {
        metrics.httpRequest(method: method, route: route ?? Self.unmatchedRoute, status: status, duration: ContinuousClock.now - started)
    }
}
