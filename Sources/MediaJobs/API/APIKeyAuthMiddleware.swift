import HTTPTypes
import Hummingbird

/// Requires a known API key on client routes when keys are configured, and records its owner.
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
        guard let token = BearerToken.parse(request.headers[.authorization]) else {
            throw Self.unauthorized("this server needs an API key: send 'Authorization: Bearer <key>'", code: "missing_api_key")
        }
        guard let owner = keys.owner(presenting: token) else {
            throw Self.unauthorized("the API key is not valid", code: "invalid_api_key")
        }
        var context = context
        context.owner = owner
        return try await next(request, context)
    }

    static func unauthorized(_ message: String, code: String) -> APIError {
        var error = APIError(status: .unauthorized, kind: .authentication, code: code, message: message)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"mediajobs\""
        return error
    }
}
