import Foundation

/// When to poll a task whose provider duration follows one distribution: the schedule with the
/// least expected delay between the provider finishing and a poll seeing it, for its number of
/// polls.
///
/// Each poll costs `pollCost` seconds of delay; dynamic programming over a time grid finds, for
/// every moment a poll found the task still running, the next poll time that minimises expected
/// delay plus cost, with every interval between the floor and the ceiling. `pollCost` itself is
/// chosen so the schedule makes no more polls per task than a fixed interval would (the budget),
/// and fewer when the target delay is reached with fewer.
public struct PollPolicy: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Shortest and longest wait between two polls of one task.
        public var floor: Double
        public var ceiling: Double
        /// The fixed interval whose polls per task the schedule must not exceed.
        public var budgetInterval: Double
        /// Below this mean delay, fewer polls are worth more than a shorter delay.
        public var targetDelay: Double
        /// Longest a task is planned for (its deadline); later polls are a ceiling apart.
        public var horizon: Double

        public init(floor: Double = 1, ceiling: Double = 30, budgetInterval: Double = 15, targetDelay: Double = 2, horizon: Double = 1800) {
            self.floor = floor
            self.ceiling = max(ceiling, floor)
            self.budgetInterval = budgetInterval
            self.targetDelay = targetDelay
            self.horizon = horizon
        }
    }

    public let distribution: Lognormal
    public let limits: Limits
    /// Seconds of delay one poll is worth in this schedule.
    public let pollCost: Double
    /// From the start, under `distribution`: polls per task and mean delay (seconds).
    public let expectedPolls: Double
    public let expectedDelay: Double
    /// What a poller at `limits.budgetInterval` would make per task.
    public let budgetPolls: Double

    /// Grid spacing in seconds, and for each grid point the grid point of the next poll.
    private let step: Double
    private let next: [Int32]

    /// The schedule for `distribution` under `limits`.
    public init(distribution: Lognormal, limits: Limits) {
        let grid = Grid(distribution: distribution, limits: limits)
        // Polls fall as the cost of a poll rises: the cheapest cost within the budget first, then,
        // if that already beats the target delay, the dearest cost that still meets it.
        let budget = grid.fixedIntervalPolls(limits.budgetInterval)
        var low = 0.001, high = 1000.0
        var best = grid.solve(pollCost: high)
        for _ in 0..<24 {
            let middle = (low * high).squareRoot()
            let plan = grid.solve(pollCost: middle)
            if plan.polls <= budget {
                high = middle
                best = plan
            } else {
                low = middle
            }
        }
        if best.delay < limits.targetDelay {
            var low = best.pollCost, high = 1000.0
            for _ in 0..<16 {
                let middle = (low * high).squareRoot()
                let plan = grid.solve(pollCost: middle)
                if plan.delay <= limits.targetDelay {
                    low = middle
                    best = plan
                } else {
                    high = middle
                }
            }
        }
        self.distribution = distribution
        self.limits = limits
        self.pollCost = best.pollCost
        self.expectedPolls = best.polls
        self.expectedDelay = best.delay
        self.budgetPolls = budget
        self.step = grid.step
        self.next = best.next
    }

    /// Seconds after the provider accepted the task at which to poll it next, given that a poll
    /// `elapsed` seconds after it found the task still running.
    ///
    /// The plan's wait from the grid point at or before `elapsed` is added to `elapsed` itself,
    /// not snapped to the plan's grid: two tasks a second apart stay a second apart (and jitter
    /// keeps adding up), where absolute plan times would pull tasks submitted together onto the
    /// same instants poll after poll.
    public func nextPoll(after elapsed: Double) -> Double {
        let elapsed = max(elapsed, 0)
        // (The tolerance keeps a time computed as a grid point on that point.)
        let index = Int((elapsed / step + 1e-9).rounded(.down))
        let wait = index < next.count ? Double(Int(next[index]) - index) * step : limits.ceiling
        return elapsed + min(max(wait, limits.floor), limits.ceiling)
    }

    /// The first `count` poll times of a task that keeps running (for logs and tests).
    public func firstPolls(_ count: Int) -> [Double] {
        var times: [Double] = []
        var elapsed = 0.0
        for _ in 0..<count {
            elapsed = nextPoll(after: elapsed)
            times.append(elapsed)
        }
        return times
    }
}

/// The distribution on a time grid, and the dynamic programme over it.
private struct Grid {
    let step: Double
    let limits: PollPolicy.Limits
    let distribution: Lognormal
    /// P(D ≤ t) and E[D; D ≤ t] at each grid point.
    let cdf: [Double]
    let partial: [Double]

    init(distribution: Lognormal, limits: PollPolicy.Limits) {
        let end = min(limits.horizon, distribution.quantile(0.9999) + limits.ceiling)
        // At most ~2,400 points and ~120 choices per point: a schedule costs well under a
        // millisecond, so it is recomputed whenever the distribution moves.
        let step = max(0.25, limits.ceiling / 120, end / 2400)
        let count = max(2, Int((end / step).rounded(.up)) + 1)
        self.step = step
        self.limits = limits
        self.distribution = distribution
        self.cdf = (0..<count).map { distribution.cdf(Double($0) * step) }
        self.partial = (0..<count).map { distribution.partialExpectation(Double($0) * step) }
    }

    struct Plan {
        var pollCost: Double
        var next: [Int32]
        var polls: Double
        var delay: Double
    }

    /// Expected polls per task of a poller at a fixed `interval` (its polls at interval, 2·interval, …).
    func fixedIntervalPolls(_ interval: Double) -> Double {
        var polls = 0.0
        var time = 0.0
        while time < limits.horizon {
            let survival = 1 - distribution.cdf(time)
            if survival < 1e-7 { break }
            polls += survival
            time += interval
        }
        return polls
    }

    func solve(pollCost: Double) -> Plan {
        let count = cdf.count
        let floorSteps = max(1, Int((limits.floor / step).rounded(.up)))
        let ceilingSteps = max(floorSteps, Int((limits.ceiling / step).rounded(.down)))
        var value = [Double](repeating: pollCost, count: count)
        var next = [Int32](repeating: 0, count: count)
        for i in stride(from: count - 1, through: 0, by: -1) {
            let survival = 1 - cdf[i]
            let first = i + floorSteps, last = min(i + ceilingSteps, count - 1)
            guard survival > 1e-12, first <= last else {
                next[i] = Int32(min(i + ceilingSteps, Int(Int32.max)))
                value[i] = pollCost
                continue
            }
            var bestCost = Double.infinity, bestJ = last
            for j in first...last {
                let tj = Double(j) * step
                let delay = tj * (cdf[j] - cdf[i]) - (partial[j] - partial[i])
                let cost = pollCost + (delay + (1 - cdf[j]) * value[j]) / survival
                if cost < bestCost {
                    bestCost = cost
                    bestJ = j
                }
            }
            value[i] = bestCost
            next[i] = Int32(bestJ)
        }
        // Follow the schedule from the start to get its polls and delay.
        var polls = 0.0, delay = 0.0
        var i = 0
        while i < count - 1, 1 - cdf[i] > 1e-9 {
            polls += 1 - cdf[i]
            let j = min(Int(next[i]), count - 1)
            let tj = Double(j) * step
            delay += tj * (cdf[j] - cdf[i]) - (partial[j] - partial[i])
            i = j
        }
        // What is left past the grid is polled at the ceiling: half of it on average.
        let rest = 1 - cdf[count - 1]
        polls += rest * 2
        delay += rest * limits.ceiling / 2
        return Plan(pollCost: pollCost, next: next, polls: polls, delay: delay)
    }
}
