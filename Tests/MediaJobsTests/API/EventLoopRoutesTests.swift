import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

/// `GET /suno/fetch/{id}` through a live server, answered on the event loop (the default) and
/// through the router: the same statuses, headers and JSON either way. (`/files` has its own
/// suite, ``FilesTests``, which runs both ways too.)
@Suite struct StatusReadHTTPTests {
    static let keyA: HTTPFields = [.authorization: "Bearer key-a"]
    static let keyB: HTTPFields = [.authorization: "Bearer key-b"]

    @Test(arguments: [true, false]) func answersTheOwnerAndRefusesEveryoneElse(onEventLoop: Bool) async throws {
        let configure: (inout ServiceConfiguration) -> Void = {
            $0.apiKeys = [Redacted("key-a"), Redacted("key-b")]
            $0.answerHotRoutesOnEventLoop = onEventLoop
        }
        try await LiveOperatorTests.run(configure: configure) { client, _ in
            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"owned","title":"Mine"}"#, headers: Self.keyA).jsonObject()
            let id = try #require(value(submitted, "data.task_id") as? String)
            _ = try await client.poll("/suno/fetch/\(id)", headers: Self.keyA) { value($0, "data.status") as? String == "completed" }

            let answer = try await client.get("/suno/fetch/\(id)", headers: Self.keyA)
            let json = try sunoAnswer(answer)
            let data = try #require(json["data"] as? [String: Any])
            #expect(Set(data.keys) == ["task_id", "status", "progress", "fail_reason", "created_at", "finished_at", "tracks"])
            #expect(data["task_id"] as? String == id)
            #expect(data["status"] as? String == "completed")
            #expect(data["progress"] as? Int == 100)
            #expect(data["fail_reason"] is NSNull)
            let tracks = try #require(data["tracks"] as? [[String: Any]])
            #expect(tracks.count == 2)
            #expect(tracks.allSatisfy { ($0["audio_url"] as? String)?.hasPrefix("\(LiveService.publicURL)/files/\(id)/") == true })
            #expect(value(tracks[0], "file.expired") as? Bool == false)
            // A query is ignored, as the router ignores it.
            #expect(try await client.get("/suno/fetch/\(id)?t=1", headers: Self.keyA).body == answer.body)

            let otherKey = try await client.get("/suno/fetch/\(id)", headers: Self.keyB)
            #expect(otherKey.status == .notFound)
            #expect(value(try otherKey.jsonObject(), "error.code") as? String == "task_not_found")
            let noKey = try await client.get("/suno/fetch/\(id)")
            #expect(noKey.status == .unauthorized)
            #expect(noKey.headers[.wwwAuthenticate] != nil)
            #expect(try await client.get("/suno/fetch/\(id)", headers: [.authorization: "Bearer nope"]).status == .unauthorized)
            #expect(try await client.get("/suno/fetch/suno_unknown", headers: Self.keyA).status == .notFound)
            // Paths the fast path leaves alone reach the router and get its answers.
            #expect(try await client.get("/suno/fetch/\(id)/extra", headers: Self.keyA).status == .notFound)
        }
    }

    @Test(arguments: [true, false]) func anImageTaskIsNotAMusicTask(onEventLoop: Bool) async throws {
        try await LiveService.run(configure: { $0.answerHotRoutesOnEventLoop = onEventLoop }) { client, _ in
            let accepted = try await client.post(
                "/v1/images/generations", json: #"{"prompt":"a fox","size":"64x64"}"#, headers: [HTTPField.Name("Prefer")!: "respond-async"])
            let id = try #require(try accepted.jsonObject()["id"] as? String)
            let answer = try await client.get("/suno/fetch/\(id)")
            #expect(answer.status == .notFound)
            #expect(value(try answer.jsonObject(), "error.code") as? String == "task_not_found")
        }
    }

    @Test(arguments: [true, false]) func bothPathsCountUnderTheRouteTemplate(onEventLoop: Bool) async throws {
        try await LiveOperatorTests.run(configure: { $0.answerHotRoutesOnEventLoop = onEventLoop }) { client, _ in
            let id = try await LiveOperatorTests.completedMusicTask(client)
            let before = sample(String(buffer: try await client.get("/metrics").body), "mediajobs_http_requests_total", Self.fetchLabels("200")) ?? 0
            for _ in 0..<3 { #expect(try await client.get("/suno/fetch/\(id)").status == .ok) }
            #expect(try await client.get("/suno/fetch/suno_unknown").status == .notFound)
            let text = String(buffer: try await client.get("/metrics").body)
            #expect(sample(text, "mediajobs_http_requests_total", Self.fetchLabels("200")) == before + 3)
            #expect(sample(text, "mediajobs_http_requests_total", Self.fetchLabels("404")) == 1)
            #expect(!text.contains("route=\"/suno/fetch/\(id)"), "raw paths never become labels")
        }
    }

    static func fetchLabels(_ status: String) -> [String: String] {
        ["method": "GET", "route": StatusFastPath.route, "status": status]
    }
}

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

/// Checks what every successful Suno answer carries, whichever path wrote it, and returns its JSON.
func sunoAnswer(_ answer: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    #expect(answer.status == .ok, sourceLocation: sourceLocation)
    #expect(answer.headers[.contentType] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(answer.headers[.contentLength] == String(answer.body.readableBytes), sourceLocation: sourceLocation)
    #expect(answer.headers[.server] == "MediaJobs", sourceLocation: sourceLocation)
    #expect(answer.headers[.date]?.hasSuffix(" GMT") == true, sourceLocation: sourceLocation)
    let json = try answer.jsonObject()
    #expect(Set(json.keys) == ["code", "message", "data"], sourceLocation: sourceLocation)
    #expect(json["code"] as? Int == 200, sourceLocation: sourceLocation)
    return json
}

@Suite struct EventLoopRoutePathTests {
    @Test func takesOnlyPlainFilePaths() {
        #expect(EventLoopRoutes.plainSegments("/files/suno_1/0.wav", after: "/files/", count: 2) == ["suno_1", "0.wav"])
        #expect(EventLoopRoutes.plainSegments("/files/suno_1/0.wav?download=1", after: "/files/", count: 2) == ["suno_1", "0.wav"])
        for uri in ["/files/suno_1", "/files/suno_1/", "/files//0.wav", "/files/suno_1/0.wav/x", "/files/suno_1/%30.wav", "/files/../0.wav",
            "/files/suno_1/..", "/filesx/a/b", "/v1/tasks/a", "files/a/b", "/files/a/b#c"]
        {
            #expect(EventLoopRoutes.plainSegments(uri, after: "/files/", count: 2) == nil, "\(uri)")
        }
    }

    @Test func takesOnlyPlainTaskIDs() {
        #expect(EventLoopRoutes.plainSegments("/suno/fetch/suno_1", after: StatusFastPath.prefix, count: 1) == ["suno_1"])
        #expect(EventLoopRoutes.plainSegments("/suno/fetch/suno_1?x=%20", after: StatusFastPath.prefix, count: 1) == ["suno_1"])
        for uri in ["/suno/fetch/", "/suno/fetch", "/suno/fetch/a/b", "/suno/fetch/a/", "/suno/fetch/%61", "/suno/fetch/..", "/suno/fetchx/a", "/suno/fetch//a"] {
            #expect(EventLoopRoutes.plainSegments(uri, after: StatusFastPath.prefix, count: 1) == nil, "\(uri)")
        }
    }
}
