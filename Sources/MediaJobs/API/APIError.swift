import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error a client sees: the error envelope with its HTTP status (`ErrorEnvelope` and
/// `SunoErrorEnvelope` in openapi.yaml).
public struct APIError: Error, Sendable, Equatable {
    /// The `type` field; each maps to one HTTP status family.
    public enum Kind: String, Sendable {
        case invalidRequest = "invalid_request_error"
        case authentication = "authentication_error"
        case permission = "permission_error"
        case notFound = "not_found_error"
        case conflict = "conflict_error"
        case rateLimit = "rate_limit_error"
        case server = "server_error"
    }

    public var status: HTTPResponse.Status
    public var kind: Kind
    /// A stable machine-readable reason, e.g. `missing_parameter`.
    public var code: String
    public var message: String
    /// The request field at fault, when there is one.
    public var param: String?
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, kind: Kind, code: String, message: String, param: String? = nil) {
        self.status = status
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
    }

    public static func invalidRequest(_ message: String, code: String = "invalid_request", param: String? = nil) -> APIError {
        APIError(status: .badRequest, kind: .invalidRequest, code: code, message: message, param: param)
    }

    public static func missing(_ param: String) -> APIError {
        .invalidRequest("'\(param)' is required", code: "missing_parameter", param: param)
    }

    public static func invalidValue(_ param: String, _ message: String) -> APIError {
        .invalidRequest(message, code: "invalid_value", param: param)
    }

    public static func taskNotFound(_ id: String) -> APIError {
        APIError(status: .notFound, kind: .notFound, code: "task_not_found", message: "no task with id '\(id)'")
    }

    public static let bodyTooLarge = APIError(status: .contentTooLarge, kind: .invalidRequest, code: "body_too_large", message: "the request body is larger than this server accepts")

    /// The database is out of reach (``StoreUnavailable``): nothing was accepted or changed, and the same request may be sent again.
    public static let databaseUnavailable: APIError = {
        var error = APIError(
            status: .serviceUnavailable, kind: .server, code: "database_unavailable",
            message: "the database is unavailable; nothing was changed, try again shortly")
        error.headers[.retryAfter] = "5"
        return error
    }()

    public static let internalError = APIError(status: .internalServerError, kind: .server, code: "internal_error", message: "the server hit an unexpected error; it has been logged")

    /// Whether answers on `path` use the Suno variant of the envelope (top-level `code` and `message`).
    static func isSunoStyle(path: some StringProtocol) -> Bool {
        path.hasPrefix("/suno/")
    }

    /// The error as it goes out, whichever path writes it: the router's middleware
    /// (``response(sunoStyle:)``) and every answer written on the event loop.
    func rendered(sunoStyle: Bool) -> RenderedError {
        var fields = headers
        fields[.contentType] = JSONResponse.contentType
        return RenderedError(status: status, headers: fields, body: body(sunoStyle: sunoStyle))
    }

    /// The JSON body: `{"error": {...}}`, plus top-level `code`/`message` for Suno-style clients.
    private func body(sunoStyle: Bool) -> ByteBuffer {
        var error: [String: String] = ["message": message, "type": kind.rawValue, "code": code]
        if let param { error["param"] = param }
        let data: Data
        if sunoStyle {
            data = (try? JSONCoding.encoder().encode(SunoErrorBody(code: Int(status.code), message: message, error: error))) ?? Data()
        } else {
            data = (try? JSONCoding.encoder().encode(["error": error])) ?? Data()
        }
        return ByteBuffer(data: data)
    }

    /// The router's response.
    func response(sunoStyle: Bool) -> Response {
        let rendered = rendered(sunoStyle: sunoStyle)
        return Response(status: rendered.status, headers: rendered.headers, body: .init(byteBuffer: rendered.body))
    }
}

/// An ``APIError`` rendered once: its status, its headers (the content type and the error's own,
/// such as `WWW-Authenticate` or `Retry-After`) and the envelope. The length is the writer's to add.
struct RenderedError {
    var status: HTTPResponse.Status
    /// `Content-Type` and the error's own fields.
    var headers: HTTPFields
    /// The JSON envelope.
    var body: ByteBuffer
}

private struct SunoErrorBody: Encodable {
    var code: Int
    var message: String
    var error: [String: String]
}
