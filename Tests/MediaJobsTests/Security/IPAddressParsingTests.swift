import Testing

@testable import MediaJobs

/// Unit tests for IPAddress parsing.
@Suite("IPAddress parsing")
struct IPAddressParsingTests {
    /// Every inet_aton spelling of 127.0.0.1 is loopback.
    @Test(
        "every inet_aton spelling of 127.0.0.1 is loopback",
        arguments: [
            "127.0.0.1", "2130706433", "0x7f000001", "0X7F000001", "0x7F.0x0.0x0.0x1", "0177.0.0.1", "0177.0.0.01",
            "017700000001", "00000177.0.0.1", "0x7f.1", "0x7f.0.1", "127.1", "127.0.1", "0177.1", "127.0.0.1.",
            "0x0000007f.1", "127.0x0.0.1",
        ]
    )
    func loopbackSpellings(text: String) throws {
        let parsed = try address(text)
        #expect(parsed == .v4(0x7F00_0001))
        #expect(parsed.addressClass == .loopback)
        #expect(!parsed.isPubliclyRoutable)
    }

    /// IPv4 forms.
    @Test(
        "IPv4 forms",
        arguments: [
            ("1.2.3.4", UInt32(0x0102_0304)),
            ("0", 0),
            ("255.255.255.255", 0xFFFF_FFFF),
            ("4294967295", 0xFFFF_FFFF),
            ("0xffffffff", 0xFFFF_FFFF),
            ("169.254.43518", 0xA9FE_A9FE),
            ("10.1", 0x0A00_0001),
            ("1.2.65535", 0x0102_FFFF),
            ("037777777777", 0xFFFF_FFFF),
        ]
    )
    func ipv4Forms(text: String, value: UInt32) throws {
        #expect(try address(text) == .v4(value))
    }

    /// IPv6 forms.
    @Test(
        "IPv6 forms",
        arguments: [
            ("::1", UInt64(0), UInt64(1)),
            ("[::1]", 0, 1),
            ("::", 0, 0),
            ("0:0:0:0:0:0:0:1", 0, 1),
            ("0000:0000:0000:0000:0000:0000:0000:0001", 0, 1),
            ("::ffff:127.0.0.1", 0, 0xFFFF_7F00_0001),
            ("::FFFF:7f00:1", 0, 0xFFFF_7F00_0001),
            ("0:0:0:0:0:ffff:127.0.0.1", 0, 0xFFFF_7F00_0001),
            ("fe80::1%eth0", 0xFE80_0000_0000_0000, 1),
            ("[fe80::1%25eth0]", 0xFE80_0000_0000_0000, 1),
            ("2001:db8::", 0x2001_0DB8_0000_0000, 0),
            ("2001:DB8:0:0:1::1", 0x2001_0DB8_0000_0000, 0x0001_0000_0000_0001),
            ("1::", 0x0001_0000_0000_0000, 0),
            ("1:2:3:4:5:6:7::", 0x0001_0002_0003_0004, 0x0005_0006_0007_0000),
            ("::2:3:4:5:6:7:8", 0x0000_0002_0003_0004, 0x0005_0006_0007_0008),
            ("1:2:3:4:5:6:1.2.3.4", 0x0001_0002_0003_0004, 0x0005_0006_0102_0304),
            ("64:ff9b::192.0.2.33", 0x0064_FF9B_0000_0000, 0xC000_0221),
        ]
    )
    func ipv6Forms(text: String, high: UInt64, low: UInt64) throws {
        #expect(try address(text) == .v6(high: high, low: low))
    }

    /// Garbage is rejected.
    @Test(
        "garbage is rejected",
        arguments: [
            "", ".", "..", "0x", "0X", "1.0x", "0x.1", "localhost", "example.com", "1.2.3.4.5", "1..2.3", ".1.2.3", "256.0.0.1", "1.256.0.1",
            "1.2.256.1", "1.2.3.256", "1.16777216", "1.2.65536", "4294967296", "0x100000000", "08", "0179.0.0.1",
            "0xg", "1.2.3.-4", "-1", "+1", "1 .2.3.4", " 127.0.0.1", "127.0.0.1 ", "127.0.0.1..", "1e2", "0x7f.0x100.0.1",
            "99999999999999999999", "[127.0.0.1]", "[::1", "::1]", "[]", ":", ":::", "::1::", "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7", "12345::", "g::1", "::ffff:127.0.0.256", "::ffff:127.1", "::ffff:0177.0.0.1",
            "1.2.3.4::", "::1.2.3.4:5", "1:::2", "fe80::1%", "fe80::1%a/b", "127.0.0.1%eth0", ":1::", "1::2:",
            "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
        ]
    )
    func rejectsGarbage(text: String) {
        #expect(IPAddress(parsing: text) == nil)
    }

    /// Canonical text.
    @Test(
        "canonical text",
        arguments: [
            ("0177.1", "127.0.0.1"),
            ("::1", "::1"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("2001:DB8:0:0:0:0:2:1", "2001:db8::2:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("::ffff:7f00:1", "::ffff:127.0.0.1"),
            ("fe80::1%eth0", "fe80::1"),
        ]
    )
    func description(text: String, expected: String) throws {
        #expect(try address(text).description == expected)
    }

    /// Byte conversions round-trip.
    @Test("byte conversions round-trip", arguments: ["10.1.2.3", "2001:db8::42", "::ffff:10.0.0.1"])
    func bytes(text: String) throws {
        let parsed = try address(text)
        #expect(IPAddress(bytes: parsed.bytes) == parsed)
        #expect(parsed.bytes.count == (parsed.isIPv4 ? 4 : 16))
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
    }
}
