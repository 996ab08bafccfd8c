import Foundation

extension Duration {
    /// Parses `500ms`, `2s`, `1.5s`, `5m`, `2h`, `30d`, Go-style compounds such as `1m30s` or `2m59.5s`, or a bare
    /// number of seconds; nil for negative, empty, unknown-unit or out-of-range (beyond Int64 nanoseconds, ~292
    /// years) input.
    ///
    /// Units are case-sensitive (as in Go's `time.ParseDuration`, so `M` is not mistaken for minutes or months);
    /// surrounding whitespace and a space between number and unit are ignored. Sub-nanosecond fractions truncate.
    public init?(parsing text: String) {
        let utf8 = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard !utf8.isEmpty else { return nil }
        var index = 0
        var total: UInt64 = 0
        var segments = 0
        while index < utf8.count {
            guard let number = ConfigNumberParsing.scanNumber(utf8, at: &index) else { return nil }
            var unitEnd = index
            while unitEnd < utf8.count, utf8[unitEnd] == UInt8(ascii: " ") { unitEnd += 1 }
            let unitStart = unitEnd
            while unitEnd < utf8.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(utf8[unitEnd]) { unitEnd += 1 }
            let unit = String(decoding: utf8[unitStart..<unitEnd], as: UTF8.self)
            let isLoneNumber = segments == 0 && unitEnd == utf8.count
            index = unitEnd
            segments += 1
            let unitNanoseconds: UInt64
            switch unit {
            case "ms": unitNanoseconds = 1_000_000
            case "s": unitNanoseconds = 1_000_000_000
            case "m": unitNanoseconds = 60_000_000_000
            case "h": unitNanoseconds = 3_600_000_000_000
            case "d": unitNanoseconds = 86_400_000_000_000
            // Only a lone number may omit its unit; in "1m30" the missing unit is more likely a typo.
            case "" where isLoneNumber: unitNanoseconds = 1_000_000_000
            default: return nil
            }
            guard let nanoseconds = number.scaled(by: unitNanoseconds) else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(nanoseconds)
            guard !overflow else { return nil }
            total = sum
        }
        guard total <= UInt64(Int64.max) else { return nil }
        self = .nanoseconds(Int64(total))
    }

    /// A compact form that `init(parsing:)` reads back, e.g. `500ms`, `2s`, `1.5s`, `5m`, `30d`.
    ///
    /// Whole values use the largest unit that divides them exactly; others are written as fractional seconds
    /// (or fractional milliseconds below one second) so nothing is lost to rounding.
    public var humanReadable: String {
        let (seconds, attoseconds) = components
        if seconds < 0 || attoseconds < 0 {
            // Negate component-wise: both parts share the sign, and negating the whole Duration could overflow.
            return "-" + Self.format(
                seconds: seconds.magnitude,
                attoseconds: attoseconds.magnitude
            )
        }
        return Self.format(seconds: seconds.magnitude, attoseconds: attoseconds.magnitude)
    }

    /// Formats a non-negative duration given as whole seconds plus attoseconds (< 10^18).
    private static func format(seconds: UInt64, attoseconds: UInt64) -> String {
        if attoseconds == 0 {
            if seconds == 0 { return "0s" }
            for (unit, size) in [("d", UInt64(86_400)), ("h", 3_600), ("m", 60)] where seconds % size == 0 {
                return "\(seconds / size)\(unit)"
            }
            return "\(seconds)s"
        }
        let attosecondsPerMillisecond: UInt64 = 1_000_000_000_000_000
        if seconds == 0 {
            let wholeMilliseconds = attoseconds / attosecondsPerMillisecond
            let remainder = attoseconds % attosecondsPerMillisecond
            return "\(wholeMilliseconds)" + fractionSuffix(remainder, digits: 15) + "ms"
        }
        return "\(seconds)" + fractionSuffix(attoseconds, digits: 18) + "s"
    }

    /// Renders `value / 10^digits` as ".ddd" with trailing zeros removed, or "" when zero.
    private static func fractionSuffix(_ value: UInt64, digits: Int) -> String {
        guard value != 0 else { return "" }
        var text = String(value)
        text = String(repeating: "0", count: max(0, digits - text.count)) + text
        while text.hasSuffix("0") { text.removeLast() }
        return "." + text
    }
}

/// A comma-separated list of durations such as a retry schedule `0s,1s,2s`.
public struct DurationList: Sendable, Hashable {
    /// The parsed durations, in input order.
    public var values: [Duration]

    /// Wraps already-parsed durations.
    public init(_ values: [Duration]) {
        self.values = values
    }

    /// Parses a comma-separated list; nil if any element is invalid.
    public init?(parsing text: String) {
        guard let values = Self.parse(text) else { return nil }
        self.values = values
    }

    /// Parses `0s,1s,2s` (whitespace around elements allowed) into durations.
    ///
    /// Blank text yields an empty list; an empty element (`1s,,2s`, trailing comma) or any invalid element yields nil.
    public static func parse(_ text: String) -> [Duration]? {
        if text.allSatisfy(\.isWhitespace) { return [] }
        var result: [Duration] = []
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let duration = Duration(parsing: String(element)) else { return nil }
            result.append(duration)
        }
        return result
    }

    /// The list in the same syntax `parse` accepts.
    public var humanReadable: String {
        values.map(\.humanReadable).joined(separator: ",")
    }
}

/// Number-with-unit parsing shared by `Duration(parsing:)` and `ByteCount(parsing:)`.
enum ConfigNumberParsing {
    /// A non-negative decimal literal kept exact (integer digits plus fraction digits) to avoid binary rounding.
    struct ExactDecimal: Sendable {
        /// Digits before the decimal point, as ASCII values.
        var integerDigits: [UInt8]
        /// Digits after the decimal point, as ASCII values.
        var fractionDigits: [UInt8]

        /// Returns `self * multiplier`, truncating below 1, or nil if the result does not fit in UInt64.
        func scaled(by multiplier: UInt64) -> UInt64? {
            var whole: UInt64 = 0
            for digit in integerDigits {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - 48))
                if o1 || o2 { return nil }
                whole = sum
            }
            let (integral, o3) = whole.multipliedReportingOverflow(by: multiplier)
            if o3 { return nil }

            // 19 digits is all a UInt64 numerator holds; later digits are far below the documented truncation.
            var numerator: UInt64 = 0
            var denominator: UInt64 = 1
            for digit in fractionDigits.prefix(19) {
                numerator = numerator * 10 + UInt64(digit - 48)
                denominator *= 10
            }
            // fraction < 1, so (numerator * multiplier) / denominator < multiplier and the division cannot overflow.
            let product = numerator.multipliedFullWidth(by: multiplier)
            let fractional = denominator.dividingFullWidth(product).quotient
            let (total, o4) = integral.addingReportingOverflow(fractional)
            return o4 ? nil : total
        }
    }

    /// Reads an unsigned decimal (`12` or `1.5`, digits required on both sides of the point) starting at `index`.
    ///
    /// Signs, exponents, hex and thousands separators are all rejected, which keeps config values unambiguous.
    static func scanNumber(_ utf8: [UInt8], at index: inout Int) -> ExactDecimal? {
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        var integerDigits: [UInt8] = []
        while index < utf8.count, isDigit(utf8[index]) {
            integerDigits.append(utf8[index])
            index += 1
        }
        guard !integerDigits.isEmpty else { return nil }
        var fractionDigits: [UInt8] = []
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            while index < utf8.count, isDigit(utf8[index]) {
                fractionDigits.append(utf8[index])
                index += 1
            }
            guard !fractionDigits.isEmpty else { return nil }
        }
        return ExactDecimal(integerDigits: integerDigits, fractionDigits: fractionDigits)
    }

    /// Splits `"  1.5 GB "` into an exact decimal and its unit suffix (`"GB"`), or nil if the number is malformed.
    static func splitNumberAndUnit(_ text: String) -> (ExactDecimal, String)? {
        let utf8 = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        var index = 0
        guard let number = scanNumber(utf8, at: &index) else { return nil }
        // Allow "1.5 GB" as well as "1.5GB"; the unit itself is validated by the caller.
        while index < utf8.count, utf8[index] == UInt8(ascii: " ") || utf8[index] == UInt8(ascii: "\t") {
            index += 1
        }
        return (number, String(decoding: utf8[index...], as: UTF8.self))
    }
}
