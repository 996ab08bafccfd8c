import NIOCore

/// A strict RFC 8259 parser from request bytes to ``JSONValue``.
///
/// Why not `JSONDecoder`: request bodies are small flat objects, and going through `Decodable`
/// (keyed containers, coding paths, generic metadata look-ups) cost 7 % of a submit's CPU
/// (`perf` during `bench/run --only submit`), several times the parse itself. This parser reads
/// the bytes once, in place, into the value the handlers then read field by field
/// (``JSONBodyFields``).
///
/// It accepts exactly JSON: one value with optional whitespace around it; strings must be
/// valid UTF-8 with no raw control characters and may use every escape, `\u` surrogate pairs
/// included (a lone surrogate is an error); numbers follow the JSON grammar and must be finite
/// as a `Double`. Of repeated keys the last one counts. Nesting deeper than `maxDepth` is refused
/// before it can exhaust the stack.
struct JSONParser {
    enum Failure: Error, Equatable {
        /// Not JSON (the offset of the first byte that cannot be read).
        case syntax(offset: Int)
        /// Arrays and objects nested deeper than allowed.
        case tooDeep
    }

    private let bytes: UnsafeRawBufferPointer
    private let maxDepth: Int
    private var index = 0

    private init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The value `buffer` holds.
    static func parse(_ buffer: ByteBuffer, maxDepth: Int) throws(Failure) -> JSONValue {
        let result = buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(Failure) -> JSONValue in
                var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
                let value = try parser.value(depth: 0)
                parser.skipWhitespace()
                guard parser.index == bytes.count else { throw .syntax(offset: parser.index) }
                return value
            }
        }
        return try result.get()
    }

    /// The value `text` holds (tests, small documents).
    static func parse(_ text: String, maxDepth: Int = 64) throws(Failure) -> JSONValue {
        try parse(ByteBuffer(string: text), maxDepth: maxDepth)
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw .syntax(offset: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try object(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw .syntax(offset: index)
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> [String: JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return fields }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw .syntax(offset: index) }
            let key = try string()
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw .syntax(offset: index) }
            fields[key] = try value(depth: depth)
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "}")) else { throw .syntax(offset: index) }
            return fields
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> [JSONValue] {
        guard depth <= maxDepth else { throw .tooDeep }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return elements }
        while true {
            elements.append(try value(depth: depth))
            skipWhitespace()
            if consume(UInt8(ascii: ",")) { continue }
            guard consume(UInt8(ascii: "]")) else { throw .syntax(offset: index) }
            return elements
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count,
            UnsafeRawBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[index..<(index + count)])
        else { throw .syntax(offset: index) }
        index += count
    }

    /// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`
    private mutating func number() throws(Failure) -> Double {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            // No leading zeros: "01" is not JSON.
        } else if digits() == 0 {
            throw .syntax(offset: index)
        }
        if consume(UInt8(ascii: ".")), digits() == 0 { throw .syntax(offset: index) }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if !(consume(UInt8(ascii: "+"))) { _ = consume(UInt8(ascii: "-")) }
            if digits() == 0 { throw .syntax(offset: index) }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw .syntax(offset: start) }
        return value
    }

    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    // MARK: Strings

    /// A string starting at its opening quote. Without escapes (the usual case) it is validated
    /// and copied in one step, straight from the request bytes.
    private mutating func string() throws(Failure) -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return try Self.text(bytes[start..<index], at: start)
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw .syntax(offset: index) }
            index += 1
        }
        throw .syntax(offset: index)
    }

    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var utf8 = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: utf8, as: UTF8.self) else { throw .syntax(offset: start) }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw .syntax(offset: index) }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try unicodeEscape())
                default: throw .syntax(offset: index - 1)
                }
            default:
                guard byte >= 0x20 else { throw .syntax(offset: index) }
                utf8.append(byte)
                index += 1
            }
        }
        throw .syntax(offset: index)
    }

    /// The UTF-8 of a `\uXXXX` escape whose `\u` has been read, joining a surrogate pair.
    private mutating func unicodeEscape() throws(Failure) -> String.UTF8View {
        let first = try hex4()
        var scalar: Unicode.Scalar?
        switch first {
        case 0xD800...0xDBFF:
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw .syntax(offset: index) }
            index += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw .syntax(offset: index - 4) }
            scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF:
            throw .syntax(offset: index - 4)
        default:
            scalar = Unicode.Scalar(first)
        }
        guard let scalar else { throw .syntax(offset: index) }
        return String(Character(scalar)).utf8
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - index >= 4 else { throw .syntax(offset: index) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .syntax(offset: index)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `bytes` as a string, refusing invalid UTF-8 rather than repairing it.
    private static func text(_ bytes: Slice<UnsafeRawBufferPointer>, at offset: Int) throws(Failure) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .syntax(offset: offset) }
        return text
    }

    // MARK: Whitespace and punctuation

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    /// Moves past `byte` if it comes next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
