import Testing

@testable import MediaJobs

/// Unit tests for ByteCount.
@Suite("ByteCount")
struct ByteCountTests {
    /// Parses decimal and binary units.
    @Test(
        "parses decimal and binary units",
        arguments: [
            ("512", Int64(512)),
            ("0", 0),
            ("512B", 512),
            ("512 b", 512),
            ("10KB", 10_000),
            ("10kb", 10_000),
            ("10k", 10_000),
            ("1MB", 1_000_000),
            ("50GB", 50_000_000_000),
            ("2TB", 2_000_000_000_000),
            ("1PB", 1_000_000_000_000_000),
            ("1KiB", 1_024),
            ("1kib", 1_024),
            ("4Ki", 4_096),
            ("1MiB", 1_048_576),
            ("1 GiB", 1_073_741_824),
            ("1TiB", 1_099_511_627_776),
            ("1.5GB", 1_500_000_000),
            ("1.5 KiB", 1_536),
            ("0.5MB", 500_000),
            ("1.0001KB", 1_000),  // sub-byte remainder truncates
            (" 20 MB ", 20_000_000),
            ("8191PiB", 8_191 << 50),
        ]
    )
    func parses(text: String, bytes: Int64) {
        #expect(ByteCount(parsing: text)?.bytes == bytes)
    }

    /// Rejects negatives, garbage and overflow.
    @Test(
        "rejects negatives, garbage and overflow",
        arguments: [
            "", " ", "-1", "-1KB", "+1", "KB", "B", "1XB", "1 K B", "1KBB", "1.5", "1.5B", "1.", ".5KB", "1,5KB",
            "0x10", "1e3", "ten", "1 2", "9223372036854775808", "9300PB", "8192PiB", "99999999999999999999KB",
        ]
    )
    func rejects(text: String) {
        #expect(ByteCount(parsing: text) == nil)
    }

    /// Largest value fits.
    @Test("largest value fits")
    func maximum() {
        #expect(ByteCount(parsing: "9223372036854775807")?.bytes == Int64.max)
    }

    /// Description is human readable.
    @Test(
        "description is human readable",
        arguments: [
            (Int64(0), "0 B"),
            (512, "512 B"),
            (999, "999 B"),
            (1_000, "1 KB"),
            (1_500_000_000, "1.5 GB"),
            (10_000, "10 KB"),
            (1_024, "1 KiB"),
            (1_048_576, "1 MiB"),
            (1_536, "1.5 KiB"),
            (1_234_567, "1.23 MB"),
            (50_000_000_000, "50 GB"),
            (-2_000, "-2 KB"),
        ]
    )
    func description(bytes: Int64, expected: String) {
        #expect(ByteCount(bytes: bytes).description == expected)
    }

    /// Ordering and equality.
    @Test("ordering and equality")
    func ordering() throws {
        #expect(ByteCount(bytes: 1) < ByteCount(bytes: 2))
        #expect(ByteCount(parsing: "1KB") == ByteCount(bytes: 1_000))
        let kibibyte = try #require(ByteCount(parsing: "1KiB"))
        let kilobyte = try #require(ByteCount(parsing: "1KB"))
        #expect(kibibyte > kilobyte)
        #expect(Set([ByteCount(bytes: 5), ByteCount(bytes: 5)]).count == 1)
    }
}
