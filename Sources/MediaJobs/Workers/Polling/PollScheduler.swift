import Foundation

/// When to poll a task next, and why: from the learned ``PollPolicy`` of its kind, the
/// provider's progress when it reports one, a floor, a ceiling and a little jitter.
public struct PollScheduler: Sendable {
    public let durations: UpstreamDurations

    public init(durations: UpstreamDurations) {
        self.durations = durations
    }

    /// The next poll, and the reason a debug log gives for it.
    public struct Decision: Sendable {
        public var at: Date
        /// How likely that poll is to find the task finished (0…1); claims take the likeliest first.
        public var priority: Double
        public var reason: Reason
    }

    /// Why a poll is planned when it is; worded only when a debug log asks.
    public enum Reason: Sendable, CustomStringConvertible {
        /// The learned schedule: polled at `elapsed`, next at `at` (seconds after acceptance).
        case schedule(PollPolicy, elapsed: Double, at: Double)
        /// The provider said `progress` percent at `elapsed`: linear progress ends by `finish`.
        case progress(Int, elapsed: Double, finish: Double)

        public var description: String {
            switch self {
            case .schedule(let policy, let elapsed, let at):
                let d = policy.distribution
                return "learned schedule at \(seconds(elapsed)): durations median \(seconds(d.median)) σ \(String(format: "%.2f", d.sigma)), "
                    + "P(done by \(seconds(at))) \(String(format: "%.2f", d.cdf(at))), \(String(format: "%.1f", policy.expectedPolls)) polls/task "
                    + "(fixed \(seconds(policy.limits.budgetInterval)): \(String(format: "%.1f", policy.budgetPolls)))"
            case .progress(let progress, let elapsed, let finish):
                return "progress \(progress)% at \(seconds(elapsed)): finishes by \(seconds(finish))"
            }
        }

        private func seconds(_ value: Double) -> String {
            String(format: "%.1fs", value)
        }
    }

    /// Progress below this says too little to extrapolate from (providers report a few percent
    /// while a task waits in their queue).
    static let minimumProgress = 5

    /// The first poll of a task the provider accepted at `now`.
    public func firstPoll(_ task: MediaTask, acceptedAt now: Date, using generator: inout some RandomNumberGenerator) -> Decision {
        let policy = durations.policy(for: DurationKey(task: task))
        let at = policy.nextPoll(after: 0)
        return Decision(
            at: jittered(now, wait: at, policy: policy, first: true, using: &generator), priority: Self.chance(policy, from: 0, to: at),
            reason: .schedule(policy, elapsed: 0, at: at))
    }

    /// The poll after one at `now` that found the task still running, with `progress` percent
    /// when the provider reported it.
    public func nextPoll(_ task: MediaTask, progress: Int?, now: Date, using generator: inout some RandomNumberGenerator) -> Decision {
        let key = DurationKey(task: task)
        let policy = durations.policy(for: key)
        let accepted = acceptedAt(task)
        let elapsed = max(0, now.timeIntervalSince(accepted))
        durations.noteRunning(key, taskID: task.id, acceptedAt: accepted, now: now)
        if let progress, let finish = progressFinish(task, progress: progress, elapsed: elapsed, policy: policy) {
            let limits = policy.limits
            guard finish - elapsed <= limits.ceiling else {
                // The finish is more than a ceiling away: a wait anywhere in the ceiling's second
                // half, so tasks submitted together (same durations, same progress) do not keep
                // polling together.
                let wait = Double.random(in: max(limits.ceiling / 2, limits.floor)...limits.ceiling, using: &generator)
                return Decision(at: now.addingTimeInterval(wait), priority: 0.1, reason: .progress(progress, elapsed: elapsed, finish: finish))
            }
            let at = max(finish, elapsed + limits.floor)
            return Decision(at: now.addingTimeInterval(at - elapsed), priority: 0.9, reason: .progress(progress, elapsed: elapsed, finish: finish))
        }
        let at = policy.nextPoll(after: elapsed)
        return Decision(
            at: jittered(now, wait: at - elapsed, policy: policy, using: &generator), priority: Self.chance(policy, from: elapsed, to: at),
            reason: .schedule(policy, elapsed: elapsed, at: at))
    }

    /// A new time for the next poll of a task waiting on the schedule of its kind, when that
    /// schedule moved since the poll was planned; nil while the planned poll is one the current
    /// schedule could have chosen (its jitter included), and for a poll the schedule did not plan
    /// (a finish extrapolated from progress, a retry after a failed call).
    ///
    /// Without it a task keeps the poll planned when it was last polled: on a fresh installation
    /// the first poll of every task accepted in the first minute comes from the prior, long
    /// after durations learned since would have it (BENCHMARKS, figure 9).
    public func replan(_ waiting: WaitingPoll, now: Date, using generator: inout some RandomNumberGenerator) -> PollMove? {
        guard waiting.attempts == 0, waiting.progress < Self.minimumProgress, waiting.nextPollAt > now else { return nil }
        let policy = durations.policy(for: waiting.key)
        let last = waiting.lastPollAt ?? waiting.acceptedAt
        let elapsed = max(0, last.timeIntervalSince(waiting.acceptedAt))
        let at = policy.nextPoll(after: elapsed)
        let window = Self.jitterWindow(wait: at - elapsed, policy: policy, first: waiting.lastPollAt == nil)
        let planned = waiting.nextPollAt.timeIntervalSince(last)
        // (Due times are kept to the millisecond.)
        guard planned < window.lowerBound - 0.001 || planned > window.upperBound + 0.001 else { return nil }
        let sinceLast = now.timeIntervalSince(last)
        let earliest = max(window.lowerBound, sinceLast)
        let wait =
            if window.upperBound <= sinceLast { sinceLast }  // The new plan's poll is already due.
            else if earliest < window.upperBound { Double.random(in: earliest...window.upperBound, using: &generator) }
            else { earliest }
        return PollMove(
            taskID: waiting.taskID, leaseEpoch: waiting.leaseEpoch, from: waiting.nextPollAt, to: last.addingTimeInterval(wait),
            priority: Self.chance(policy, from: elapsed, to: at))
    }

    /// Records what a poll at `now` that found the task finished says about the provider's
    /// duration: it ended after the previous poll (or the acceptance) and by this one.
    ///
    /// The interval's middle would be biased: with few polls per task, many tasks are first seen
    /// done by a poll near the typical duration, and the middle of (0, that poll] halves them, which
    /// pulls the estimate and so the next polls earlier, and so on. Instead the duration kept is a
    /// point of the interval drawn as the current estimate spreads its mass there, at a fraction
    /// fixed by the task's id (evenly spread over tasks, the same on every instance): the kept
    /// durations are spread within their intervals as the provider's are, so the median and the
    /// spread learned from them stay unbiased, and a wrong estimate moves them only within the
    /// intervals the polls actually observed.
    public func observeCompletion(_ task: MediaTask, now: Date) {
        let accepted = acceptedAt(task)
        let previous = task.pollCount > 0 ? max(task.updatedAt, accepted) : accepted
        let key = DurationKey(task: task)
        let estimate = durations.policy(for: key).distribution
        let seconds = estimate.quantile(
            Self.unitFraction(task.id), between: previous.timeIntervalSince(accepted), and: now.timeIntervalSince(accepted))
        durations.noteEnded(key, taskID: task.id)
        durations.observe(UpstreamDurationObservation(key: key, seconds: seconds, observedAt: now))
    }

    /// A fraction in [0, 1) fixed by `id` (FNV-1a of its bytes, mixed by SplitMix64's finaliser),
    /// evenly spread over ids.
    static func unitFraction(_ id: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / Double(1 << 53)
    }

    /// The provider failed the task: it says nothing about durations any more.
    public func forget(_ task: MediaTask) {
        durations.noteEnded(DurationKey(task: task), taskID: task.id)
    }

    /// P(the task ends by `to` | it was running at `from`) under the policy's distribution.
    static func chance(_ policy: PollPolicy, from: Double, to: Double) -> Double {
        let d = policy.distribution
        let running = 1 - d.cdf(from)
        guard running > 1e-9 else { return 1 }
        return min(1, max(0, (d.cdf(to) - d.cdf(from)) / running))
    }

    /// When the provider took the task (tasks accepted before this was recorded: their creation).
    private func acceptedAt(_ task: MediaTask) -> Date {
        task.upstreamAcceptedAt ?? task.createdAt
    }

    /// Where linear progress puts the finish, seconds after acceptance; nil when progress is too
    /// low to say, or when the previous poll's progress already promised a finish that has passed
    /// (this provider's progress is not linear for this task: the learned schedule decides).
    private func progressFinish(_ task: MediaTask, progress: Int, elapsed: Double, policy: PollPolicy) -> Double? {
        guard (Self.minimumProgress..<100).contains(progress) else { return nil }
        if task.pollCount > 0, task.progress >= Self.minimumProgress {
            let previousElapsed = task.updatedAt.timeIntervalSince(acceptedAt(task))
            let promised = previousElapsed * 100 / Double(task.progress)
            if promised + policy.limits.floor <= elapsed, task.progress < 89 { return nil }
        }
        // Percentages are whole numbers, rounded down by the providers seen so far: the finish is
        // at most elapsed · 100 / progress.
        return elapsed * 100 / Double(progress)
    }

    /// `now + wait`, moved so tasks submitted together do not poll together: anywhere in
    /// ``jitterWindow(wait:policy:first:)``.
    private func jittered(_ now: Date, wait: Double, policy: PollPolicy, first: Bool = false, using generator: inout some RandomNumberGenerator) -> Date {
        let window = Self.jitterWindow(wait: wait, policy: policy, first: first)
        return now.addingTimeInterval(window.lowerBound < window.upperBound ? Double.random(in: window, using: &generator) : window.lowerBound)
    }

    /// The waits that may stand for a planned `wait`: up to a tenth of it either way (near a
    /// likely finish waits are short, and so is the jitter). A first wait at the ceiling (nothing
    /// expected soon) may be anywhere between half the ceiling and the ceiling, which spreads a
    /// burst of submits over the whole interval at once; later ceiling waits keep that phase,
    /// within a tenth. (Every ceiling wait spread over half of it spread bursts as well, but
    /// shortened the early waits of long tasks by a quarter on average: a poll more per two
    /// minutes of a task's life, polls the fixed-interval budget does not have.) Never outside
    /// the floor and ceiling.
    static func jitterWindow(wait: Double, policy: PollPolicy, first: Bool) -> ClosedRange<Double> {
        // (The plan's grid may put a ceiling wait a step short of it.)
        let atCeiling = wait >= policy.limits.ceiling * 0.95
        let spread = wait * 0.1
        let low = max(atCeiling ? policy.limits.ceiling * (first ? 0.5 : 0.9) : wait - spread, policy.limits.floor)
        let high = min(wait + spread, policy.limits.ceiling)
        if low < high { return low...high }
        let only = min(max(wait, low), high)
        return only...only
    }
}
