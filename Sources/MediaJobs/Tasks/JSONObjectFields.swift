/// The fields of a parsed JSON object (``JSONParser``), read with the rules `JSONDecoder` applies
/// to a synthesized `Decodable`: an optional field that is absent or `null` reads as nil, a field
/// of the wrong type is an error (no coercion: `"1"` is no number, `1` no string), fields no one
/// asks for are ignored.
///
/// For documents read often enough that `Decodable` shows in a profile (stored requests, poll
/// answers): its keyed containers, coding paths and generic look-ups cost several times the parse.
struct JSONObjectFields {
    private let values: [String: JSONValue]
    /// Where the object sits in its document (`data.tracks[0]`), for error messages; empty at the top.
    let path: String

    /// `value` as an object; any other value is an error.
    init(_ value: JSONValue, path: String = "") throws(JSONShapeError) {
        guard case .object(let values) = value else { throw JSONShapeError(path: path, expected: "an object") }
        self.values = values
        self.path = path
    }

    /// The field's value; nil when absent or `null`.
    func value(_ key: String) -> JSONValue? {
        switch values[key] {
        case nil, .null?: nil
        case let value?: value
        }
    }

    func string(_ key: String) throws(JSONShapeError) -> String? {
        switch value(key) {
        case nil: return nil
        case .string(let text)?: return text
        default: throw wrongType(key, "a string")
        }
    }

    func bool(_ key: String) throws(JSONShapeError) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let flag)?: return flag
        default: throw wrongType(key, "a boolean")
        }
    }

    /// A number that is a whole `Int` (`200`, `200.0` and `2e2` alike, as `JSONDecoder` takes them).
    func int(_ key: String) throws(JSONShapeError) -> Int? {
        switch value(key) {
        case nil: return nil
        case .number(let number)?:
            guard let whole = Int(exactly: number) else { throw wrongType(key, "an integer") }
            return whole
        default: throw wrongType(key, "an integer")
        }
    }

    func object(_ key: String) throws(JSONShapeError) -> JSONObjectFields? {
        guard let value = value(key) else { return nil }
        return try JSONObjectFields(value, path: fieldPath(key))
    }

    /// An array of objects; an element that is no object (`null` included) is an error.
    func objects(_ key: String) throws(JSONShapeError) -> [JSONObjectFields]? {
        switch value(key) {
        case nil: return nil
        case .array(let elements)?:
            var objects: [JSONObjectFields] = []
            objects.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                objects.append(try JSONObjectFields(element, path: "\(fieldPath(key))[\(index)]"))
            }
            return objects
        default: throw wrongType(key, "an array")
        }
    }

    /// A field `read` converts, for types with their own reading; a value `read` refuses (nil) is
    /// an error named by `expected`.
    func field<T>(_ key: String, expected: String, _ read: (JSONValue) -> T?) throws(JSONShapeError) -> T? {
        guard let value = value(key) else { return nil }
        guard let converted = read(value) else { throw wrongType(key, expected) }
        return converted
    }

    /// A field `Decodable` requires: absent or `null` is an error too.
    func required<T>(_ key: String, _ read: (String) throws(JSONShapeError) -> T?) throws(JSONShapeError) -> T {
        guard let value = try read(key) else { throw JSONShapeError(path: fieldPath(key), expected: "present") }
        return value
    }

    private func fieldPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    private func wrongType(_ key: String, _ expected: String) -> JSONShapeError {
        JSONShapeError(path: fieldPath(key), expected: expected)
    }
}

/// A JSON document whose value at `path` is not what its reader expects.
struct JSONShapeError: Error, Equatable, CustomStringConvertible {
    var path: String
    var expected: String
    var description: String { "\(path.isEmpty ? "the document" : "'\(path)'") must be \(expected)" }
}
