import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// Bad input gets the §5 envelope with the right status, and loses nothing already accepted.
@Suite struct LiveErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var path: String
        var body: String
        var status: HTTPResponse.Status
        var type = "invalid_request_error"
        var testDescription: String { "\(path) \(body.prefix(40)) → \(status.code)" }
    }

    static let cases: [Case] = [
        Case(path: "/suno/submit/music", body: "{not json", status: .badRequest),
        Case(path: "/suno/submit/music", body: "[1,2]", status: .badRequest),
        Case(path: "/suno/submit/music", body: "{}", status: .badRequest),
        Case(path: "/suno/submit/music", body: #"{"prompt":"  "}"#, status: .badRequest),
        Case(path: "/suno/submit/music", body: #"{"prompt":123}"#, status: .badRequest),
        Case(path: "/suno/submit/music", body: #"{"prompt":"x","make_instrumental":"yes"}"#, status: .badRequest),
        Case(path: "/suno/submit/music", body: #"{"prompt":"x","callback_url":"ftp://example.com/x"}"#, status: .badRequest),
        Case(path: "/suno/submit/music", body: #"{"prompt":"x","metadata":[1]}"#, status: .badRequest),
        Case(path: "/suno/submit/music", body: String(repeating: "[", count: 100) + String(repeating: "]", count: 100), status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","n":9}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","n":0}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","size":"abc"}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","size":"99999x2"}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","image_size":"8K"}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","response_format":"gif"}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"prompt":"x","model":"dall-e-3"}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: #"{"n":1}"#, status: .badRequest),
        Case(path: "/v1/images/generations", body: "{\"prompt\":\"\(String(repeating: "a", count: 5000))\"}", status: .badRequest),
        Case(path: "/v1/tasks/img_unknown/cancel", body: "", status: .notFound, type: "not_found_error"),
        Case(path: "/no/such/route", body: "{}", status: .notFound, type: "not_found_error"),
    ]

    @Test(arguments: cases)
    func badRequestsGetTheEnvelope(_ check: Case) async throws {
        try await LiveService.run { client, _ in
            let response = try await client.post(check.path, json: check.body)
            #expect(response.status == check.status)
            let json = try response.jsonObject()
            #expect(value(json, "error.type") as? String == check.type)
            #expect((value(json, "error.message") as? String)?.isEmpty == false)
            #expect(value(json, "error.code") is String)
            if check.path.hasPrefix("/suno/") {
                #expect(json["code"] as? Int == Int(check.status.code))
                #expect(json["message"] is String)
            }
        }
    }

    @Test func unknownIDsAre404Everywhere() async throws {
        try await LiveService.run { client, _ in
            for uri in ["/v1/tasks/suno_nope", "/suno/fetch/suno_nope", "/v1/images/generations/img_nope"] {
                let response = try await client.get(uri)
                #expect(response.status == .notFound, "\(uri)")
                #expect(value(try response.jsonObject(), "error.type") as? String == "not_found_error")
            }
            let suno = try await client.get("/suno/fetch/suno_nope").jsonObject()
            #expect(suno["code"] as? Int == 404)
        }
    }

    @Test func oversizedBodyIs413AndEarlierTasksSurvive() async throws {
        try await LiveService.run(configure: { $0.maxBodySize = ByteCount(bytes: 64_000) }) { client, _ in
            let accepted = try await client.post("/suno/submit/music", json: #"{"prompt":"keep me"}"#).jsonObject()
            let id = try #require(value(accepted, "data.task_id") as? String)
            let huge = "{\"prompt\":\"\(String(repeating: "a", count: 200_000))\"}"
            // A refused body closes its connection: it gets one of its own.
            let response = try await client.postOnOwnConnection("/suno/submit/music", json: huge)
            #expect(response.status == .contentTooLarge)
            #expect(value(try response.jsonObject(), "error.code") as? String == "body_too_large")
            let done = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }
            #expect((value(done, "data.tracks") as? [Any])?.count == 2)
        }
    }

    @Test func failedImageGenerationSaysDoNotRetry() async throws {
        try await LiveService.run(configure: { $0.simulator.failureRate = 1 }) { client, _ in
            let response = try await client.post("/v1/images/generations", json: #"{"prompt":"x","size":"64x64"}"#)
            #expect(response.status == .internalServerError)
            #expect(response.headers[HTTPField.Name("x-should-retry")!] == "false")
            #expect(value(try response.jsonObject(), "error.code") as? String == "generation_failed")
        }
    }

    @Test func failedMusicTaskReportsItsReason() async throws {
        try await LiveService.run(configure: { $0.simulator.failureRate = 1 }) { client, _ in
            let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"x"}"#).jsonObject(), "data.task_id") as? String)
            let done = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "failed" }
            #expect((value(done, "data.fail_reason") as? String)?.isEmpty == false)
        }
    }
}
