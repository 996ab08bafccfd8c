import Foundation
import Testing

@testable import MediaJobs

/// The scheduler with an injected clock (every call takes `now`) and seeded jitter: it learns a
/// distribution from observations, follows the provider when it slows down, ignores outliers and
/// uses the provider's progress.
@Suite struct PollSchedulerTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func durations(store: (any UpstreamDurationStore)? = nil) -> UpstreamDurations {
        UpstreamDurations(limits: PipelineSettings().pollLimits, store: store)
    }

    func music(acceptedAt: Date) -> MediaTask {
        var task = MediaTask(request: .music(MusicRequest(prompt: "rain")), createdAt: acceptedAt, deadline: .seconds(1800))
        task.status = .processing
        task.upstreamAcceptedAt = acceptedAt
        task.updatedAt = acceptedAt
        return task
    }

    func observe(_ book: UpstreamDurations, _ seconds: [Double], key: DurationKey = DurationKey("music/suno")) {
        for value in seconds { book.observe(UpstreamDurationObservation(key: key, seconds: value, observedAt: start)) }
    }

    @Test func convergesOnAKnownDistribution() async throws {
        let book = durations()
        let key = DurationKey("music/suno")
        #expect(book.estimate(for: key) == DurationEstimate.prior(for: key), "nothing known: the prior")
        observe(book, PollPolicyTests.durations(median: 60, sigma: 0.3, count: 100, seed: 3))
        try await book.sync()
        let estimate = book.estimate(for: key)
        #expect(abs(estimate.median / 60 - 1) < 0.08, "median \(estimate.median)")
        #expect(abs(estimate.sigma - 0.3) < 0.06, "sigma \(estimate.sigma)")
        let policy = book.policy(for: key)
        #expect(policy.distribution == estimate)
        #expect(policy.firstPolls(1)[0] >= 30, "nothing is polled long before tasks of this kind finish")
    }

    @Test func followsTheProviderWhenItSlowsDown() async throws {
        let book = durations()
        let key = DurationKey("music/suno")
        observe(book, PollPolicyTests.durations(median: 20, sigma: 0.2, count: 100, seed: 4))
        try await book.sync()
        let before = book.policy(for: key).firstPolls(1)[0]
        // Three times slower: 60 of the newest 100 observations are the slow ones.
        observe(book, PollPolicyTests.durations(median: 60, sigma: 0.2, count: 60, seed: 5))
        try await book.sync()
        let estimate = book.estimate(for: key)
        #expect(estimate.median > 45, "median \(estimate.median)")
        #expect(book.policy(for: key).firstPolls(1)[0] > before)
    }

    @Test func outliersMoveNeitherCentreNorSpread() async throws {
        let book = durations()
        observe(book, PollPolicyTests.durations(median: 30, sigma: 0.2, count: 95, seed: 6) + [0.01, 0.02, 3000, 4000, 5000])
        try await book.sync()
        let estimate = book.estimate(for: DurationKey("music/suno"))
        #expect(abs(estimate.median / 30 - 1) < 0.1 && estimate.sigma < 0.35, "\(estimate)")
    }

    @Test func keysAreLearnedApart() async throws {
        let book = durations()
        let short = VideoRequest(prompt: "a", seconds: 4), long = VideoRequest(prompt: "b", seconds: 12)
        let shortKey = DurationKey(task: MediaTask(request: .video(short), createdAt: start, deadline: .seconds(60)))
        let longKey = DurationKey(task: MediaTask(request: .video(long), createdAt: start, deadline: .seconds(60)))
        #expect(shortKey != longKey, "a video's length is part of its key")
        observe(book, [20, 21, 22, 20, 21, 22, 20, 21], key: shortKey)
        observe(book, [90, 95, 100, 90, 95, 100, 90, 95], key: longKey)
        try await book.sync()
        #expect(book.estimate(for: shortKey).median < 30 && book.estimate(for: longKey).median > 60)
    }

    @Test func aCompletionIsKeptWithinTheIntervalItWasSeenIn() async throws {
        let book = durations()
        let scheduler = PollScheduler(durations: book)
        var task = music(acceptedAt: start)
        task.pollCount = 3
        task.updatedAt = start.addingTimeInterval(50)  // the previous poll
        scheduler.observeCompletion(task, now: start.addingTimeInterval(54))
        let kept = book.state(\.unsaved).map(\.seconds)
        #expect(kept.count == 1 && kept[0] > 50 && kept[0] <= 54, "\(kept)")
    }

    /// Tasks first seen done by a poll 20 s after acceptance ended somewhere in (0, 20 s]: what is
    /// kept is spread there as the estimate spreads its mass (ids decide where each one falls),
    /// not 10 s for each, which would halve them and pull the next schedule earlier.
    @Test func tasksSeenDoneAtTheirFirstPollAreNotHalved() {
        let estimate = Lognormal(median: 20, sigma: 0.3)
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil, prior: { _ in estimate })
        let scheduler = PollScheduler(durations: book)
        for index in 0..<400 {
            var task = music(acceptedAt: start)
            task.id = "task-\(index)"
            scheduler.observeCompletion(task, now: start.addingTimeInterval(20))
        }
        let kept = book.state(\.unsaved).map(\.seconds)
        #expect(kept.allSatisfy { $0 > 0 && $0 <= 20 })
        // Half of the estimate's mass below 20 s lies below its quantile 0.25.
        let median = DurationEstimate.median(kept)
        #expect(abs(median - estimate.quantile(0.25)) < 0.5, "median \(median) vs \(estimate.quantile(0.25))")
        #expect(Set(kept).count > 390, "spread, not one value")
    }

    /// From a cold start, polls that find tasks still running move the schedule later; a task
    /// that ended or failed, or was not seen for long, no longer counts.
    @Test func tasksSeenRunningMoveAColdScheduleLater() async throws {
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil, prior: { _ in Lognormal(median: 30, sigma: 1) })
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 5)
        let key = DurationKey("music/suno")
        let now = start.addingTimeInterval(100)
        let tasks = (0..<50).map { music(acceptedAt: start.addingTimeInterval(Double($0) * 2)) }
        #expect(DurationKey(task: tasks[0]) == key)
        for task in tasks { _ = scheduler.nextPoll(task, progress: nil, now: now, using: &generator) }
        book.rebuildChangedPolicies(now: now)
        #expect(book.policy(for: key).distribution.median > 60, "50 tasks up to 100 s old, none ended: not a 30 s provider")
        scheduler.observeCompletion(tasks[0], now: now)
        scheduler.forget(tasks[1])
        #expect(book.state { $0.entries[key]?.running.count } == 48)
        // Not seen again for over two ceilings: ended some other way.
        book.rebuildChangedPolicies(now: now.addingTimeInterval(2 * 30 + 61))
        #expect(book.state { $0.entries[key]?.running.count } == 0)
    }

    @Test func progressPutsTheNextPollAtTheFinish() {
        let scheduler = PollScheduler(durations: durations())
        var generator = SplitMix64(seed: 1)
        var task = music(acceptedAt: start)
        // 75 % after 90 s: linear progress finishes by 120 s.
        task.pollCount = 3
        task.progress = 50
        task.updatedAt = start.addingTimeInterval(60)
        let next = scheduler.nextPoll(task, progress: 75, now: start.addingTimeInterval(90), using: &generator)
        #expect(abs(next.at.timeIntervalSince(start) - 120) < 1e-6, "\(next.reason)")
        #expect(next.priority == 0.9, "a poll at the promised finish is likely to find it done")
        // 25 % after 30 s: the finish (120 s) is past the ceiling (30 s); a wait in its second
        // half, different for tasks that said the same.
        task.pollCount = 1
        task.progress = 0
        task.updatedAt = start
        let early = (0..<50).map { _ in scheduler.nextPoll(task, progress: 25, now: start.addingTimeInterval(30), using: &generator) }
        let waits = early.map { $0.at.timeIntervalSince(start) - 30 }
        #expect(waits.allSatisfy { $0 >= 15 && $0 <= 30 }, "\(waits)")
        #expect(Set(waits).count > 40)
        #expect(early.allSatisfy { $0.priority == 0.1 })
    }

    @Test func progressThatBrokeItsPromiseIsNotTrustedAgain() {
        let scheduler = PollScheduler(durations: durations())
        var generator = SplitMix64(seed: 2)
        var task = music(acceptedAt: start)
        // At 100 s the provider said 80 % (done by 125 s); at 140 s it is still running.
        task.pollCount = 4
        task.progress = 80
        task.updatedAt = start.addingTimeInterval(100)
        let next = scheduler.nextPoll(task, progress: 85, now: start.addingTimeInterval(140), using: &generator)
        guard case .schedule = next.reason else {
            Issue.record("expected the learned schedule, got \(next.reason)")
            return
        }
    }

    /// A first wait at the ceiling (nothing expected soon) spreads over half the ceiling, so a
    /// burst of submits does not come back as a burst of polls; later ceiling waits keep their
    /// phase and lose at most a tenth (each lost second is a poll a fixed-interval poller saves).
    @Test func aFirstWaitAtTheCeilingSpreadsOverHalfOfItAndLaterOnesKeepTheirPhase() {
        let book = UpstreamDurations(limits: PollPolicy.Limits(floor: 1, ceiling: 10), store: nil, prior: { _ in Lognormal(median: 300, sigma: 0.3) })
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 4)
        var task = music(acceptedAt: start)
        #expect(book.policy(for: DurationKey(task: task)).nextPoll(after: 0) >= 9.5, "the plan waits the ceiling (to its grid)")
        let firsts = (0..<200).map { _ in scheduler.firstPoll(task, acceptedAt: start, using: &generator).at.timeIntervalSince(start) }
        #expect(firsts.allSatisfy { $0 >= 5 && $0 <= 10 })
        #expect(firsts.min()! < 5.5 && firsts.max()! > 9.5)
        task.pollCount = 1
        let polledAt = start.addingTimeInterval(40)
        task.updatedAt = polledAt
        let waits = (0..<200).map { _ in
            scheduler.nextPoll(task, progress: nil, now: polledAt, using: &generator).at.timeIntervalSince(polledAt)
        }
        #expect(waits.allSatisfy { $0 >= 9 && $0 <= 10 }, "\(waits.min()!)...\(waits.max()!)")
    }

    @Test func jitterSpreadsTasksSubmittedTogether() {
        // A prior whose first poll comes well before the ceiling (waits at the ceiling spread wider).
        let scheduler = PollScheduler(
            durations: UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil, prior: { _ in Lognormal(median: 30, sigma: 1) }))
        var generator = SplitMix64(seed: 3)
        let task = music(acceptedAt: start)
        let firsts = (0..<50).map { _ in scheduler.firstPoll(task, acceptedAt: start, using: &generator).at.timeIntervalSince(start) }
        #expect(Set(firsts).count > 40)
        let planned = scheduler.durations.policy(for: DurationKey(task: task)).nextPoll(after: 0)
        #expect(firsts.allSatisfy { abs($0 - planned) <= planned * 0.1 + 1e-9 })
        // The first poll's chance is the distribution's mass before it.
        let first = scheduler.firstPoll(task, acceptedAt: start, using: &generator)
        let policy = scheduler.durations.policy(for: DurationKey(task: task))
        #expect(abs(first.priority - policy.distribution.cdf(planned)) < 1e-9)
    }
}

extension UpstreamDurations {
    /// A look at the state, for tests.
    func state<Value>(_ read: (State) -> Value) -> Value {
        stateForTests(read)
    }
}
