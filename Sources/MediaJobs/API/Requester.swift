import HTTPTypes

/// Who sends a client request, decided from its `Authorization` header and the configured keys:
/// the one API-key check of both paths (``APIKeyAuthMiddleware`` and ``EventLoopRoutes``).
enum Requester: Sendable, Equatable {
    /// No keys are configured: anyone may ask, and tasks have no owner.
    case anyone
    /// A valid key, by its owner id (the key's digest, see ``APIKeyRing``).
    case owner(String)
    /// Keys are required and the request carries no bearer token.
    case missingKey
    /// Keys are required and the bearer token is none of them.
    case invalidKey

    /// Decides who sends a request carrying `authorization`.
    init(authorization: String?, keys: APIKeyRing) {
        guard !keys.isOpen else {
            self = .anyone
            return
        }
        guard let token = BearerToken.parse(authorization) else {
            self = .missingKey
            return
        }
        self = keys.owner(presenting: token).map(Requester.owner) ?? .invalidKey
    }

    /// The owner recorded with the request's tasks (nil when the API is open), or the 401 to answer.
    var admission: Result<String?, APIError> {
        switch self {
        case .anyone: .success(nil)
        case .owner(let owner): .success(owner)
        case .missingKey: .failure(Self.unauthorized("this server needs an API key: send 'Authorization: Bearer <key>'", code: "missing_api_key"))
        case .invalidKey: .failure(Self.unauthorized("the API key is not valid", code: "invalid_api_key"))
        }
    }

    /// A 401 that names the realm, so clients know a bearer key is what is missing.
    static func unauthorized(_ message: String, code: String) -> APIError {
        var error = APIError(status: .unauthorized, kind: .authentication, code: code, message: message)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"mediajobs\""
        return error
    }
}
