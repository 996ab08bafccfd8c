import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the error envelope (``APIError/rendered(sunoStyle:)``): an unreachable
/// database becomes a 503 the client may retry, anything unexpected a logged 500 whose details stay in the log.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let sunoStyle = APIError.isSunoStyle(path: request.uri.path)
        do {
            let response = try await next(request, context)
            return response
        } catch let error as APIError {
            return error.response(sunoStyle: sunoStyle)
        } catch let error as any HTTPResponseError {
            return Self.translate(error, path: request.uri.path).response(sunoStyle: sunoStyle)
        } catch let error as StoreUnavailable {
            context.logger.warning("request refused: the database is unavailable", metadata: ["reason": "\(error.reason)", "path": "\(request.uri.path)"])
            return APIError.databaseUnavailable.response(sunoStyle: sunoStyle)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return APIError.internalError.response(sunoStyle: sunoStyle)
        }
    }

    /// Maps the framework's errors (unknown route, oversized body, bad range) onto the envelope.
    static func translate(_ error: any HTTPResponseError, path: String) -> APIError {
        var apiError: APIError
        switch error.status {
        case .notFound:
            apiError = APIError(status: .notFound, kind: .notFound, code: "not_found", message: "nothing at \(path)")
        case .contentTooLarge:
            apiError = .bodyTooLarge
        case .methodNotAllowed:
            apiError = APIError(status: .methodNotAllowed, kind: .invalidRequest, code: "method_not_allowed", message: "this method is not allowed on \(path)")
        case .rangeNotSatisfiable:
            apiError = APIError(status: .rangeNotSatisfiable, kind: .invalidRequest, code: "range_not_satisfiable", message: "the requested range is not satisfiable")
        case let status where status.code >= 500:
            apiError = .internalError
        case let status:
            apiError = APIError(status: status, kind: .invalidRequest, code: "invalid_request", message: status.reasonPhrase.isEmpty ? "invalid request" : status.reasonPhrase.lowercased())
        }
        if let httpError = error as? HTTPError {
            apiError.headers = httpError.headers
            apiError.headers[.contentLength] = nil
            apiError.headers[.contentType] = nil
        }
        return apiError
    }
}
