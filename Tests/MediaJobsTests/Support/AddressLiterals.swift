import Testing

@testable import MediaJobs

/// Parses a literal that the test table guarantees is valid.
func address(_ text: String) throws -> IPAddress {
    try #require(IPAddress(parsing: text), "\(text) should parse")
}

/// Parses a CIDR that the test table guarantees is valid.
func cidr(_ text: String) throws -> CIDR {
    try #require(CIDR(parsing: text), "\(text) should parse")
}
