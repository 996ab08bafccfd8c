import Foundation
import Hummingbird
import NIOCore

/// Reads request bodies as JSON, with a size cap and errors that name the field at fault.
public struct JSONRequestBody: Sendable {
    /// Largest body accepted, in bytes.
    public var maxBytes: Int
    /// Deepest nesting accepted; deeper documents are refused before decoding.
    public var maxDepth: Int = 32

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Collects the body and its raw bytes (kept for idempotency fingerprints).
    public func collect(_ request: Request) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw APIError.bodyTooLarge
        }
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge
        }
    }

    /// Decodes `buffer` as `T`, translating decoding failures into 400s.
    public func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else { throw APIError.invalidRequest("the request body is empty; send a JSON object", code: "invalid_json") }
        let data = Data(buffer: buffer)
        guard Self.nestingDepth(of: data) <= maxDepth else {
            throw APIError.invalidRequest("the JSON body is nested deeper than \(maxDepth) levels", code: "invalid_json")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw Self.translate(error)
        }
    }

    /// Collects and decodes in one go.
    public func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(type, from: try await collect(request))
    }

    static func translate(_ error: DecodingError) -> APIError {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let expected, let context) where !context.codingPath.isEmpty:
            let field = path(context)
            return .invalidValue(field, "'\(field)' must be \(typeName(expected))")
        case .valueNotFound(let expected, let context) where !context.codingPath.isEmpty:
            let field = path(context)
            return .invalidValue(field, "'\(field)' must be \(typeName(expected)), not null")
        case .keyNotFound(let key, _):
            return .missing(key.stringValue)
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            let field = path(context)
            return .invalidValue(field, "'\(field)' has an invalid value")
        case .typeMismatch, .valueNotFound:
            return .invalidRequest("the request body must be a JSON object", code: "invalid_json")
        default:
            return .invalidRequest("the request body is not valid JSON", code: "invalid_json")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is [String].Type: "an array of strings"
        default: String(describing: type).hasPrefix("Dictionary") ? "an object" : "a valid value"
        }
    }

    /// The deepest `[`/`{` nesting outside strings: a cheap pre-check against stack-exhausting documents.
    static func nestingDepth(of data: Data) -> Int {
        var depth = 0
        var deepest = 0
        var inString = false
        var escaped = false
        for byte in data {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }
}
