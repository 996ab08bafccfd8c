import Testing

@testable import MediaJobs

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
