import Hummingbird

/// Counts and times every request the router answers by method, matched route template and
/// status (``HTTPRequestTiming``, which the event-loop answers use too).
///
/// Sits outside the error middleware, so errors are counted with the status the client got. The
/// route is the template the router matched (`/v1/tasks/{id}`); requests that match no route are
/// counted as `NotFound`. The time is until the response is ready: a streamed file body is
/// written after that (re-wrapping every body to time its write would cost each small JSON
/// answer a closure).
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let timing = HTTPRequestTiming(method: request.method.rawValue)
        do {
            let response = try await next(request, context)
            timing.record(route: context.endpointPath, status: Int(response.status.code), in: metrics)
            return response
        } catch {
            timing.record(route: context.endpointPath, status: Int((error as? any HTTPResponseError)?.status.code ?? 500), in: metrics)
            throw error
        }
    }
}
