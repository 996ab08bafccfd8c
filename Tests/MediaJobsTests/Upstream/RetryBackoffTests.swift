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
        var generator = SystemRandomNumberGenerator()
        let backoff = RetryBackoff()
        for attempt in 1...10 {
            let delay = backoff.delay(attempt: attempt, using: &generator)
            let ceiling = backoff.ceiling(attempt: attempt)
            #expect(delay >= ceiling / 2 - .milliseconds(1) && delay <= ceiling)
        }
        #expect(backoff.delay(attempt: 1, retryAfter: .seconds(30), using: &generator) == .seconds(30))
    }

    @Test func pollDelayGrowsAndIsSpread() {
        var settings = PipelineSettings()
        settings.pollInterval = .seconds(2)
        settings.maxPollInterval = .seconds(30)
        var generator = SystemRandomNumberGenerator()
        let first = (0..<200).map { _ in settings.pollDelay(afterPolls: 0, using: &generator) }
        #expect(first.allSatisfy { $0 >= .milliseconds(1600) && $0 <= .milliseconds(2400) })
        #expect(Set(first).count > 50)
        #expect(settings.pollDelay(afterPolls: 30, using: &generator) <= .seconds(36))
    }
}
