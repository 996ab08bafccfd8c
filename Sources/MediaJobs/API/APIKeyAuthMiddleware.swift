import HTTPTypes
import Hummingbird

/// Requires a known API key on client routes when keys are configured, and records its owner
/// (``Requester`` decides).
///
/// Health, readiness and metrics stay open for probes and scrapers; `/admin` has its own key.
struct APIKeyAuthMiddleware<Context: AuthenticatedRequestContext>: RouterMiddleware {
    let keys: APIKeyRing
    /// The dashboard's sessions (nil without an admin key): a signed-in operator may read every key's `/files`.
    var dashboardSessions: DashboardSessions? = nil

    static var openPrefixes: [String] { ["/healthz", "/readyz", "/metrics", "/admin/", "/dashboard"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard !keys.isOpen, !Self.openPrefixes.contains(where: { path == $0 || path.hasPrefix($0) }) else {
            return try await next(request, context)
        }
        var context = context
        let requester = Requester(authorization: request.headers[.authorization], keys: keys)
        if requester == .missingKey, path.hasPrefix("/files/"), let dashboardSessions,
            dashboardSessions.session(request.cookies[DashboardController<MediaJobsRequestContext>.cookieName]?.value) != nil
        {
            // No owner: the operator sees every key's files (the event-loop path leaves these requests here).
            context.owner = nil
            return try await next(request, context)
        }
        context.owner = try requester.admission.get()
        return try await next(request, context)
    }
}
