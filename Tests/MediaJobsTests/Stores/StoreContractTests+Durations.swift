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
    
        /// The polls a re-plan may move: unleased tasks in `processing` of the keys asked for, read
        /// with what the schedule needs; a move applies only while the task is still as read.
        @Test(arguments: StoreFactory.all)
        func waitingPollsMoveOnlyWhileStillAsRead(_ factory: StoreFactory) async throws {
            let made = try await factory.make()
            let store = try #require(made.tasks as? any WaitingPollStore)
            let accepted = made.now.addingTimeInterval(-20)
            // Four music tasks in processing: one never polled, one polled, one leased, one in a
            // retry backoff; an image task of another key; a queued music task.
            var processing: [MediaTask] = []
            for index in 0..<4 { processing.append(try await made.queued(prompt: "p\(index)")) }
            for task in try await made.tasks.claim(.queued, owner: "w", lease: .seconds(60), limit: 10, now: made.now) {
                try await made.tasks.advance(
                    taskID: task.id, from: .queued, lease: try #require(task.lease),
                    change: TaskChange(
                        path: [.processing], upstreamID: "up-\(task.id)", progress: 0, nextAttemptAt: made.now.addingTimeInterval(-1), attempts: 0,
                        pollCount: 0, upstreamAcceptedAt: accepted),
                    now: accepted)
            }
            let held = try await made.tasks.claim(.processing, owner: "w", lease: .seconds(60), limit: 10, now: made.now)
            let leases = Dictionary(uniqueKeysWithValues: try held.map { ($0.id, try #require($0.lease)) })
            #expect(leases.count == 4)
            let polledAt = made.now.addingTimeInterval(-5)
            let changes = [
                TaskChange(nextAttemptAt: made.now.addingTimeInterval(30)),
                TaskChange(progress: 3, nextAttemptAt: made.now.addingTimeInterval(25), pollCount: 1),
                nil,
                TaskChange(nextAttemptAt: made.now.addingTimeInterval(8), attempts: 2),
            ]
            for (task, change) in zip(processing, changes) {
                guard let change else { continue }
                try await made.tasks.reschedule(taskID: task.id, in: .processing, lease: try #require(leases[task.id]), change: change, now: polledAt)
            }
            let image = try await made.queued(.image)
            try await made.tasks.advance(
                taskID: image.id, from: .queued, lease: try await made.lease(image, in: .queued),
                change: TaskChange(path: [.processing], upstreamID: "up-image", nextAttemptAt: made.now.addingTimeInterval(30), upstreamAcceptedAt: accepted),
                now: accepted)
            _ = try await made.queued()

            let music = DurationKey(task: processing[0])
            let waiting = try await store.waitingPolls(keys: [music]).sorted { $0.taskID < $1.taskID }
            let expected = [
                WaitingPoll(
                    taskID: processing[0].id, key: music, acceptedAt: accepted, lastPollAt: nil, progress: 0, attempts: 0,
                    nextPollAt: made.now.addingTimeInterval(30), leaseEpoch: 2),
                WaitingPoll(
                    taskID: processing[1].id, key: music, acceptedAt: accepted, lastPollAt: polledAt, progress: 3, attempts: 0,
                    nextPollAt: made.now.addingTimeInterval(25), leaseEpoch: 2),
                WaitingPoll(
                    taskID: processing[3].id, key: music, acceptedAt: accepted, lastPollAt: nil, progress: 0, attempts: 2,
                    nextPollAt: made.now.addingTimeInterval(8), leaseEpoch: 2),
            ].sorted { $0.taskID < $1.taskID }
            #expect(waiting == expected)
            #expect(try await store.waitingPolls(keys: [DurationKey(task: image)]).map(\.taskID) == [image.id])
            #expect(try await store.waitingPolls(keys: [DurationKey("music/none")]).isEmpty)
            #expect(try await store.waitingPolls(keys: []).isEmpty)

            // Moves: one as read, one whose due time changed since, one whose task was claimed
            // since (an older epoch), one of the leased task.
            let first = try #require(waiting.first { $0.taskID == processing[0].id })
            let second = try #require(waiting.first { $0.taskID == processing[1].id })
            let to = made.now.addingTimeInterval(12.345)
            let moved = try await store.movePolls([
                PollMove(taskID: first.taskID, leaseEpoch: first.leaseEpoch, from: first.nextPollAt, to: to, priority: 0.7),
                PollMove(taskID: first.taskID, leaseEpoch: first.leaseEpoch, from: made.now, to: made.now, priority: 0.1),
                PollMove(taskID: second.taskID, leaseEpoch: second.leaseEpoch - 1, from: second.nextPollAt, to: to, priority: 0.7),
                PollMove(taskID: processing[2].id, leaseEpoch: 2, from: made.now.addingTimeInterval(-1), to: to, priority: 0.7),
            ])
            #expect(moved == 1)
            let stored = try await made.tasks.tasks(ids: processing.map(\.id))
            #expect(stored[0].nextAttemptAt == to && stored[0].pollPriority == 0.7 && stored[0].status == .processing && stored[0].leaseOwner == nil)
            #expect(stored[1].nextAttemptAt == made.now.addingTimeInterval(25))
            #expect(stored[2].nextAttemptAt == made.now.addingTimeInterval(-1) && stored[2].leaseOwner != nil)
            #expect(try await store.movePolls([]) == 0)
        }
    }
}
