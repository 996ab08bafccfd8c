import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import MediaJobs

/// API keys, per-key isolation, idempotency and per-key limits through HTTP.
@Suite struct LiveSafetyTests {
    static let keyA: HTTPFields = [.authorization: "Bearer key-a"]
    static let keyB: HTTPFields = [.authorization: "Bearer key-b"]

    @Test func keysAreRequiredAndEachSeesOnlyItsOwnTasks() async throws {
        try await LiveService.run(configure: { $0.apiKeys = [Redacted("key-a"), Redacted("key-b")] }) { client, _ in
            let anonymous = try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#)
            #expect(anonymous.status == .unauthorized)
            #expect(value(try anonymous.jsonObject(), "error.type") as? String == "authentication_error")
            #expect(anonymous.headers[.wwwAuthenticate] != nil)
            let wrong = try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            #expect(try await client.get("/healthz").status == .ok)

            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"mine"}"#, headers: Self.keyA).jsonObject()
            let id = try #require(value(submitted, "data.task_id") as? String)
            let done = try await client.poll("/suno/fetch/\(id)", headers: Self.keyA) { value($0, "data.status") as? String == "completed" }
            let url = try #require((value(done, "data.tracks") as? [[String: Any]])?.first?["audio_url"] as? String)

            #expect(try await client.get("/suno/fetch/\(id)", headers: Self.keyB).status == .notFound)
            #expect(try await client.get("/v1/tasks/\(id)", headers: Self.keyB).status == .notFound)
            #expect(try await client.post("/v1/tasks/\(id)/cancel", json: "", headers: Self.keyB).status == .notFound)
            #expect(try await client.get(filePath(url), headers: Self.keyB).status == .notFound)
            #expect(try await client.get(filePath(url)).status == .unauthorized)
            #expect(try await client.get(filePath(url), headers: Self.keyA).status == .ok)
            let batch = try await client.post("/suno/fetch", json: #"{"ids":["\#(id)"]}"#, headers: Self.keyB).jsonObject()
            #expect((batch["data"] as? [Any])?.isEmpty == true)
            let listB = try await client.get("/v1/tasks", headers: Self.keyB).jsonObject()
            #expect((listB["data"] as? [Any])?.isEmpty == true)
            let listA = try await client.get("/v1/tasks", headers: Self.keyA).jsonObject()
            #expect((listA["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        }
    }

    @Test func sameIdempotencyKeyAndBodyGiveTheSameTask() async throws {
        try await LiveService.run(configure: { $0.simulator.latency = .seconds(30) }) { client, _ in
            let headers: HTTPFields = [.idempotencyKey: "order-42"]
            let first = try await client.post("/suno/submit/music", json: #"{"prompt":"once","title":"T"}"#, headers: headers)
            // Same request, other spelling: still the same request.
            let second = try await client.post("/suno/submit/music", json: #"{ "title": "T", "prompt": "once" }"#, headers: headers)
            #expect(first.status == .ok && second.status == .ok)
            #expect(value(try first.jsonObject(), "data.task_id") as? String == value(try second.jsonObject(), "data.task_id") as? String)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(first.headers[.idempotentReplayed] == nil)

            let other = try await client.post("/suno/submit/music", json: #"{"prompt":"something else"}"#, headers: headers)
            #expect(other.status == .unprocessableContent)
            #expect(value(try other.jsonObject(), "error.code") as? String == "idempotency_key_reused")
            let tasks = try await client.get("/v1/tasks").jsonObject()
            #expect((tasks["data"] as? [Any])?.count == 1)
        }
    }

    @Test func fiftyConcurrentIdenticalRequestsMakeOneTask() async throws {
        try await LiveService.run(configure: { $0.simulator.latency = .seconds(30) }) { client, _ in
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await client.post("/suno/submit/music", json: #"{"prompt":"burst"}"#, headers: [.idempotencyKey: "burst-1"])
                        return value(try response.jsonObject(), "data.task_id") as? String
                    }
                }
                var ids: [String?] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(ids.count == 50)
            #expect(Set(ids.compactMap { $0 }).count == 1)
            #expect(ids.allSatisfy { $0 != nil })
            let tasks = try await client.get("/v1/tasks?limit=100").jsonObject()
            #expect((tasks["data"] as? [Any])?.count == 1)
        }
    }

    @Test func perKeyInFlightCapAnswers429() async throws {
        try await LiveService.run(configure: {
            $0.apiKeys = [Redacted("key-a"), Redacted("key-b")]
            $0.submission.maxActiveTasksPerKey = 2
            $0.simulator.latency = .seconds(30)
        }) { client, _ in
            for _ in 0..<2 {
                #expect(try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#, headers: Self.keyA).status == .ok)
            }
            let refused = try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#, headers: Self.keyA)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(value(try refused.jsonObject(), "error.type") as? String == "rate_limit_error")
            // Another key is not affected.
            #expect(try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#, headers: Self.keyB).status == .ok)
        }
    }

    @Test func openServerRefusesNonLoopbackAddresses() async throws {
        var configuration = LiveService.configuration(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("open-\(UUID().uuidString)"))
        configuration.host = "0.0.0.0"
        #expect(throws: StartupError.self) { try configuration.validate() }
        configuration.insecureOpen = true
        try configuration.validate()
        configuration.insecureOpen = false
        configuration.apiKeys = [Redacted("k")]
        try configuration.validate()
        configuration.apiKeys = []
        configuration.host = "::1"
        try configuration.validate()
    }
}
