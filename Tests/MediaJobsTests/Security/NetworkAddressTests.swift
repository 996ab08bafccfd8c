import Testing

@testable import MediaJobs

/// Parses a literal that the test table guarantees is valid.
private func address(_ text: String) throws -> IPAddress {
    try #require(IPAddress(parsing: text), "\(text) should parse")
}

/// Parses a CIDR that the test table guarantees is valid.
private func cidr(_ text: String) throws -> CIDR {
    try #require(CIDR(parsing: text), "\(text) should parse")
}

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

/// Unit tests for Address classification.
@Suite("Address classification")
struct AddressClassTests {
    /// Special-purpose ranges.
    @Test(
        "special-purpose ranges",
        arguments: [
            // IPv4
            ("8.8.8.8", AddressClass.publicUnicast),
            ("1.1.1.1", .publicUnicast),
            ("93.184.216.34", .publicUnicast),
            ("127.0.0.1", .loopback),
            ("127.255.255.254", .loopback),
            ("10.0.0.1", .privateNetwork),
            ("10.255.255.255", .privateNetwork),
            ("172.16.0.1", .privateNetwork),
            ("172.31.255.255", .privateNetwork),
            ("172.15.255.255", .publicUnicast),
            ("172.32.0.0", .publicUnicast),
            ("192.168.1.1", .privateNetwork),
            ("192.169.0.0", .publicUnicast),
            ("169.254.169.254", .linkLocal),
            ("169.254.0.1", .linkLocal),
            ("100.64.0.1", .carrierGradeNAT),
            ("100.127.255.255", .carrierGradeNAT),
            ("100.128.0.0", .publicUnicast),
            ("100.63.255.255", .publicUnicast),
            ("0.0.0.0", .unspecified),
            ("0.1.2.3", .unspecified),
            ("0", .unspecified),
            ("224.0.0.1", .multicast),
            ("239.255.255.255", .multicast),
            ("255.255.255.255", .broadcast),
            ("240.0.0.1", .reserved),
            ("255.255.255.254", .reserved),
            ("192.0.0.8", .reserved),
            ("198.18.0.1", .reserved),
            ("198.19.255.255", .reserved),
            ("198.20.0.0", .publicUnicast),
            ("192.0.2.1", .documentation),
            ("198.51.100.7", .documentation),
            ("203.0.113.255", .documentation),
            // IPv6
            ("2606:4700:4700::1111", .publicUnicast),
            ("2a00:1450:4001::200e", .publicUnicast),
            ("::1", .loopback),
            ("::", .unspecified),
            ("fe80::1", .linkLocal),
            ("febf:ffff::1", .linkLocal),
            ("fc00::1", .uniqueLocal),
            ("fd12:3456::1", .uniqueLocal),
            ("ff02::1", .multicast),
            ("ff05::2", .multicast),
            ("2001:db8::1", .documentation),
            ("3fff::1", .documentation),
            ("2001::1", .reserved),  // Teredo
            ("100::1", .reserved),
            ("fec0::1", .reserved),
            ("4000::1", .reserved),
            // IPv4 embedded in IPv6
            ("::ffff:127.0.0.1", .loopback),
            ("::ffff:10.0.0.1", .privateNetwork),
            ("::ffff:169.254.169.254", .linkLocal),
            ("::ffff:8.8.8.8", .publicUnicast),
            ("::ffff:0.0.0.0", .unspecified),
            ("::ffff:0:10.0.0.1", .privateNetwork),
            ("::127.0.0.1", .loopback),
            ("::10.0.0.1", .privateNetwork),
            ("64:ff9b::127.0.0.1", .loopback),
            ("64:ff9b::a9fe:a9fe", .linkLocal),
            ("64:ff9b::8.8.8.8", .publicUnicast),
            ("64:ff9b:1::1", .reserved),
            ("2002:7f00:1::", .loopback),
            ("2002:c0a8:101::1", .privateNetwork),
            ("2002:808:808::1", .publicUnicast),
        ]
    )
    func classify(text: String, expected: AddressClass) throws {
        let parsed = try address(text)
        #expect(parsed.addressClass == expected)
        #expect(parsed.isPubliclyRoutable == (expected == .publicUnicast))
    }

    /// Embedded IPv4.
    @Test("embedded IPv4")
    func embedded() throws {
        #expect(try address("::ffff:10.0.0.1").embeddedIPv4 == .v4(0x0A00_0001))
        #expect(try address("64:ff9b::1.2.3.4").embeddedIPv4 == .v4(0x0102_0304))
        #expect(try address("2001:db8::1").embeddedIPv4 == nil)
        #expect(try address("::1").embeddedIPv4 == nil)
        #expect(try address("10.0.0.1").embeddedIPv4 == nil)
    }
}

/// Unit tests for CIDR and AddressPolicy.
@Suite("CIDR and AddressPolicy")
struct CIDRPolicyTests {
    /// Membership.
    @Test(
        "membership",
        arguments: [
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.0.0.0", false),
            ("10.0.0.0/8", "::ffff:10.9.9.9", true),
            ("172.16.0.0/12", "172.31.0.1", true),
            ("172.16.0.0/12", "172.32.0.1", false),
            ("192.168.1.77/24", "192.168.1.1", true),  // host bits are masked off
            ("192.168.1.5", "192.168.1.5", true),
            ("192.168.1.5", "192.168.1.6", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fc00::1", false),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("2001:db8::1/128", "2001:db8::1", true),
            ("2001:db8::1", "2001:db8::2", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "10.0.0.1", true),
            ("2001:db8:0:0:8000::/65", "2001:db8::8000:0:0:1", true),
            ("2001:db8:0:0:8000::/65", "2001:db8::7fff:0:0:1", false),
            ("::ffff:10.0.0.0/104", "10.20.30.40", true),
            ("[fd00::]/8", "fd00::1", true),
        ]
    )
    func contains(block: String, candidate: String, expected: Bool) throws {
        let network = try cidr(block)
        let parsed = try address(candidate)
        #expect(network.contains(parsed) == expected)
    }

    /// Rejects malformed CIDRs.
    @Test(
        "rejects malformed CIDRs",
        arguments: [
            "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10/8", "10.0/16",
            "0x0a.0.0.0/8", "010.0.0.0/8", "fd00::/129", "fd00::/1000", "fd00::/ 8", "example.com/24", "10.0.0.0/a",
        ]
    )
    func rejectsCIDR(text: String) {
        #expect(CIDR(parsing: text) == nil)
    }

    /// CIDR description and normalisation.
    @Test("CIDR description and normalisation")
    func cidrDescription() throws {
        #expect(try cidr("192.168.1.77/24").description == "192.168.1.0/24")
        #expect(try cidr("fd12:3456::1/16").description == "fd12::/16")
        #expect(try cidr("10.0.0.1").prefixLength == 32)
        #expect(try cidr("::1").prefixLength == 128)
    }

    /// Default policy only permits public unicast.
    @Test(
        "default policy only permits public unicast",
        arguments: [
            ("8.8.8.8", true), ("2606:4700:4700::1111", true), ("127.0.0.1", false), ("0x7f.1", false),
            ("10.0.0.1", false), ("169.254.169.254", false), ("100.64.0.1", false), ("fd00::1", false),
            ("fe80::1", false), ("::ffff:10.0.0.1", false), ("0.0.0.0", false), ("::", false), ("224.0.0.1", false),
            ("255.255.255.255", false), ("240.0.0.1", false), ("192.0.2.1", false), ("2001:db8::1", false),
        ]
    )
    func defaultPolicy(text: String, permitted: Bool) throws {
        let parsed = try address(text)
        #expect(AddressPolicy().permits(parsed) == permitted)
    }

    /// `allowPrivateNetworks` opens private ranges but never unspecified, multicast or broadcast.
    @Test(
        "allowPrivateNetworks opens private ranges but never unspecified, multicast or broadcast",
        arguments: [
            ("127.0.0.1", true), ("::1", true), ("10.0.0.1", true), ("192.168.0.10", true), ("169.254.169.254", true),
            ("100.64.0.1", true), ("fd00::1", true), ("fe80::1", true), ("::ffff:192.168.0.1", true), ("8.8.8.8", true),
            ("0.0.0.0", false), ("::", false), ("224.0.0.1", false), ("ff02::1", false), ("255.255.255.255", false),
            ("240.0.0.1", false), ("198.18.0.1", false), ("203.0.113.1", false),
        ]
    )
    func privatePolicy(text: String, permitted: Bool) throws {
        let parsed = try address(text)
        #expect(AddressPolicy(allowPrivateNetworks: true).permits(parsed) == permitted)
    }

    /// Allowed CIDRs open specific blocks only.
    @Test("allowed CIDRs open specific blocks only")
    func cidrPolicy() throws {
        let wide = AddressPolicy(allowedCIDRs: [try cidr("10.1.0.0/16"), try cidr("fd00:1::/32"), try cidr("0.0.0.0/0")])
        let narrow = AddressPolicy(allowedCIDRs: [try cidr("10.1.0.0/16")])
        let expectations: [(AddressPolicy, String, Bool)] = [
            (wide, "10.1.2.3", true),
            (wide, "::ffff:10.1.2.3", true),
            (wide, "fd00:1::5", true),
            (wide, "fd00:2::5", false),
            (wide, "198.18.0.1", true),  // reserved, but inside 0.0.0.0/0
            // Never allowed, even inside an allowed block.
            (wide, "0.0.0.0", false),
            (wide, "224.0.0.1", false),
            (wide, "255.255.255.255", false),
            (narrow, "10.1.255.255", true),
            (narrow, "10.2.0.1", false),
            (narrow, "127.0.0.1", false),
            (narrow, "1.1.1.1", true),
        ]
        for (policy, text, permitted) in expectations {
            let parsed = try address(text)
            #expect(policy.permits(parsed) == permitted, "\(text)")
        }
    }
}
