import Foundation
import Testing

@testable import MediaJobs

/// Re-planning waiting polls when the schedule of their kind moves: the decision per task with an
/// injected clock and seeded jitter, and the pass over a real store.
@Suite struct PollReplannerTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let key = DurationKey("music/suno")

    func music(acceptedAt: Date) -> MediaTask {
        PollSchedulerTests().music(acceptedAt: acceptedAt)
    }

    func waiting(_ task: MediaTask, due: Date, lastPollAt: Date? = nil, progress: Int = 0, attempts: Int = 0) -> WaitingPoll {
        WaitingPoll(
            taskID: task.id, key: DurationKey(task: task), acceptedAt: task.createdAt, lastPollAt: lastPollAt, progress: progress, attempts: attempts,
            nextPollAt: due, leaseEpoch: 1)
    }

    /// Durations of about `median` seconds learned: the prior (a median of a minute) no longer stands.
    func learnShortDurations(_ book: UpstreamDurations, median: Double = 20) async throws -> [DurationKey] {
        for seconds in PollPolicyTests.durations(median: median, sigma: 0.2, count: 100, seed: 4) {
            book.observe(UpstreamDurationObservation(key: key, seconds: seconds, observedAt: start))
        }
        return try await book.sync()
    }

    @Test func aPollPlannedOnAnOutdatedScheduleMovesWithinTheNewOnesJitter() async throws {
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil)
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 1)
        let task = music(acceptedAt: start)
        let first = scheduler.firstPoll(task, acceptedAt: start, using: &generator)
        let now = start.addingTimeInterval(1)
        #expect(scheduler.replan(waiting(task, due: first.at), now: now, using: &generator) == nil, "planned on the current schedule")

        #expect(try await learnShortDurations(book) == [key])
        let policy = book.policy(for: key)
        let window = PollScheduler.jitterWindow(wait: policy.nextPoll(after: 0), policy: policy, first: true)
        let move = try #require(scheduler.replan(waiting(task, due: first.at), now: now, using: &generator))
        #expect(move.taskID == task.id && move.leaseEpoch == 1 && move.from == first.at)
        #expect(window.contains(move.to.timeIntervalSince(start)), "\(move.to.timeIntervalSince(start)) in \(window)")
        #expect(move.to < first.at, "durations are shorter than the prior said: the first poll comes earlier")
        #expect(move.priority > 0 && move.priority <= 1)
        // Once moved, it stays.
        #expect(scheduler.replan(waiting(task, due: move.to), now: now, using: &generator) == nil)

        // A polled task: from its last poll.
        let polledAt = start.addingTimeInterval(9)
        let fromPoll = try #require(scheduler.replan(waiting(task, due: start.addingTimeInterval(60), lastPollAt: polledAt), now: polledAt, using: &generator))
        let wait = policy.nextPoll(after: 9) - 9
        #expect(PollScheduler.jitterWindow(wait: wait, policy: policy, first: false).contains(fromPoll.to.timeIntervalSince(polledAt)))
    }

    @Test func pollsTheScheduleDidNotPlanStay() async throws {
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil)
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 2)
        _ = try await learnShortDurations(book)
        let task = music(acceptedAt: start)
        let now = start.addingTimeInterval(1), late = start.addingTimeInterval(50)
        #expect(scheduler.replan(waiting(task, due: late), now: now, using: &generator) != nil)
        #expect(scheduler.replan(waiting(task, due: late, progress: 40), now: now, using: &generator) == nil, "a finish extrapolated from progress")
        #expect(scheduler.replan(waiting(task, due: late, attempts: 2), now: now, using: &generator) == nil, "a retry's backoff")
        #expect(scheduler.replan(waiting(task, due: now), now: now, using: &generator) == nil, "already due")
    }

    /// A task accepted a minute ago whose first poll is still ahead: the new schedule's first poll
    /// has passed, so it is due now.
    @Test func aPollTheNewScheduleWouldHaveMadeAlreadyIsDueNow() async throws {
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil)
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 3)
        _ = try await learnShortDurations(book)
        let task = music(acceptedAt: start.addingTimeInterval(-60))
        let move = try #require(scheduler.replan(waiting(task, due: start.addingTimeInterval(10)), now: start, using: &generator))
        #expect(move.to == start)
    }

    /// The pass over a real store: tasks planned on the prior move earlier once short durations
    /// are learned, and the poll worker is woken; a second pass finds nothing to move.
    @Test(arguments: [StoreFactory.sqliteFile, StoreFactory.sqliteInMemory])
    func thePassMovesWaitingPollsInTheStore(_ factory: StoreFactory) async throws {
        let made = try await factory.make()
        let store = try #require(made.tasks as? any WaitingPollStore)
        let book = UpstreamDurations(limits: PipelineSettings().pollLimits, store: nil)
        let scheduler = PollScheduler(durations: book)
        var generator = SplitMix64(seed: 4)
        var tasks: [MediaTask] = []
        for index in 0..<5 {
            var task = music(acceptedAt: made.now.addingTimeInterval(-Double(index)))
            task.nextAttemptAt = scheduler.firstPoll(task, acceptedAt: task.createdAt, using: &generator).at
            try await made.tasks.insert(task)
            tasks.append(task)
        }
        let signal = WorkSignal()
        let replanner = PollReplanner(store: store, scheduler: scheduler, signal: signal)
        #expect(try await replanner.replan(keys: [key], now: made.now) == 0, "planned on the current schedule")
        #expect(!signal.isPending)

        let moved = try await learnShortDurations(book, median: 6)
        #expect(try await replanner.replan(keys: moved, now: made.now) == 5)
        #expect(signal.isPending, "polls moved earlier: the poll worker is woken")
        let stored = try await made.tasks.tasks(ids: tasks.map(\.id))
        for (before, after) in zip(tasks, stored) {
            #expect(after.nextAttemptAt < before.nextAttemptAt && after.nextAttemptAt >= made.now)
            #expect(after.status == .processing && after.leaseOwner == nil && after.pollPriority > 0)
        }
        #expect(try await replanner.replan(keys: moved, now: made.now) == 0)
    }
}
