import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// The simulator's injected faults repeat: one seed, one sequence; "the first N" exactly N.
@Suite struct SimulatorFaultsTests {
    static func settings(_ configure: (inout SimulatorSettings) -> Void) -> SimulatorSettings {
        var settings = SimulatorSettings()
        settings.latency = .zero
        configure(&settings)
        return settings
    }

    /// The outcomes of `calls` fetches and `tasks` task creations, in that order.
    static func outcomes(_ faults: SimulatorFaults, calls: Int, tasks: Int) -> (calls: [Bool], tasks: [Bool]) {
        let calls = (0..<calls).map { _ in faults.rejectsCall(.fetch) }
        let tasks = (0..<tasks).map { _ in faults.nextTaskFails() }
        return (calls, tasks)
    }

    @Test func theSameSeedGivesTheSameOutcomes() {
        let settings = Self.settings {
            $0.seed = 7
            $0.errorRate = 0.3
            $0.failureRate = 0.5
        }
        let first = Self.outcomes(SimulatorFaults(settings: settings), calls: 200, tasks: 200)
        let second = Self.outcomes(SimulatorFaults(settings: settings), calls: 200, tasks: 200)
        #expect(first.calls == second.calls)
        #expect(first.tasks == second.tasks)
        // The rates are honoured roughly (fixed seed, so this is a fixed count, not a chance).
        #expect((30...90).contains(first.calls.filter { $0 }.count))
        #expect((60...140).contains(first.tasks.filter { $0 }.count))

        var other = settings
        other.seed = 8
        let third = Self.outcomes(SimulatorFaults(settings: other), calls: 200, tasks: 200)
        #expect(third.calls != first.calls)
        #expect(third.tasks != first.tasks)
    }

    @Test func howManyCallsARunMakesDoesNotMoveWhichTasksFail() {
        let settings = Self.settings {
            $0.seed = 42
            $0.errorRate = 0.5
            $0.failureRate = 0.5
        }
        // A slow machine polls more often: the task outcomes must not depend on it.
        let fewPolls = Self.outcomes(SimulatorFaults(settings: settings), calls: 3, tasks: 50).tasks
        let manyPolls = Self.outcomes(SimulatorFaults(settings: settings), calls: 300, tasks: 50).tasks
        #expect(fewPolls == manyPolls)
    }

    @Test func anUnsetSeedIsChosenAndRepeatsTheRun() {
        let random = SimulatorFaults(settings: Self.settings { $0.errorRate = 0.5 })
        let replay = SimulatorFaults(settings: Self.settings {
            $0.errorRate = 0.5
            $0.seed = random.seed
        })
        #expect(Self.outcomes(random, calls: 100, tasks: 0).calls == Self.outcomes(replay, calls: 100, tasks: 0).calls)
    }

    @Test func theFirstNCallsOfAKindFailAndNoOthers() {
        let faults = SimulatorFaults(settings: Self.settings { $0.failFirst = [.submit: 2, .fetch: 1, .media: 1] })
        #expect((0..<5).map { _ in faults.rejectsCall(.submit) } == [true, true, false, false, false])
        #expect((0..<5).map { _ in faults.rejectsCall(.fetch) } == [true, false, false, false, false])
        #expect((0..<5).map { _ in faults.rejectsCall(.image) } == [false, false, false, false, false])
        #expect((0..<5).map { _ in faults.rejectsCall(.media) } == [true, false, false, false, false])
        #expect(faults.injectedErrors == [.submit: 2, .fetch: 1, .media: 1])
    }

    @Test func theFirstNTasksFailAndNoOthers() {
        let faults = SimulatorFaults(settings: Self.settings { $0.failFirstTasks = 3 })
        #expect((0..<6).map { _ in faults.nextTaskFails() } == [true, true, true, false, false, false])
        #expect(faults.failedTasks == 3)
    }

    @Test func errorRateNeverTouchesMediaDownloads() {
        let faults = SimulatorFaults(settings: Self.settings {
            $0.seed = 1
            $0.errorRate = 1
        })
        #expect((0..<20).allSatisfy { _ in !faults.rejectsCall(.media) })
        #expect((0..<20).allSatisfy { _ in faults.rejectsCall(.submit) })
    }

    @Test func concurrentCallsStillFailExactlyN() async {
        let faults = SimulatorFaults(settings: Self.settings { $0.failFirst = [.fetch: 17] })
        let rejected = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { faults.rejectsCall(.fetch) } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(rejected == 17)
    }

    @Test(arguments: [
        ("submit=2,fetch=1,image=1", [SimulatorCallKind.submit: 2, .fetch: 1, .image: 1]),
        (" Media = 3 ", [.media: 3]),
        ("submit=1,submit=2", [.submit: 3]),
        ("", [:]),
    ])
    func failFirstCountsParse(text: String, counts: [SimulatorCallKind: Int]) {
        #expect(SimulatorCallKind.counts(parsing: text) == counts)
    }

    @Test(arguments: ["submit", "submit=", "poll=1", "fetch=-1", "fetch=x", "fetch=1=2"])
    func badFailFirstCountsAreRefused(text: String) {
        #expect(SimulatorCallKind.counts(parsing: text) == nil)
    }

    @Test func overHTTPTheFirstSubmitsAnswer503WithRetryAfterThenTasksFailAsTold() async throws {
        let simulator = UpstreamSimulator(settings: Self.settings {
            $0.failFirst = [.submit: 2]
            $0.failFirstTasks = 1
        })
        try await Application(router: simulator.router()).test(.router) { client in
            let body = ByteBuffer(string: #"{"prompt":"rain","make_instrumental":false}"#)
            var statuses: [HTTPResponse.Status] = []
            var ids: [String] = []
            for _ in 0..<4 {
                try await client.execute(uri: "/suno/submit/music", method: .post, body: body) { response in
                    statuses.append(response.status)
                    if response.status == .serviceUnavailable {
                        #expect(response.headers[.retryAfter] == "1")
                    } else {
                        let answer = try JSONDecoder().decode(SubmitAnswer.self, from: Data(buffer: response.body))
                        ids.append(answer.data.task_id)
                    }
                }
            }
            #expect(statuses == [.serviceUnavailable, .serviceUnavailable, .ok, .ok])
            // Latency zero: both tasks are done; the first one made failed, the second not.
            var outcomes: [String] = []
            for id in ids {
                try await client.execute(uri: "/suno/fetch/\(id)", method: .get) { response in
                    outcomes.append(try JSONDecoder().decode(FetchAnswer.self, from: Data(buffer: response.body)).data.status)
                }
            }
            #expect(outcomes == ["failed", "completed"])
            try await client.execute(uri: "/_stats", method: .get) { response in
                let stats = try JSONDecoder().decode(Stats.self, from: Data(buffer: response.body))
                #expect(stats.injected_errors == ["submit": 2, "fetch": 0, "image": 0, "media": 0, "video": 0, "video_fetch": 0])
                #expect(stats.failed_tasks == 1)
            }
        }
    }

    struct SubmitAnswer: Decodable {
        struct Body: Decodable { var task_id: String }
        var data: Body
    }

    struct FetchAnswer: Decodable {
        struct Body: Decodable { var status: String }
        var data: Body
    }

    struct Stats: Decodable {
        var injected_errors: [String: Int]
        var failed_tasks: Int
    }
}
