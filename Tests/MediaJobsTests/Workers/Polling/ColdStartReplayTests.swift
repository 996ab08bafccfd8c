import Foundation
import Testing

@testable import MediaJobs

/// Figure 9 of BENCHMARKS (part A, without progress) in virtual time: tasks arrive at a steady
/// rate on a service that has learned nothing, each with a seeded lognormal duration; every poll
/// the scheduler plans is replayed at its instant, and every 5 s the durations are shared and the
/// waiting polls re-planned as the service's sync does. No clock and no luck: the same draws give
/// the same figures.
@Suite struct ColdStartReplayTests {
    struct Figures: CustomStringConvertible {
        var delay: Double
        var polls: Double
        /// The second half of the tasks (after the first half taught the schedule).
        var lateDelay: Double
        var latePolls: Double
        /// A poller at 15 s over the same durations.
        var fixedDelay: Double
        var fixedPolls: Double
        var lateFixedPolls: Double

        var description: String {
            String(
                format: "delay %.2f s, polls %.2f (second half %.2f s, %.2f) vs fixed 15 s %.2f s, %.2f (second half %.2f)",
                delay, polls, lateDelay, latePolls, fixedDelay, fixedPolls, lateFixedPolls)
        }
    }

    /// `count` tasks arriving evenly over `window` seconds, durations lognormal around `median`.
    static func replay(median: Double, sigma: Double = 0.3, count: Int, window: Double = 120, seed: UInt64 = 9, replanning: Bool = true) -> Figures {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil)
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: seed)
        let durations = PollPolicyTests.durations(median: median, sigma: sigma, count: count, seed: seed)
        let arrivals = (0..<count).map { Double($0) * window / Double(count) }
        var tasks: [MediaTask] = arrivals.indices.map { index in
            var task = MediaTask(
                request: .music(MusicRequest(prompt: "rain")), createdAt: start.addingTimeInterval(arrivals[index]), deadline: .seconds(1800))
            task.id = "task-\(seed)-\(index)"
            task.status = .processing
            task.upstreamAcceptedAt = task.createdAt
            task.updatedAt = task.createdAt
            return task
        }
        var nextPoll = [Double](repeating: .infinity, count: count)
        var polls = [Int](repeating: 0, count: count)
        var delays = [Double](repeating: .nan, count: count)
        var nextArrival = 0, nextSync = 5.0
        while true {
            let due = nextPoll.indices.min { nextPoll[$0] < nextPoll[$1] }
            let pollAt = due.map { nextPoll[$0] } ?? .infinity
            let arrivalAt = nextArrival < count ? arrivals[nextArrival] : .infinity
            if pollAt == .infinity, arrivalAt == .infinity { break }
            let now = min(pollAt, arrivalAt, nextSync)
            let date = start.addingTimeInterval(now)
            if now == nextSync {
                let moved = Set(book.rebuildChangedPolicies(now: date))
                nextSync += 5
                for index in nextPoll.indices where replanning && nextPoll[index].isFinite && moved.contains(DurationKey(task: tasks[index])) {
                    let task = tasks[index]
                    let waiting = WaitingPoll(
                        taskID: task.id, key: DurationKey(task: task), acceptedAt: task.createdAt, lastPollAt: task.pollCount > 0 ? task.updatedAt : nil,
                        progress: 0, attempts: 0, nextPollAt: start.addingTimeInterval(nextPoll[index]), leaseEpoch: 0)
                    if let move = scheduler.replan(waiting, now: date, using: &generator) { nextPoll[index] = move.to.timeIntervalSince(start) }
                }
            } else if now == arrivalAt {
                let index = nextArrival
                nextArrival += 1
                nextPoll[index] = scheduler.firstPoll(tasks[index], acceptedAt: date, using: &generator).at.timeIntervalSince(start)
            } else if let index = due {
                polls[index] += 1
                let done = arrivals[index] + durations[index]
                if now >= done {
                    delays[index] = now - done
                    scheduler.observeCompletion(tasks[index], now: date)
                    nextPoll[index] = .infinity
                } else {
                    nextPoll[index] = scheduler.nextPoll(tasks[index], progress: nil, now: date, using: &generator).at.timeIntervalSince(start)
                    tasks[index].pollCount += 1
                    tasks[index].updatedAt = date
                }
            }
        }
        func mean(_ values: some Collection<Double>) -> Double { values.reduce(0, +) / Double(values.count) }
        let late = (count / 2)..<count
        let fixed = PollPolicyTests.fixed(15, durations)
        return Figures(
            delay: mean(delays), polls: mean(polls.map(Double.init)),
            lateDelay: mean(late.map { delays[$0] }), latePolls: mean(late.map { Double(polls[$0]) }),
            fixedDelay: fixed.delay, fixedPolls: fixed.polls, lateFixedPolls: PollPolicyTests.fixed(15, Array(durations[late])).polls)
    }

    /// Tasks of about 20 s: once the first half has taught the schedule, the target is met: a mean
    /// delay under 4 s with no more polls than a fixed 15 s poller (the least delay reachable
    /// for that budget with the distribution known in advance is 3.3 s).
    @Test func aColdStartLearnsShortDurations() {
        let figures = Self.replay(median: 20, count: 300)
        #expect(figures.lateDelay <= 4 && figures.latePolls <= figures.lateFixedPolls, "\(figures)")
        #expect(figures.polls <= figures.fixedPolls && figures.delay < figures.fixedDelay * 0.7, "\(figures)")
    }

    /// The polls planned from the prior before anything was learned move when the schedule does:
    /// over the whole run, cold start included, the delay falls with no more polls.
    @Test(arguments: [9, 21] as [UInt64])
    func replanningShortensTheColdStart(seed: UInt64) {
        let replanned = Self.replay(median: 20, count: 300, seed: seed)
        let kept = Self.replay(median: 20, count: 300, seed: seed, replanning: false)
        print("seed \(seed): re-planned \(replanned); kept \(kept)")
        #expect(replanned.delay < kept.delay - 0.2 && replanned.polls <= kept.polls, "re-planned \(replanned); kept \(kept)")
    }
}
