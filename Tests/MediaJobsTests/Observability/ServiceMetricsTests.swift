import Testing

@testable import MediaJobs

@Suite struct ServiceMetricsTests {
    /// The cached series must count exactly as the registry's own look-up did: one series per label
    /// set, errors only for calls that did not answer 2xx, durations per operation and kind.
    @Test func providerCallsAreCountedPerLabelSetAndErrorsOnlyWhenNot2xx() {
        let metrics = ServiceMetrics()
        for _ in 0..<3 { metrics.upstreamCall(operation: "poll", kind: .music, status: "2xx", duration: .milliseconds(20)) }
        metrics.upstreamCall(operation: "poll", kind: .music, status: "503", duration: .milliseconds(40))
        metrics.upstreamCall(operation: "poll", kind: .music, status: "503", duration: .milliseconds(40))
        metrics.upstreamCall(operation: "submit", kind: .video, status: "transport", duration: .seconds(1))

        let text = metrics.exposition()
        let calls = "mediajobs_upstream_calls_total", errors = "mediajobs_upstream_errors_total"
        #expect(sample(text, calls, ["operation": "poll", "kind": "music", "status": "2xx"]) == 3)
        #expect(sample(text, calls, ["operation": "poll", "kind": "music", "status": "503"]) == 2)
        #expect(sample(text, calls, ["operation": "submit", "kind": "video", "status": "transport"]) == 1)
        #expect(sample(text, errors, ["operation": "poll", "kind": "music", "status": "2xx"]) == nil)
        #expect(sample(text, errors, ["operation": "poll", "kind": "music", "status": "503"]) == 2)
        #expect(sample(text, errors, ["operation": "submit", "kind": "video", "status": "transport"]) == 1)
        #expect(sample(text, "mediajobs_upstream_call_duration_seconds_count", ["operation": "poll", "kind": "music"]) == 5)
        #expect(sample(text, "mediajobs_upstream_call_duration_seconds_count", ["operation": "submit", "kind": "video"]) == 1)
    }
}
