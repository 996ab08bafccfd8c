import Foundation

/// A size in bytes as written in configuration, e.g. `512`, `10KB`, `1.5 GiB`.
public struct ByteCount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The exact number of bytes.
    public var bytes: Int64

    /// Wraps an exact byte count.
    public init(bytes: Int64) {
        self.bytes = bytes
    }

    /// Parses a size: decimal units K/M/G/T/P(B) are powers of 1000, binary units Ki/Mi/Gi/Ti/Pi(B) powers of 1024.
    ///
    /// Case-insensitive, the trailing `B` and a space before the unit are optional, and fractions are allowed with a
    /// unit (`1.5GB`; sub-byte remainders truncate). Negative, malformed and > Int64.max values give nil.
    public init?(parsing text: String) {
        guard let (number, rawUnit) = ConfigNumberParsing.splitNumberAndUnit(text) else { return nil }
        var unit = rawUnit.lowercased()
        if unit.hasSuffix("b") { unit.removeLast() }
        let multiplier: UInt64
        switch unit {
        case "":
            // Fractional bytes are meaningless, so "1.5" / "1.5B" is rejected rather than silently truncated.
            guard number.fractionDigits.isEmpty else { return nil }
            multiplier = 1
        case "k": multiplier = 1_000
        case "m": multiplier = 1_000_000
        case "g": multiplier = 1_000_000_000
        case "t": multiplier = 1_000_000_000_000
        case "p": multiplier = 1_000_000_000_000_000
        case "ki": multiplier = 1 << 10
        case "mi": multiplier = 1 << 20
        case "gi": multiplier = 1 << 30
        case "ti": multiplier = 1 << 40
        case "pi": multiplier = 1 << 50
        default: return nil
        }
        guard let value = number.scaled(by: multiplier), value <= UInt64(Int64.max) else { return nil }
        self.bytes = Int64(value)
    }

    /// Orders by byte count.
    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool {
        lhs.bytes < rhs.bytes
    }

    /// Human-readable size such as `512 B`, `1.5 GB` or `1 MiB`, with at most two decimals.
    ///
    /// Decimal units are preferred; a binary unit is used when it represents the value exactly and the decimal
    /// one does not (so 1048576 prints as `1 MiB` rather than `1.05 MB`).
    public var description: String {
        let sign = bytes < 0 ? "-" : ""
        let magnitude = bytes.magnitude
        if magnitude < 1_000 { return "\(sign)\(magnitude) B" }

        let decimal = Self.largestUnit(for: magnitude, base: 1_000, names: ["KB", "MB", "GB", "TB", "PB", "EB"])
        if magnitude.isMultiple(of: decimal.size / 100) {
            return sign + Self.render(magnitude, unitSize: decimal.size, name: decimal.name)
        }
        let binary = Self.largestUnit(for: magnitude, base: 1_024, names: ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"])
        if Self.isExactWithTwoDecimals(magnitude, unitSize: binary.size) {
            return sign + Self.render(magnitude, unitSize: binary.size, name: binary.name)
        }
        return sign + Self.render(magnitude, unitSize: decimal.size, name: decimal.name)
    }

    /// The largest power of `base` (at least `base`) not exceeding `value`, with its unit name.
    private static func largestUnit(for value: UInt64, base: UInt64, names: [String]) -> (size: UInt64, name: String) {
        var size = base
        var index = 0
        while index + 1 < names.count {
            let (next, overflow) = size.multipliedReportingOverflow(by: base)
            if overflow || next > value { break }
            size = next
            index += 1
        }
        return (size, names[index])
    }

    /// Whether `value / unitSize` has at most two decimal places.
    private static func isExactWithTwoDecimals(_ value: UInt64, unitSize: UInt64) -> Bool {
        let (product, overflow) = value.multipliedReportingOverflow(by: 100)
        return !overflow && product.isMultiple(of: unitSize)
    }

    /// Renders `value / unitSize` rounded half-up to two decimals, trailing zeros trimmed.
    private static func render(_ value: UInt64, unitSize: UInt64, name: String) -> String {
        let whole = value / unitSize
        let remainder = value % unitSize
        // remainder * 100 can overflow for exabyte units, so work in full width.
        let scaled = remainder.multipliedFullWidth(by: 100)
        let (hundredths, leftover) = unitSize.dividingFullWidth(scaled)
        var wholePart = whole
        var fraction = hundredths
        // Half-up rounding; written as a subtraction because leftover * 2 could overflow.
        if leftover >= unitSize - leftover {
            fraction += 1
            if fraction == 100 {
                fraction = 0
                wholePart += 1
            }
        }
        guard fraction != 0 else { return "\(wholePart) \(name)" }
        let digits = fraction < 10 ? "0\(fraction)" : "\(fraction)"
        let trimmed = digits.hasSuffix("0") ? String(digits.dropLast()) : digits
        return "\(wholePart).\(trimmed) \(name)"
    }
}
