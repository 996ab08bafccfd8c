import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

/// `POST /suno/submit/music` through a live server, answered on the event loop (plain submits)
/// and through the router: the same statuses, headers, stored tasks and errors either way.
@Suite struct SubmitHTTPTests {
    @Test(arguments: [true, false]) func storesTheTaskAndAnswersTheSameWay(onEventLoop: Bool) async throws {
        try await LiveOperatorTests.run(configure: { $0.answerHotRoutesOnEventLoop = onEventLoop }) { client, _ in
            let body = #"{"prompt":"rain","style":"lo-fi","title":"Rain","lyrics":"la","make_instrumental":true,"metadata":{"user":7}}"#
            let json = try sunoAnswer(try await client.post("/suno/submit/music", json: body))
            let id = try #require(value(json, "data.task_id") as? String)
            #expect((json["data"] as? [String: Any])?.count == 1)
            #expect(TaskID.kind(of: id) == .music)

            let task = try await client.get("/v1/tasks/\(id)").jsonObject()
            #expect(value(task, "request.prompt") as? String == "rain")
            #expect(value(task, "request.style") as? String == "lo-fi")
            #expect(value(task, "request.title") as? String == "Rain")
            #expect(value(task, "request.make_instrumental") as? Bool == true)
            #expect(value(task, "metadata.user") as? Int == 7)
            // The submit worker was woken: the task runs to the end.
            _ = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }

            let text = String(buffer: try await client.get("/metrics").body)
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "POST", "route": SubmitFastPath.route, "status": "200"]) == 1)
        }
    }

    @Test(arguments: [true, false]) func whatTheEventLoopLeavesGoesToTheRouter(onEventLoop: Bool) async throws {
        try await LiveService.run(configure: { $0.answerHotRoutesOnEventLoop = onEventLoop }) { client, _ in
            let wrongType = try await client.post("/suno/submit/music", json: #"{"prompt":123}"#)
            #expect(wrongType.status == .badRequest)
            let refused = try wrongType.jsonObject()
            #expect(refused["code"] as? Int == 400)
            #expect(value(refused, "error.param") as? String == "prompt")
            #expect(value(refused, "error.message") as? String == "'prompt' must be a string")

            // A callback URL is checked by the router (its host is looked up); this one is private.
            let callback = try await client.post("/suno/submit/music", json: #"{"prompt":"x","callback_url":"http://127.0.0.1:9/hook"}"#)
            #expect(callback.status == .badRequest)
            #expect(value(try callback.jsonObject(), "error.param") as? String == "callback_url")

            let key: HTTPFields = [.idempotencyKey: "same-submit"]
            let first = try await client.post("/suno/submit/music", json: #"{"prompt":"once"}"#, headers: key)
            let again = try await client.post("/suno/submit/music", json: #"{"prompt":"once"}"#, headers: key)
            #expect(first.status == .ok && again.status == .ok)
            #expect(again.headers[.idempotentReplayed] == "true")
            #expect(value(try first.jsonObject(), "data.task_id") as? String == value(try again.jsonObject(), "data.task_id") as? String)

            // Too big for the event loop (64 KiB), within --max-body-size (1 MB): the router takes it.
            let wide = #"{"prompt":"wide""# + String(repeating: " ", count: 70_000) + "}"
            #expect(try await client.post("/suno/submit/music", json: wide).status == .ok)
        }
    }

    @Test(arguments: [true, false]) func thePerKeyLimitIsA429(onEventLoop: Bool) async throws {
        let configure: (inout ServiceConfiguration) -> Void = {
            $0.apiKeys = [Redacted("key-a")]
            $0.submission.maxActiveTasksPerKey = 1
            $0.simulator.latency = .seconds(60)
            $0.answerHotRoutesOnEventLoop = onEventLoop
        }
        try await LiveService.run(configure: configure) { client, _ in
            let keyA: HTTPFields = [.authorization: "Bearer key-a"]
            #expect(try await client.post("/suno/submit/music", json: #"{"prompt":"one"}"#, headers: keyA).status == .ok)
            let second = try await client.post("/suno/submit/music", json: #"{"prompt":"two"}"#, headers: keyA)
            #expect(second.status == .tooManyRequests)
            #expect(second.headers[.retryAfter] == "10")
            #expect(second.headers[.contentLength] == String(second.body.readableBytes))
            let refused = try second.jsonObject()
            #expect(refused["code"] as? Int == 429)
            #expect(value(refused, "error.code") as? String == "too_many_active_tasks")
            #expect(value(refused, "error.type") as? String == "rate_limit_error")
            let anonymous = try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#)
            #expect(anonymous.status == .unauthorized)
            // Both refusals were framed correctly: the connection still works.
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test(arguments: [true, false]) func bodiesOverTheConfiguredLimitAre413(onEventLoop: Bool) async throws {
        let configure: (inout ServiceConfiguration) -> Void = {
            $0.maxBodySize = ByteCount(bytes: 100)
            $0.answerHotRoutesOnEventLoop = onEventLoop
        }
        try await LiveService.run(configure: configure) { client, _ in
            // A refused body closes its connection (``RequestBodyLimit``): it gets one of its own.
            let big = try await client.postOnOwnConnection("/suno/submit/music", json: #"{"prompt":""# + String(repeating: "a", count: 150) + #""}"#)
            #expect(big.status == .contentTooLarge)
            #expect(big.headers[.connection] == "close")
            let refused = try big.jsonObject()
            #expect(refused["code"] as? Int == 413)
            #expect(value(refused, "error.code") as? String == "body_too_large")
            #expect(try await client.post("/suno/submit/music", json: #"{"prompt":"small"}"#).status == .ok)
        }
    }
}
