import Foundation
import Testing

@testable import MediaJobs

/// The duration estimate from a cold start: the tasks that ended so far are the quick ones, and
/// the ones still running say how much longer the rest take.
@Suite struct DurationEstimateTests {
    /// A cohort of `count` tasks arriving evenly over `window` seconds with seeded lognormal
    /// durations, looked at `at` seconds after the first arrival: the durations of those that
    /// ended, and for each one still running how long it has run.
    static func cohort(median: Double, sigma: Double, count: Int, window: Double, at: Double, seed: UInt64) -> (ended: [Double], running: [Double]) {
        let durations = PollPolicyTests.durations(median: median, sigma: sigma, count: count, seed: seed)
        var ended: [Double] = [], running: [Double] = []
        for (index, duration) in durations.enumerated() {
            let arrival = window * Double(index) / Double(count)
            guard arrival < at else { continue }
            if arrival + duration <= at { ended.append(duration) } else { running.append(at - arrival) }
        }
        return (ended, running)
    }

    @Test func runningTasksCorrectTheBiasOfTheQuickOnes() {
        // Median 120 s, arrivals over 120 s, looked at after 150 s: a few quick ones have ended.
        let (ended, running) = Self.cohort(median: 120, sigma: 0.3, count: 200, window: 120, at: 150, seed: 11)
        #expect(!ended.isEmpty && ended.count < DurationEstimate.window, "\(ended.count) ended")
        let prior = Lognormal(median: 30, sigma: 1)
        let endedOnly = DurationEstimate.estimate(ended, prior: prior)
        let withRunning = DurationEstimate.estimate(ended, running: running, prior: prior)
        #expect(endedOnly.median < 100, "the ended ones alone are biased short: \(endedOnly.median)")
        #expect(abs(withRunning.median / 120 - 1) < 0.15, "median \(withRunning.median)")
        // The quick ones alone also look narrower than the durations are (σ 0.3); the running ones
        // widen the spread, and the prior (30 s, σ 1), still weighing, widens it a little more.
        #expect(withRunning.sigma > endedOnly.sigma && withRunning.sigma < 0.5, "σ \(withRunning.sigma) vs \(endedOnly.sigma)")
    }

    @Test func beforeAnythingEndsRunningTasksMoveThePriorLater() {
        // Nothing has ended after 50 s of tasks that take two minutes: a 30 s prior is wrong.
        let (ended, running) = Self.cohort(median: 120, sigma: 0.3, count: 100, window: 120, at: 50, seed: 12)
        #expect(ended.isEmpty)
        let estimate = DurationEstimate.estimate([], running: running, prior: Lognormal(median: 30, sigma: 1))
        #expect(estimate.median > 60, "median \(estimate.median)")
    }

    @Test func runningTasksNeverMoveTheEstimateEarlier() {
        // Tasks that just started say little; they cannot pull the centre below what ended.
        let ended = PollPolicyTests.durations(median: 60, sigma: 0.3, count: 40, seed: 13)
        let prior = Lognormal(median: 60, sigma: 0.7)
        let running = [Double](repeating: 1, count: 500)
        let endedOnly = DurationEstimate.estimate(ended, prior: prior)
        let withRunning = DurationEstimate.estimate(ended, running: running, prior: prior)
        #expect(withRunning.median >= endedOnly.median && withRunning.median < endedOnly.median * 1.05, "\(withRunning.median) vs \(endedOnly.median)")
    }

    @Test func aFullWindowOfObservationsIgnoresRunningTasks() {
        let ended = PollPolicyTests.durations(median: 60, sigma: 0.3, count: DurationEstimate.window, seed: 14)
        let prior = Lognormal(median: 60, sigma: 0.7)
        let running = [Double](repeating: 500, count: 50)
        #expect(DurationEstimate.estimate(ended, running: running, prior: prior) == DurationEstimate.estimate(ended, prior: prior))
    }
}
