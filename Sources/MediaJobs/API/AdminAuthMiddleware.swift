import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Guards `/admin/*`: without a configured admin key the admin API does not exist (404); with one,
/// requests need `Authorization: Bearer <key>` (401 otherwise).
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    /// SHA-256 of the admin key; comparing digests in constant time leaks neither the key nor its length.
    private let keyDigest: [UInt8]?

    init(adminKey: String?) {
        keyDigest = adminKey.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let keyDigest else {
            throw APIError(status: .notFound, kind: .notFound, code: "not_found", message: "nothing at \(request.uri.path)")
        }
        guard let presented = BearerToken.parse(request.headers[.authorization]) else {
            throw Self.unauthorized("this route needs the admin key: send 'Authorization: Bearer <admin key>'", code: "missing_admin_key")
        }
        let digest = SHA256.hash(data: Data(presented.utf8))
        guard Self.constantTimeEqual(Array(digest), keyDigest) else {
            throw Self.unauthorized("the admin key is not valid", code: "invalid_admin_key")
        }
        return try await next(request, context)
    }

    static func unauthorized(_ message: String, code: String) -> APIError {
        var error = APIError(status: .unauthorized, kind: .authentication, code: code, message: message)
        error.headers[.wwwAuthenticate] = "Bearer realm=\"mediajobs-admin\""
        return error
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
