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
