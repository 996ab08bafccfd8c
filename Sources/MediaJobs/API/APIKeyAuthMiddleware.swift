import HTTPTypes
import Hummingbird

/// Requires a known API key on client routes when keys are configured, and records its owner
/// (``Requester`` decides).
///
/// Health, readiness and metrics stay open for probes and scrapers; `/admin` has its own key.
struct APIKeyAuthMiddleware<Context: AuthenticatedRequestContext>: RouterMiddleware {
    let keys: APIKeyRing

    static var openPrefixes: [String] { ["/healthz", "/readyz", "/metrics", "/admin/"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard !keys.isOpen, !Self.openPrefixes.contains(where: { path == $0 || path.hasPrefix($0) }) else {
            return try await next(request, context)
        }
        var context = context
        context.owner = try Requester(authorization: request.headers[.authorization], keys: keys).admission.get()
        return try await next(request, context)
    }
}
