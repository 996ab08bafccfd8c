import Foundation
import Testing

@testable import MediaJobs

@Suite struct LoginThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func wrongKeysBeyondTheFreeOnesMakeTheAddressWaitLongerEachTime() {
        let throttle = LoginThrottle(freeAttempts: 3, firstWait: .seconds(1), maximumWait: .seconds(8))
        for attempt in 0..<2 { throttle.failed("10.0.0.1", now: start.addingTimeInterval(Double(attempt))) }
        #expect(throttle.waitRemaining(for: "10.0.0.1", now: start.addingTimeInterval(1)) == nil, "two wrong keys are free")
        throttle.failed("10.0.0.1", now: start.addingTimeInterval(2))
        #expect(throttle.waitRemaining(for: "10.0.0.1", now: start.addingTimeInterval(2)) == .seconds(1))
        #expect(throttle.waitRemaining(for: "10.0.0.1", now: start.addingTimeInterval(3)) == nil)
        throttle.failed("10.0.0.1", now: start.addingTimeInterval(3))
        #expect(throttle.waitRemaining(for: "10.0.0.1", now: start.addingTimeInterval(3.5)) == .milliseconds(1500))
        #expect(throttle.waitRemaining(for: "10.0.0.2", now: start.addingTimeInterval(3.5)) == nil, "other addresses are not slowed")
        #expect(throttle.wait(afterFailures: 10) == .seconds(8), "the wait is capped")
        throttle.succeeded("10.0.0.1")
        #expect(throttle.waitRemaining(for: "10.0.0.1", now: start.addingTimeInterval(3.5)) == nil, "a right key starts afresh")
    }
}
