import Foundation
import Testing

@testable import MediaJobs

@Suite struct LoginThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A wrong key at `seconds` after the start, through the attempt a sign-in makes.
    func wrongKey(_ throttle: LoginThrottle, _ address: String, at seconds: Double) {
        #expect(throttle.begin(address, now: start.addingTimeInterval(seconds)) == nil, "\(address) may try at \(seconds) s")
        throttle.failed(address, now: start.addingTimeInterval(seconds))
    }

    @Test func wrongKeysBeyondTheFreeOnesMakeTheAddressWaitLongerEachTime() {
        let throttle = LoginThrottle(freeAttempts: 3, firstWait: .seconds(1), maximumWait: .seconds(8))
        for attempt in 0..<2 { wrongKey(throttle, "10.0.0.1", at: Double(attempt)) }
        wrongKey(throttle, "10.0.0.1", at: 2)
        #expect(throttle.begin("10.0.0.1", now: start.addingTimeInterval(2)) == .seconds(1))
        wrongKey(throttle, "10.0.0.1", at: 3)
        #expect(throttle.begin("10.0.0.1", now: start.addingTimeInterval(3.5)) == .milliseconds(1500))
        #expect(throttle.begin("10.0.0.2", now: start.addingTimeInterval(3.5)) == nil, "other addresses are not slowed")
        #expect(throttle.wait(afterFailures: 10) == .seconds(8), "the wait is capped")
        #expect(throttle.begin("10.0.0.1", now: start.addingTimeInterval(5)) == nil)
        throttle.succeeded("10.0.0.1")
        #expect(throttle.begin("10.0.0.1", now: start.addingTimeInterval(5)) == nil, "a right key starts afresh")
    }

    /// Guesses sent together: the check and the reservation are one step, so while one key is being
    /// checked every other attempt from the address is refused, and at most the free tries get through.
    @Test func anAddressHasOneAttemptInFlight() {
        let throttle = LoginThrottle(freeAttempts: 3, firstWait: .seconds(60))
        let now = start
        #expect(throttle.begin("10.0.0.1", now: now) == nil)
        #expect(throttle.begin("10.0.0.1", now: now) == .seconds(1), "a second attempt while the first is checked")
        #expect(throttle.begin("10.0.0.2", now: now) == nil, "another address has its own attempt")
        throttle.abandoned("10.0.0.2")
        throttle.failed("10.0.0.1", now: now)

        var admitted = 1
        for _ in 0..<20 {
            // Twenty attempts at the same instant: each is let in only once the one before was counted.
            let first = throttle.begin("10.0.0.1", now: now)
            let second = throttle.begin("10.0.0.1", now: now)
            #expect(second != nil)
            if first == nil {
                admitted += 1
                throttle.failed("10.0.0.1", now: now)
            }
        }
        #expect(admitted == 3, "only the free tries")
        #expect(throttle.begin("10.0.0.1", now: now) == .seconds(60))

        // An attempt whose form could not be read counts nothing but frees the address.
        #expect(throttle.begin("10.0.0.3", now: now) == nil)
        throttle.abandoned("10.0.0.3")
        #expect(throttle.begin("10.0.0.3", now: now) == nil)
    }

    /// Recording a wrong key sweeps the addresses whose wait is long over, and keeps the table within
    /// its bound when many addresses fail at once.
    @Test func failuresSweepStaleAddresses() {
        let throttle = LoginThrottle(freeAttempts: 1, firstWait: .seconds(8), maximumWait: .seconds(10), maximumRecords: 1_000)
        for index in 0..<200 { wrongKey(throttle, "10.0.\(index / 256).\(index % 256)", at: 0) }
        #expect(throttle.recordCount == 200)
        wrongKey(throttle, "10.1.0.1", at: 15)
        // More than 10 s after the first 200 failed, later wrong keys forget them: only these 101 are left.
        for index in 0..<100 { wrongKey(throttle, "10.2.0.\(index)", at: 20) }
        #expect(throttle.recordCount == 101)
        #expect(throttle.begin("10.1.0.1", now: start.addingTimeInterval(20)) == .seconds(3), "a recent address keeps its wait")

        let bounded = LoginThrottle(freeAttempts: 1, maximumWait: .seconds(300), maximumRecords: 100)
        for index in 0..<1_000 {
            wrongKey(bounded, "10.3.\(index / 256).\(index % 256)", at: Double(index) / 100)
            #expect(bounded.recordCount <= 101)
        }
        #expect(bounded.begin("10.3.3.231", now: start.addingTimeInterval(10)) != nil, "the newest address is kept")
    }
}
