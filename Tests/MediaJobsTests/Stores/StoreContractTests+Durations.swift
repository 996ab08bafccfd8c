import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// The provider durations the poll schedule learns from: kept per key, newest last, trimmed to
    /// what is read.
    @Suite struct Durations {
        @Test(arguments: StoreFactory.all)
        func durationsAreKeptPerKeyNewestOnly(_ factory: StoreFactory) async throws {
            let made = try await factory.make()
            let store = try #require(made.tasks as? any UpstreamDurationStore)
            #expect(try await store.recentUpstreamDurations(limit: 10).isEmpty)
            let music = DurationKey("music/suno"), video = DurationKey("video/grok-video-3/8s/720p")
            let observations = (1...7).map { UpstreamDurationObservation(key: music, seconds: Double($0), observedAt: made.now) }
                + [UpstreamDurationObservation(key: video, seconds: 80.5, observedAt: made.now)]
            try await store.recordUpstreamDurations(Array(observations.prefix(4)), keep: 5)
            try await store.recordUpstreamDurations(Array(observations.dropFirst(4)), keep: 5)
            let recent = try await store.recentUpstreamDurations(limit: 10)
            #expect(recent == [music: [3, 4, 5, 6, 7], video: [80.5]], "the oldest beyond 5 per key are dropped")
            #expect(try await store.recentUpstreamDurations(limit: 2) == [music: [6, 7], video: [80.5]])
        }

        /// What one instance learned, another reads (both on the same store).
        @Test(arguments: StoreFactory.all)
        func instancesLearnFromEachOther(_ factory: StoreFactory) async throws {
            let made = try await factory.make()
            let store = try #require(made.tasks as? any UpstreamDurationStore)
            let limits = PipelineSettings().pollLimits
            let first = UpstreamDurations(limits: limits, store: store), second = UpstreamDurations(limits: limits, store: store)
            let key = DurationKey("music/suno")
            for seconds in PollPolicyTests.durations(median: 90, sigma: 0.2, count: 40, seed: 9) {
                first.observe(UpstreamDurationObservation(key: key, seconds: seconds, observedAt: made.now))
            }
            try await first.sync()
            try await second.sync()
            #expect(abs(second.estimate(for: key).median / 90 - 1) < 0.15)
            #expect(second.policy(for: key).distribution == first.policy(for: key).distribution)
        }
    }
}
