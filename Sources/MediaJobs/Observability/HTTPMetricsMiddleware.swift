import Hummingbird

/// Counts and times every request by method, matched route template and status (`mediajobs_http_*`).
///
/// Sits outside the error middleware, so errors are counted with the status the client got. The
/// route is the template the router matched (`/v1/tasks/{id}`), so ids never become labels;
/// requests that match no route are counted as `NotFound`. The time is until the response is
/// ready: a streamed file body is written after that (re-wrapping every body to time its write
/// would cost each small JSON answer a closure).
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            metrics.httpRequest(method: request.method.rawValue, route: context.endpointPath ?? "NotFound", status: status, duration: ContinuousClock.now - start)
            return response
        } catch {
            status = Int((error as? any HTTPResponseError)?.status.code ?? 500)
            metrics.httpRequest(method: request.method.rawValue, route: context.endpointPath ?? "NotFound", status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
