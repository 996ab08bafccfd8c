import Foundation
import Testing

@testable import MediaJobs

@Suite struct PipelineSettingsTests {
    @Test func pollDelayGrowsAndIsSpread() {
        var settings = PipelineSettings()
        settings.pollInterval = .seconds(2)
        settings.maxPollInterval = .seconds(30)
        // Seeded: "spread" is then a fixed count, not a likelihood.
        var generator = SplitMix64(seed: 1)
        let first = (0..<200).map { _ in settings.pollDelay(afterPolls: 0, using: &generator) }
        #expect(first.allSatisfy { $0 >= .milliseconds(1600) && $0 <= .milliseconds(2400) })
        #expect(Set(first).count > 50)
        #expect(settings.pollDelay(afterPolls: 30, using: &generator) <= .seconds(36))
    }
}
