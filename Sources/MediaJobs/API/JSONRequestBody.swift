import Hummingbird
import NIOCore

/// Reads request bodies as JSON, with a size cap and errors that name the field at fault.
public struct JSONRequestBody: Sendable {
    /// Largest body accepted, in bytes.
    public var maxBytes: Int
    /// Deepest nesting accepted; deeper documents are refused while parsing, before they can exhaust the stack.
    public var maxDepth: Int = 32

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Collects the body and its raw bytes (kept for idempotency fingerprints).
    ///
    /// A body over the limit is a 413, from its declared length before any of it is read. The
    /// rest of it never reaches the router: ``HotRouteHandler`` ends the request for the router
    /// where it crosses the limit, drops what the client still sends and closes the connection
    /// (``RequestBodyLimit``), with the same `maxBytes`.
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

    /// Reads `buffer` as `T`: a JSON object, or a 400 that says what is wrong with it.
    func decode<T: JSONBodyDecodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else { throw APIError.invalidRequest("the request body is empty; send a JSON object", code: "invalid_json") }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(buffer, maxDepth: maxDepth)
        } catch .tooDeep {
            throw APIError.invalidRequest("the JSON body is nested deeper than \(maxDepth) levels", code: "invalid_json")
        } catch .syntax(let offset) {
            throw APIError.invalidRequest("the request body is not valid JSON (at byte \(offset))", code: "invalid_json")
        }
        guard case .object(let fields) = parsed else {
            throw APIError.invalidRequest("the request body must be a JSON object", code: "invalid_json")
        }
        return try T(JSONBodyFields(fields))
    }

    /// Collects and decodes in one go.
    func decode<T: JSONBodyDecodable>(_ type: T.Type, from request: Request) async throws -> T {
        try decode(type, from: try await collect(request))
    }
}

/// A request body read from its JSON object field by field (``JSONBodyFields``).
protocol JSONBodyDecodable {
    init(_ body: JSONBodyFields) throws
}

/// The fields of a request body's object, read with the error a client gets for a wrong type
/// (`'n' must be an integer`). A field that is absent or `null` reads as nil; fields no one asks
/// for are ignored.
struct JSONBodyFields {
    private let values: [String: JSONValue]

    init(_ values: [String: JSONValue]) {
        self.values = values
    }

    func string(_ key: String) throws -> String? {
        switch values[key] {
        case nil, .null?: nil
        case .string(let text)?: text
        default: throw Self.wrongType(key, "a string")
        }
    }

    func bool(_ key: String) throws -> Bool? {
        switch values[key] {
        case nil, .null?: nil
        case .bool(let flag)?: flag
        default: throw Self.wrongType(key, "a boolean")
        }
    }

    /// A whole number (`2` or `2.0`) that fits an `Int`.
    func int(_ key: String) throws -> Int? {
        switch values[key] {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number.rounded() == number, let whole = Int(exactly: number) else { throw Self.wrongType(key, "an integer") }
            return whole
        default: throw Self.wrongType(key, "an integer")
        }
    }

    func strings(_ key: String) throws -> [String]? {
        switch values[key] {
        case nil, .null?: return nil
        case .array(let elements)?:
            return try elements.map { element in
                guard case .string(let text) = element else { throw Self.wrongType(key, "an array of strings") }
                return text
            }
        default: throw Self.wrongType(key, "an array of strings")
        }
    }

    /// Any JSON value, as the client sent it (`metadata`).
    func value(_ key: String) -> JSONValue? {
        switch values[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    private static func wrongType(_ key: String, _ expected: String) -> APIError {
        .invalidValue(key, "'\(key)' must be \(expected)")
    }
}
