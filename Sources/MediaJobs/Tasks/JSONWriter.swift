import NIOCore

/// A value that writes itself as JSON with ``JSONWriter``.
///
/// Used on the hot paths (status answers, submit answers, the stored music request), where
/// `JSONEncoder` cost up to a fifth of a request's CPU (BENCHMARKS.md). Everything else keeps `Encodable`.
protocol JSONWritable {
    func write(to json: inout JSONWriter)
}

/// Writes JSON text straight into bytes: no intermediate tree, no `Data` copy.
///
/// Output matches `JSONEncoder` with `.withoutEscapingSlashes`: keys in the order written, integral
/// doubles without a fraction, non-finite numbers as `null`.
struct JSONWriter {
    /// The text so far. An array rather than a `ByteBuffer`: appends to it are cheaper, and the
    /// one copy into a buffer at the end costs less than the per-write checks of many small writes.
    private(set) var bytes: [UInt8]
    /// No element written yet in the innermost open container.
    private var atContainerStart = true
    /// A key was just written; the next value belongs to it (no comma).
    private var afterKey = false

    init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The JSON text of `value`.
    static func buffer(_ value: some JSONWritable, capacity: Int = 1024) -> ByteBuffer {
        var writer = JSONWriter(capacity: capacity)
        value.write(to: &writer)
        return ByteBuffer(bytes: writer.bytes)
    }

    /// The JSON text of `value` as a string (for a database column).
    static func string(_ value: some JSONWritable, capacity: Int = 256) -> String {
        var writer = JSONWriter(capacity: capacity)
        value.write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    // MARK: containers

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        atContainerStart = true
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        atContainerStart = false
    }

    mutating func array<Elements: Sequence>(_ elements: Elements, _ element: (inout JSONWriter, Elements.Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        atContainerStart = true
        for item in elements { element(&self, item) }
        bytes.append(UInt8(ascii: "]"))
        atContainerStart = false
    }

    /// `"name":` inside an object; the next value written is its value.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        append(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    // MARK: fields (key and value)

    mutating func field(_ name: StaticString, _ value: String?) {
        key(name)
        string(value)
    }

    /// The field only when `value` is not `nil`, as `Encodable`'s synthesized `encodeIfPresent` does.
    mutating func fieldIfPresent(_ name: StaticString, _ value: String?) {
        if let value { field(name, value) }
    }

    mutating func field(_ name: StaticString, _ value: some BinaryInteger) {
        key(name)
        integer(value)
    }

    mutating func field(_ name: StaticString, _ value: Int64?) {
        key(name)
        if let value { integer(value) } else { null() }
    }

    mutating func field(_ name: StaticString, _ value: Double?) {
        key(name)
        number(value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        separate()
        append(value ? "true" : "false")
    }

    mutating func field(_ name: StaticString, _ value: some JSONWritable) {
        key(name)
        value.write(to: &self)
    }

    // MARK: values

    mutating func null() {
        separate()
        append("null")
    }

    mutating func integer(_ value: some BinaryInteger) {
        separate()
        writeDigits(of: Int64(value))
    }

    mutating func number(_ value: Double?) {
        guard let value, value.isFinite else { return null() }
        // JSONEncoder writes integral doubles without ".0"; keep the answers byte-compatible.
        if value.rounded(.towardZero) == value, abs(value) < 9_007_199_254_740_992 {
            integer(Int64(value))
        } else {
            separate()
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    mutating func string(_ value: String?) {
        guard var value else { return null() }
        separate()
        bytes.append(UInt8(ascii: "\""))
        let clean = value.withUTF8 { utf8 in
            if !utf8.contains(where: Self.needsEscape) {
                bytes.append(contentsOf: utf8)
                return true
            }
            return false
        }
        if !clean { writeEscaped(value) }
        bytes.append(UInt8(ascii: "\""))
    }

    // MARK: internals

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Escapes as RFC 8259 requires: quote, backslash and control characters; everything else is UTF-8 as is.
    private mutating func writeEscaped(_ value: String) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case ..<0x20:
                append("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Decimal digits without a `String` in between.
    private mutating func writeDigits(of value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &scratch) { scratch in
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }

    /// A comma before every element but the first of its container (values right after a key get none).
    private mutating func separate() {
        if afterKey {
            afterKey = false
        } else if !atContainerStart {
            bytes.append(UInt8(ascii: ","))
        }
        atContainerStart = false
    }
}
