import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import MediaJobs

/// The simulator's task durations: a seeded lognormal spread around the latency (or exactly the
/// latency), each task's progress against its own duration, and the polls `/_stats` counts.
@Suite struct SimulatorDurationsTests {
    static let musicBody = #"{"prompt":"rain","make_instrumental":false}"#
    static let videoBody = #"{"model":"grok-video-3","prompt":"a cat watching fish","duration":3}"#

    static func draws(_ durations: SimulatorDurations, _ count: Int) -> [Duration] {
        (0..<count).map { _ in durations.next() }
    }

    @Test func theSameSeedGivesTheSameDurations() {
        let first = Self.draws(SimulatorDurations(latency: .seconds(20), spread: 0.3, seed: 7), 500)
        let second = Self.draws(SimulatorDurations(latency: .seconds(20), spread: 0.3, seed: 7), 500)
        #expect(first == second)
        #expect(Set(first).count > 490)
        let other = Self.draws(SimulatorDurations(latency: .seconds(20), spread: 0.3, seed: 8), 500)
        #expect(other != first)
    }

    @Test func noSpreadIsExactlyTheLatency() {
        let durations = SimulatorDurations(latency: .milliseconds(2_500), spread: 0, seed: 1)
        #expect(Self.draws(durations, 100).allSatisfy { $0 == .milliseconds(2_500) })
    }

    @Test func durationsAreLognormalAroundTheLatencyAsMedian() {
        let latency = Duration.seconds(20)
        let durations = Self.draws(SimulatorDurations(latency: latency, spread: 0.3, seed: 2_024), 2_000)
        let ratios = durations.map { $0.timeInterval / latency.timeInterval }.sorted()
        let median = (ratios[999] + ratios[1_000]) / 2
        #expect(abs(median - 1) <= 0.03, "median \(median) × latency")
        let logs = ratios.map { Foundation.log($0) }
        let mean = logs.reduce(0, +) / Double(logs.count)
        let sigma = (logs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(logs.count - 1)).squareRoot()
        #expect(abs(sigma - 0.3) <= 0.03, "σ of the logs \(sigma)")
        #expect(abs(mean) <= 0.03, "mean of the logs \(mean)")
    }

    @Test(arguments: [0.0, 0.3, 2.0])
    func acceptedSpreads(spread: Double) {
        #expect(SimulatorSettings.isValidLatencySpread(spread))
    }

    @Test(arguments: [-0.1, 2.01, Double.nan, Double.infinity, -Double.infinity])
    func refusedSpreads(spread: Double) {
        #expect(!SimulatorSettings.isValidLatencySpread(spread))
    }

    /// Three music tasks and a video submitted at one instant take the seed's first four durations;
    /// each reports progress against its own, and `/_stats` counts the polls until each was seen finished.
    @Test func eachTaskRunsForItsOwnDurationAndItsPollsAreCounted() async throws {
        let clock = SteppedClock()
        var settings = SimulatorSettings()
        settings.latency = .seconds(10)
        settings.latencySpread = 0.3
        settings.seed = 99
        let simulator = UpstreamSimulator(settings: settings, now: { clock.now })
        let expected = Self.draws(SimulatorDurations(latency: .seconds(10), spread: 0.3, seed: 99), 4)
        #expect(Set(expected).count == 4)
        try await Application(router: simulator.router()).test(.router) { client in
            var tasks: [(id: String, path: String, kind: String, duration: Duration)] = []
            for index in 0..<3 {
                let id = try #require(value(try await client.post("/suno/submit/music", json: Self.musicBody).jsonObject(), "data.task_id") as? String)
                tasks.append((id, "/suno/fetch/\(id)", "music", expected[index]))
            }
            let video = try #require(try await client.post("/v1/videos", json: Self.videoBody).jsonObject()["id"] as? String)
            tasks.append((video, "/v1/videos/\(video)", "video", expected[3]))

            /// Every task's status and progress now, in `tasks`' order.
            func fetchAll() async throws -> [(status: String, progress: String)] {
                var answers: [(String, String)] = []
                for task in tasks {
                    let answer = try await client.get(task.path).jsonObject()
                    answers.append((value(answer, "data.status") as? String ?? "?", value(answer, "data.progress") as? String ?? "?"))
                }
                return answers
            }
            /// What an unfinished task reports `elapsed` after its submission.
            func percent(_ elapsed: Duration, of duration: Duration) -> String {
                "\(Int(100 * elapsed.timeInterval / duration.timeInterval))%"
            }

            // 1 s in: every task is early on, each by its own duration.
            clock.advance(by: .seconds(1))
            let early = try await fetchAll()
            #expect(early.map(\.progress) == tasks.map { percent(.seconds(1), of: $0.duration) })
            #expect(Set(early.map(\.progress)).count > 1, "progress is measured against each task's own duration")

            // Between the shortest and the second shortest: only the shortest has finished.
            let ordered = tasks.map(\.duration).sorted()
            let between = ordered[0] + (ordered[1] - ordered[0]) / 2
            clock.advance(by: between - .seconds(1))
            let middle = try await fetchAll()
            for (task, answer) in zip(tasks, middle) {
                if task.duration == ordered[0] {
                    #expect(["completed", "SUCCESS"].contains(answer.status))
                    #expect(answer.progress == "100%")
                } else {
                    #expect(["processing", "IN_PROGRESS"].contains(answer.status))
                    #expect(answer.progress == percent(between, of: task.duration))
                }
            }

            // After the longest: all finished; one more round counts as a fetch, not a poll.
            let end = ordered[3] + .seconds(1)
            clock.advance(by: end - between)
            #expect(try await fetchAll().allSatisfy { ["completed", "SUCCESS"].contains($0.status) })
            _ = try await fetchAll()

            let stats = try await client.get("/_stats?completions=1").jsonObject()
            let completions = try #require(stats["completions"] as? [String: Any])
            #expect(completions.count == 4)
            for task in tasks {
                let entry = try #require(completions[task.id] as? [String: Any], "no completion for \(task.id)")
                let submitted = try #require(entry["submitted"] as? Double)
                let done = try #require(entry["done"] as? Double)
                let seen = try #require(entry["seen"] as? Double)
                #expect(entry["kind"] as? String == task.kind)
                #expect(abs(done - submitted - task.duration.timeInterval * 1000) < 0.01)
                let seenAt = task.duration == ordered[0] ? between : end
                #expect(abs(seen - submitted - seenAt.timeInterval * 1000) < 0.01)
                #expect(entry["polls"] as? Int == (task.duration == ordered[0] ? 2 : 3))
                #expect(entry["fetches"] as? Int == 4)
            }
        }
    }

    @Test func anUnseenTaskHasNoSeenTimeAndEveryFetchCountsAsAPoll() async throws {
        let clock = SteppedClock()
        var settings = SimulatorSettings()
        settings.latency = .seconds(30)
        settings.seed = 5
        let simulator = UpstreamSimulator(settings: settings, now: { clock.now })
        try await Application(router: simulator.router()).test(.router) { client in
            let id = try #require(value(try await client.post("/suno/submit/music", json: Self.musicBody).jsonObject(), "data.task_id") as? String)
            for _ in 0..<3 {
                clock.advance(by: .seconds(3))
                #expect(value(try await client.get("/suno/fetch/\(id)").jsonObject(), "data.progress") as? String == "\((clock.elapsed.components.seconds * 100) / 30)%")
            }
            let entry = try #require(value(try await client.get("/_stats?completions=1").jsonObject(), "completions.\(id)") as? [String: Any])
            #expect(entry["seen"] is NSNull)
            #expect(entry["polls"] as? Int == 3 && entry["fetches"] as? Int == 3)
            let submitted = try #require(entry["submitted"] as? Double)
            // No spread: exactly the latency.
            #expect(entry["done"] as? Double == submitted + 30_000)
        }
    }

    /// `--no-progress`: running music and video tasks say nothing of how far along they are.
    @Test func withoutProgressRunningTasksReportNone() async throws {
        let clock = SteppedClock()
        var settings = SimulatorSettings()
        settings.latency = .seconds(30)
        settings.reportsProgress = false
        let simulator = UpstreamSimulator(settings: settings, now: { clock.now })
        try await Application(router: simulator.router()).test(.router) { client in
            let music = try #require(value(try await client.post("/suno/submit/music", json: Self.musicBody).jsonObject(), "data.task_id") as? String)
            let video = try #require(try await client.post("/v1/videos", json: Self.videoBody).jsonObject()["id"] as? String)
            clock.advance(by: .seconds(15))
            let runningMusic = try await client.get("/suno/fetch/\(music)").jsonObject()
            #expect(value(runningMusic, "data.status") as? String == "processing" && value(runningMusic, "data.progress") == nil)
            let runningVideo = try await client.get("/v1/videos/\(video)").jsonObject()
            #expect(value(runningVideo, "data.status") as? String == "IN_PROGRESS" && value(runningVideo, "data.progress") == nil)
            clock.advance(by: .seconds(16))
            #expect(value(try await client.get("/suno/fetch/\(music)").jsonObject(), "data.status") as? String == "completed")
        }
    }

    @Test func anImageCallTakesTheNextDurationInArrivalOrder() async throws {
        var settings = SimulatorSettings()
        // Short, so the image call's real wait stays a few milliseconds.
        settings.latency = .milliseconds(5)
        settings.latencySpread = 0.3
        settings.seed = 11
        let expected = Self.draws(SimulatorDurations(latency: .milliseconds(5), spread: 0.3, seed: 11), 2)
        let simulator = UpstreamSimulator(settings: settings)
        try await Application(router: simulator.router()).test(.router) { client in
            let started = ContinuousClock.now
            #expect(try await client.post("/v1/images/generations", json: #"{"prompt":"a fox"}"#).status == .ok)
            #expect(ContinuousClock.now - started >= expected[0])
            let id = try #require(value(try await client.post("/suno/submit/music", json: Self.musicBody).jsonObject(), "data.task_id") as? String)
            let entry = try #require(value(try await client.get("/_stats?completions=1").jsonObject(), "completions.\(id)") as? [String: Any])
            let done = try #require(entry["done"] as? Double), submitted = try #require(entry["submitted"] as? Double)
            #expect(abs(done - submitted - expected[1].timeInterval * 1000) < 0.001)
        }
    }
}

/// A clock the test moves by hand, so progress is measured at exact instants.
private final class SteppedClock: Sendable {
    private let start = ContinuousClock.now
    private let instant = Mutex(ContinuousClock.now)

    init() {
        instant.withLock { $0 = start }
    }

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    /// Time moved on since the clock was made.
    var elapsed: Duration { now - start }

    func advance(by duration: Duration) {
        instant.withLock { $0 = $0.advanced(by: duration) }
    }
}
