import Foundation
import Testing

@testable import MediaJobs

/// The learned schedule on known distributions, evaluated exactly: every duration is a seeded
/// draw and every poll time comes from the policy, so no clock and no luck are involved.
@Suite struct PollPolicyTests {
    /// Seeded lognormal durations (Box–Muller over SplitMix64).
    static func durations(median: Double, sigma: Double, count: Int, seed: UInt64) -> [Double] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator), u2 = Double.random(in: 0..<1, using: &generator)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return median * exp(sigma * z)
        }
    }

    /// Mean delay (first poll at or after the finish, minus the finish) and polls per task of
    /// `polls` over `durations`.
    static func evaluate(_ polls: [Double], _ durations: [Double]) -> (delay: Double, polls: Double) {
        var delay = 0.0, count = 0.0
        for duration in durations {
            let index = polls.firstIndex { $0 >= duration } ?? (polls.count - 1)
            delay += polls[index] - duration
            count += Double(index + 1)
        }
        return (delay / Double(durations.count), count / Double(durations.count))
    }

    static func fixed(_ interval: Double, _ durations: [Double]) -> (delay: Double, polls: Double) {
        evaluate((1...400).map { Double($0) * interval }, durations)
    }

    @Test(arguments: [20.0, 60.0, 180.0])
    func beatsAFixedFifteenSecondPollerWithNoMorePolls(median: Double) {
        let distribution = Lognormal(median: median, sigma: 0.3)
        let policy = PollPolicy(distribution: distribution, limits: .init())
        let drawn = Self.durations(median: median, sigma: 0.3, count: 4000, seed: 7)
        let ours = Self.evaluate(policy.firstPolls(200), drawn)
        let fifteen = Self.fixed(15, drawn)
        #expect(ours.polls <= fifteen.polls * 1.02, "polls \(ours.polls) vs fixed 15 s \(fifteen.polls)")
        #expect(ours.delay < fifteen.delay * 0.65, "delay \(ours.delay) vs fixed 15 s \(fifteen.delay)")
        // What the policy predicts for itself matches the draws.
        #expect(abs(ours.delay - policy.expectedDelay) < 0.6 && abs(ours.polls - policy.expectedPolls) < 0.3)
    }

    @Test func aNarrowDistributionMeetsTheTargetWithFewerPolls() {
        let policy = PollPolicy(distribution: Lognormal(median: 60, sigma: 0.1), limits: .init())
        #expect(policy.expectedDelay <= policy.limits.targetDelay + 0.05)
        #expect(policy.expectedPolls < policy.budgetPolls)
    }

    @Test(arguments: [(1.0, 30.0), (0.05, 0.2), (2.0, 10.0)])
    func everyWaitIsBetweenTheFloorAndTheCeiling(floor: Double, ceiling: Double) {
        for distribution in [Lognormal(median: 30, sigma: 1), Lognormal(median: 3, sigma: 0.3), Lognormal(median: 400, sigma: 0.3)] {
            let policy = PollPolicy(distribution: distribution, limits: .init(floor: floor, ceiling: ceiling))
            let polls = policy.firstPolls(300)
            let waits = zip([0] + polls, polls).map { $1 - $0 }
            #expect(waits.allSatisfy { $0 >= floor - 1e-9 && $0 <= ceiling + 1e-9 }, "\(distribution): \(waits.prefix(20))")
            // From any moment, not just the planned ones.
            for elapsed in stride(from: 0.0, to: 1000, by: 7.3) {
                let wait = policy.nextPoll(after: elapsed) - elapsed
                #expect(wait >= floor - 1e-9 && wait <= ceiling + 1e-9)
            }
        }
    }

    /// Tasks accepted a little apart keep polling a little apart: the plan's waits are added to
    /// each task's own time, so a burst of submits is not pulled onto the same instants.
    @Test func tasksAcceptedApartStayApart() {
        let policy = PollPolicy(distribution: Lognormal(median: 60, sigma: 0.7), limits: .init())
        // 100 tasks, each polled 8 times without jitter, each poll a task's own few milliseconds
        // late (a claim's delay), as polls are.
        let eighth = (0..<100).map { task in
            var elapsed = 0.0
            for _ in 0..<8 { elapsed = policy.nextPoll(after: elapsed + Double(task) * 0.002) }
            return elapsed
        }
        #expect(Set(eighth.map { ($0 * 1000).rounded() }).count == 100, "no two tasks poll at the same instant")
        #expect(eighth.max()! - eighth.min()! >= 99 * 0.002 * 4, "lateness adds up instead of being snapped away")
    }

    @Test func lognormalMatchesItsClosedForms() {
        let d = Lognormal(median: 20, sigma: 0.3)
        #expect(abs(d.cdf(20) - 0.5) < 1e-12)
        #expect(abs(d.quantile(0.9) - 20 * exp(0.3 * 1.2815515655)) < 1e-6)
        #expect(abs(d.cdf(d.quantile(0.123)) - 0.123) < 1e-9)
        // E[D] = exp(mu + sigma^2 / 2): the partial expectation reaches it.
        #expect(abs(d.partialExpectation(1e6) - 20 * exp(0.045)) < 1e-9)
    }
}
