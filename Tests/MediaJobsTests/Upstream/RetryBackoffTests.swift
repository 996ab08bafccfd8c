import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import MediaJobs

@Suite struct RetryBackoffTests {
    @Test func ceilingDoublesFromOneSecondUpToSixty() {
        let backoff = RetryBackoff()
        #expect((1...8).map { backoff.ceiling(attempt: $0) } == [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
    }

    @Test func jitterStaysInTheUpperHalfAndRetryAfterWins() {
        // Seeded: the same draws every run.
        var generator = SplitMix64(seed: 1)
        let backoff = RetryBackoff()
        for attempt in 1...10 {
            let delay = backoff.delay(attempt: attempt, using: &generator)
            let ceiling = backoff.ceiling(attempt: attempt)
            #expect(delay >= ceiling / 2 - .milliseconds(1) && delay <= ceiling)
        }
        #expect(backoff.delay(attempt: 1, retryAfter: .seconds(30), using: &generator) == .seconds(30))
    }
}
