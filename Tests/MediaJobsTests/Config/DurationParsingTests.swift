import Testing

@testable import MediaJobs

/// Unit tests for Duration parsing.
@Suite("Duration parsing")
struct DurationParsingTests {
    /// Accepts units, decimals, compounds and bare seconds.
    @Test(
        "accepts units, decimals, compounds and bare seconds",
        arguments: [
            ("500ms", Duration.milliseconds(500)),
            ("2s", .seconds(2)),
            ("1.5s", .milliseconds(1_500)),
            ("5m", .seconds(300)),
            ("2h", .seconds(7_200)),
            ("30d", .seconds(30 * 86_400)),
            ("0s", .zero),
            ("0", .zero),
            ("45", .seconds(45)),
            ("2.5", .milliseconds(2_500)),
            (" 10s ", .seconds(10)),
            ("10 s", .seconds(10)),
            ("0.5ms", .microseconds(500)),
            ("1.5h", .seconds(5_400)),
            ("1m30s", .seconds(90)),
            ("2m59.56s", .milliseconds(179_560)),
            ("1h0m0s", .seconds(3_600)),
            ("0.000000001s", .nanoseconds(1)),
            ("0.0000000019s", .nanoseconds(1)),  // sub-nanosecond remainder truncates
            ("106751d", .seconds(106_751 * 86_400)),
        ]
    )
    func accepts(text: String, expected: Duration) {
        #expect(Duration(parsing: text) == expected)
    }

    /// Rejects negatives, garbage, unknown units and overflow.
    @Test(
        "rejects negatives, garbage, unknown units and overflow",
        arguments: [
            "", " ", "-1s", "+1s", "s", "ms", "1x", "1S", "1M", "1sec", "1 minute", "1.s", ".5s", "1..5s", "1e3",
            "0x10", "1,5s", "1m30", "1m 30s", "1s-", "NaN", "inf", "106752d", "9999999999999999999s",
            "99999999999999999999999999", "1,000ms",
        ]
    )
    func rejects(text: String) {
        #expect(Duration(parsing: text) == nil)
    }

    /// `humanReadable` picks the largest exact unit.
    @Test(
        "humanReadable picks the largest exact unit",
        arguments: [
            (Duration.milliseconds(500), "500ms"),
            (.seconds(2), "2s"),
            (.milliseconds(1_500), "1.5s"),
            (.seconds(300), "5m"),
            (.seconds(90), "90s"),
            (.seconds(7_200), "2h"),
            (.seconds(30 * 86_400), "30d"),
            (.zero, "0s"),
            (.microseconds(250), "0.25ms"),
            (.nanoseconds(1), "0.000001ms"),
            (.milliseconds(-1_500), "-1.5s"),
            (.seconds(-60), "-1m"),
        ]
    )
    func humanReadable(duration: Duration, expected: String) {
        #expect(duration.humanReadable == expected)
    }

    /// `humanReadable` round-trips.
    @Test("humanReadable round-trips", arguments: [0, 1, 999, 1_000, 1_001, 59_999, 60_000, 3_600_000, 86_400_000, 123_456_789])
    func roundTrip(milliseconds: Int64) {
        let duration = Duration.milliseconds(milliseconds)
        #expect(Duration(parsing: duration.humanReadable) == duration)
    }

    /// Parses lists.
    @Test("parses lists")
    func lists() {
        #expect(DurationList.parse("0s,1s,2s") == [.zero, .seconds(1), .seconds(2)])
        #expect(DurationList.parse(" 500ms , 5m ") == [.milliseconds(500), .seconds(300)])
        #expect(DurationList.parse("10") == [.seconds(10)])
        #expect(DurationList.parse("") == [])
        #expect(DurationList(parsing: "1s,2s")?.values == [.seconds(1), .seconds(2)])
        #expect(DurationList([.seconds(1), .milliseconds(250)]).humanReadable == "1s,250ms")
    }

    /// Rejects malformed lists.
    @Test("rejects malformed lists", arguments: ["1s,,2s", "1s,", ",1s", "1s;2s", "1s,-2s", "1s,x"])
    func badLists(text: String) {
        #expect(DurationList.parse(text) == nil)
        #expect(DurationList(parsing: text) == nil)
    }
}
