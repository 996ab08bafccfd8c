import Foundation

/// An IPv4 or IPv6 address, parsed without DNS so SSRF checks can classify literal hosts and resolved addresses.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 address in host byte order (`127.0.0.1` is `0x7F00_0001`).
    case v4(UInt32)
    /// An IPv6 address as its high and low 64 bits in host byte order (`::1` is `high: 0, low: 1`).
    case v6(high: UInt64, low: UInt64)

    /// Parses a literal host: dotted IPv4 plus every legacy `inet_aton` spelling (`2130706433`, `0x7f000001`,
    /// `0177.0.0.1`, `0x7f.1`, `127.1`, `127.0.1`), and IPv6 in any textual form, optionally bracketed and with
    /// a zone id (dropped). Returns nil for anything else, including host names such as `localhost`.
    ///
    /// It is deliberately at least as lenient as the C resolver: a string the resolver would read as an address
    /// must never slip past the classifier as a "host name".
    public init?(parsing host: String) {
        var text = Substring(host)
        if text.hasPrefix("[") || text.hasSuffix("]") {
            guard text.count >= 2, text.hasPrefix("["), text.hasSuffix("]") else { return nil }
            text = text.dropFirst().dropLast()
            guard text.contains(":") else { return nil }
        }
        if text.contains(":") {
            guard let unzoned = Self.droppingZone(text), let (high, low) = Self.parseIPv6(unzoned) else { return nil }
            self = .v6(high: high, low: low)
        } else {
            guard let value = Self.parseInetAton(text) else { return nil }
            self = .v4(value)
        }
    }

    /// Builds an address from 4 (IPv4) or 16 (IPv6) network-order bytes, e.g. from a resolved `sockaddr`.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let value):
            return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The IPv4 address an IPv6 address carries for IPv4 reachability, if any.
    ///
    /// Covers IPv4-mapped `::ffff:0:0/96`, IPv4-translated `::ffff:0:0:0/96`, deprecated IPv4-compatible `::/96`
    /// (except `::` and `::1`), NAT64 `64:ff9b::/96` and 6to4 `2002::/16`: traffic to all of these can end up at
    /// the embedded IPv4 host, so they must be judged by it.
    public var embeddedIPv4: IPAddress? {
        guard case .v6(let high, let low) = self else { return nil }
        let low32 = UInt32(truncatingIfNeeded: low)
        let upperLow = low >> 32
        if high == 0 {
            if upperLow == 0xFFFF || upperLow == 0xFFFF_0000 { return .v4(low32) }
            if upperLow == 0 && low > 1 { return .v4(low32) }
            return nil
        }
        if high == 0x0064_FF9B_0000_0000 && upperLow == 0 { return .v4(low32) }
        if high >> 48 == 0x2002 { return .v4(UInt32(truncatingIfNeeded: high >> 16)) }
        return nil
    }

    /// Dotted-quad for IPv4; RFC 5952 canonical text for IPv6 (`::ffff:a.b.c.d` for IPv4-mapped).
    public var description: String {
        switch self {
        case .v4(let value):
            return Self.dottedQuad(value)
        case .v6(let high, let low):
            if high == 0 && low >> 32 == 0xFFFF {
                return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: low))
            }
            let groups = (0..<8).map { index -> UInt16 in
                let word = index < 4 ? high : low
                return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
            }
            return Self.compressedIPv6(groups)
        }
    }

    // MARK: - Parsing helpers

    /// Removes an IPv6 zone id (`%eth0`, or URL-encoded `%25eth0`); nil if the zone is empty or malformed.
    private static func droppingZone(_ text: Substring) -> Substring? {
        guard let percent = text.firstIndex(of: "%") else { return text }
        let zone = text[text.index(after: percent)...]
        let allowed = zone.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.%".contains($0)) }
        guard !zone.isEmpty, allowed else { return nil }
        return text[..<percent]
    }

    /// Parses the classic BSD `inet_aton` syntax: 1–4 parts, each decimal, octal (`0` prefix) or hex (`0x`),
    /// where the last part fills all remaining low-order bytes.
    ///
    /// Matches glibc exactly except that one trailing dot is tolerated, as WHATWG URL parsers do; glibc sends such
    /// a name to DNS instead, where no public zone answers for an all-numeric TLD.
    static func parseInetAton(_ text: Substring) -> UInt32? {
        var text = text
        if text.hasSuffix(".") { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 4 else { return nil }
        var result: UInt32 = 0
        for (index, part) in parts.enumerated() {
            guard let value = parseInetAtonNumber(part) else { return nil }
            if index < parts.count - 1 {
                guard value <= 0xFF else { return nil }
                result |= value << (24 - 8 * UInt32(index))
            } else {
                let remainingBits = 8 * (4 - index)
                guard remainingBits == 32 || value < (UInt32(1) << remainingBits) else { return nil }
                result |= value
            }
        }
        return result
    }

    /// Parses one `inet_aton` component.
    ///
    /// A bare `0x` is rejected as glibc does: were it read as 0 here, `1.0x` would be judged a literal while the
    /// HTTP client's resolver sends it to DNS (search domains included) and may reach an internal host.
    private static func parseInetAtonNumber(_ part: Substring) -> UInt32? {
        guard !part.isEmpty else { return nil }
        var digits = part
        var radix: UInt32 = 10
        if digits.count >= 2, digits.first == "0", digits.dropFirst().first == "x" || digits.dropFirst().first == "X" {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count >= 2, digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        for character in digits {
            // ASCII only: `hexDigitValue` would also accept fullwidth digits, which the C resolver never does.
            guard character.isASCII, let digit = character.hexDigitValue, UInt32(digit) < radix else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = shifted.addingReportingOverflow(UInt32(digit))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// Parses strict dotted-decimal IPv4 (exactly four parts 0–255, no leading zeros), as `inet_pton` does.
    static func parseDottedQuad(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var result: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0",
                  let value = UInt32(part), value <= 255
            else { return nil }
            result = result << 8 | value
        }
        return result
    }

    /// Parses IPv6 text (no brackets or zone): hex groups, at most one `::`, optional trailing dotted IPv4.
    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        var head = text
        var tail: Substring? = nil
        if let range = text.range(of: "::") {
            head = text[..<range.lowerBound]
            tail = text[range.upperBound...]
        }
        func groups(_ part: Substring, ipv4Allowed: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            var result: [UInt16] = []
            for (index, piece) in pieces.enumerated() {
                if ipv4Allowed && index == pieces.count - 1 && piece.contains(".") {
                    guard let v4 = parseDottedQuad(piece) else { return nil }
                    result.append(UInt16(truncatingIfNeeded: v4 >> 16))
                    result.append(UInt16(truncatingIfNeeded: v4))
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                          let value = UInt16(piece, radix: 16)
                    else { return nil }
                    result.append(value)
                }
            }
            return result
        }

        var all: [UInt16]
        if let tail {
            // A second "::" (or ":::") shows up as an empty piece and is rejected by `groups`.
            guard let front = groups(head, ipv4Allowed: false),
                  let back = groups(tail, ipv4Allowed: true),
                  front.count + back.count <= 7
            else { return nil }
            all = front + [UInt16](repeating: 0, count: 8 - front.count - back.count) + back
        } else {
            guard let only = groups(head, ipv4Allowed: true), only.count == 8 else { return nil }
            all = only
        }
        let high = all[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = all[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    /// Formats an IPv4 value as `a.b.c.d`.
    private static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// RFC 5952: lowercase hex, longest (first on ties) run of two or more zero groups becomes `::`.
    private static func compressedIPv6(_ groups: [UInt16]) -> String {
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < groups.count {
            if groups[index] == 0 {
                let start = index
                while index < groups.count && groups[index] == 0 { index += 1 }
                if index - start > bestLength {
                    bestStart = start
                    bestLength = index - start
                }
            } else {
                index += 1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let front = hex[0..<bestStart].joined(separator: ":")
        let back = hex[(bestStart + bestLength)...].joined(separator: ":")
        return front + "::" + back
    }
}

/// What kind of destination an address is, for SSRF decisions.
public enum AddressClass: String, Sendable, CaseIterable {
    /// Ordinary globally routable unicast.
    case publicUnicast
    /// 127.0.0.0/8, ::1.
    case loopback
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    case privateNetwork
    /// 169.254/16 (including cloud metadata 169.254.169.254), fe80::/10.
    case linkLocal
    /// RFC 6598 shared address space 100.64/10.
    case carrierGradeNAT
    /// IPv6 unique local fc00::/7.
    case uniqueLocal
    /// 0.0.0.0/8, :: — connecting to these reaches the local host on many systems.
    case unspecified
    /// 224/4, ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// Special-purpose or unallocated space (240/4, 192.0.0/24, 198.18/15, IPv6 outside 2000::/3, ...).
    case reserved
    /// Documentation ranges (TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20).
    case documentation
}

extension IPAddress {
    /// The special-purpose range this address falls in (IPv6 forms that embed IPv4 are judged by the IPv4 address).
    public var addressClass: AddressClass {
        switch self {
        case .v4(let value):
            return Self.classify(v4: value)
        case .v6(let high, let low):
            if high == 0 && low == 0 { return .unspecified }
            if high == 0 && low == 1 { return .loopback }
            if let embedded = embeddedIPv4, case .v4(let value) = embedded {
                return Self.classify(v4: value)
            }
            let top16 = high >> 48
            if high >> 16 == 0x0064_FF9B_0001 { return .reserved }  // 64:ff9b:1::/48 local-use NAT64
            if high >> 56 == 0xFF { return .multicast }
            if top16 & 0xFFC0 == 0xFE80 { return .linkLocal }
            if top16 & 0xFFC0 == 0xFEC0 { return .reserved }  // deprecated site-local
            if top16 & 0xFE00 == 0xFC00 { return .uniqueLocal }
            if high >> 32 == 0x2001_0DB8 || high >> 44 == 0x3_FFF0 { return .documentation }  // 2001:db8::/32, 3fff::/20
            if high >> 41 == 0x2001 << 7 { return .reserved }  // 2001::/23 IETF protocol assignments (Teredo, ...)
            if top16 & 0xE000 != 0x2000 { return .reserved }  // only 2000::/3 is allocated global unicast
            return .publicUnicast
        }
    }

    /// True only for ordinary public unicast destinations.
    public var isPubliclyRoutable: Bool {
        addressClass == .publicUnicast
    }

    /// Classifies an IPv4 address (host byte order) against the IANA special-purpose registry.
    private static func classify(v4 value: UInt32) -> AddressClass {
        func inRange(_ network: UInt32, _ prefix: UInt32) -> Bool {
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
            return value & mask == network
        }
        if inRange(0x0000_0000, 8) { return .unspecified }
        if inRange(0x7F00_0000, 8) { return .loopback }
        if inRange(0x0A00_0000, 8) || inRange(0xAC10_0000, 12) || inRange(0xC0A8_0000, 16) { return .privateNetwork }
        if inRange(0xA9FE_0000, 16) { return .linkLocal }
        if inRange(0x6440_0000, 10) { return .carrierGradeNAT }
        if inRange(0xC000_0200, 24) || inRange(0xC633_6400, 24) || inRange(0xCB00_7100, 24) { return .documentation }
        if inRange(0xC000_0000, 24) || inRange(0xC612_0000, 15) { return .reserved }
        if inRange(0xE000_0000, 4) { return .multicast }
        if value == 0xFFFF_FFFF { return .broadcast }
        if inRange(0xF000_0000, 4) { return .reserved }
        return .publicUnicast
    }
}

/// An address block such as `10.0.0.0/8` or `fd00::/8`.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address, with host bits cleared.
    public let network: IPAddress
    /// Number of leading bits that must match (0–32 for IPv4, 0–128 for IPv6).
    public let prefixLength: Int

    /// Creates a block from an address and prefix length; host bits are cleared. Nil if the length is out of range.
    public init?(address: IPAddress, prefixLength: Int) {
        switch address {
        case .v4(let value):
            guard (0...32).contains(prefixLength) else { return nil }
            network = .v4(value & Self.mask32(prefixLength))
        case .v6(let high, let low):
            guard (0...128).contains(prefixLength) else { return nil }
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            network = .v6(high: high & maskHigh, low: low & maskLow)
        }
        self.prefixLength = prefixLength
    }

    /// Parses `a.b.c.d/n`, `v6/n` or a bare address (a /32 or /128).
    ///
    /// IPv4 must be strict dotted-decimal here: with `inet_aton` rules `10/8` would silently mean `0.0.0.10/8`.
    public init?(parsing text: String) {
        let pieces = text.trimmingCharacters(in: .whitespaces)
            .split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let addressText = pieces.first else { return nil }
        let address: IPAddress
        if addressText.contains(":") {
            var bare = addressText
            if bare.hasPrefix("["), bare.hasSuffix("]"), bare.count >= 2 { bare = bare.dropFirst().dropLast() }
            guard let (high, low) = IPAddress.parseIPv6(bare) else { return nil }
            address = .v6(high: high, low: low)
        } else {
            guard let value = IPAddress.parseDottedQuad(addressText) else { return nil }
            address = .v4(value)
        }
        var length = address.isIPv4 ? 32 : 128
        if pieces.count == 2 {
            let lengthText = pieces[1]
            guard (1...3).contains(lengthText.count), lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let parsed = Int(lengthText)
            else { return nil }
            length = parsed
        }
        self.init(address: address, prefixLength: length)
    }

    /// Whether `address` lies in this block; IPv6 forms embedding IPv4 match IPv4 blocks and vice versa.
    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4(let net), .v4(let value)):
            return value & Self.mask32(prefixLength) == net
        case (.v4, .v6):
            guard let embedded = address.embeddedIPv4 else { return false }
            return contains(embedded)
        case (.v6(let netHigh, let netLow), .v6(let high, let low)):
            let (maskHigh, maskLow) = Self.mask128(prefixLength)
            return high & maskHigh == netHigh && low & maskLow == netLow
        case (.v6, .v4(let value)):
            return contains(.v6(high: 0, low: 0xFFFF_0000_0000 | UInt64(value)))
        }
    }

    /// `network/prefixLength` in canonical text.
    public var description: String {
        "\(network)/\(prefixLength)"
    }

    /// IPv4 netmask for a prefix length in 0...32.
    private static func mask32(_ length: Int) -> UInt32 {
        length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length)
    }

    /// IPv6 netmask (high, low) for a prefix length in 0...128.
    private static func mask128(_ length: Int) -> (UInt64, UInt64) {
        func mask64(_ bits: Int) -> UInt64 {
            bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - bits)
        }
        return (mask64(length), mask64(length - 64))
    }
}

/// Decides which destination addresses outbound fetches may connect to.
public struct AddressPolicy: Sendable {
    /// Also permit loopback, RFC 1918, link-local, CGNAT and unique-local destinations (development setups).
    public var allowPrivateNetworks: Bool
    /// Extra blocks that are permitted even though they are not public (e.g. an internal media host).
    public var allowedCIDRs: [CIDR]

    /// Creates a policy; the defaults permit public unicast only.
    public init(allowPrivateNetworks: Bool = false, allowedCIDRs: [CIDR] = []) {
        self.allowPrivateNetworks = allowPrivateNetworks
        self.allowedCIDRs = allowedCIDRs
    }

    /// Whether a connection to `address` is allowed.
    ///
    /// Unspecified, multicast and broadcast are refused unconditionally: no legitimate fetch targets them, and
    /// `0.0.0.0` reaches the local host on Linux, so no allow-list entry may open them up.
    public func permits(_ address: IPAddress) -> Bool {
        let addressClass = address.addressClass
        switch addressClass {
        case .publicUnicast:
            return true
        case .unspecified, .multicast, .broadcast:
            return false
        case .loopback, .privateNetwork, .linkLocal, .carrierGradeNAT, .uniqueLocal:
            if allowPrivateNetworks { return true }
        case .reserved, .documentation:
            break
        }
        return allowedCIDRs.contains { $0.contains(address) }
    }
}
