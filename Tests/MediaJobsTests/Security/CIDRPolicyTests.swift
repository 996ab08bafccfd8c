import Testing

@testable import MediaJobs

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
