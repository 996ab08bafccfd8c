import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// `POST /v1/videos` as the OpenAI SDKs send it (multipart), through a live server, and the
/// `openai-poll-after-ms` hint of the video object.
@Suite struct VideosHTTPTests {
    typealias Controller = VideosController<MediaJobsRequestContext>

    /// A form like the SDK's: the text fields, then `input_reference` as a file of `fileBytes` bytes.
    static func form(prompt: String, fileBytes: Int?, boundary: String = "sdk-boundary") -> ByteBuffer {
        var body = ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n\(prompt)\r\n")
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"seconds\"\r\n\r\n1\r\n")
        if let fileBytes {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"ref.png\"\r\n")
            body.writeString("Content-Type: image/png\r\n\r\n")
            body.writeRepeatingByte(0x89, count: fileBytes)
            body.writeString("\r\n")
        }
        body.writeString("--\(boundary)--\r\n")
        return body
    }

    static let formHeaders: HTTPFields = [.contentType: "multipart/form-data; boundary=sdk-boundary"]

    @Test func aReferenceImageIsA400NamingIt() async throws {
        try await LiveService.run { client, _ in
            // Within --max-body-size (1 MB): the part's headers are enough to answer.
            let refused = try await client.execute(uri: "/v1/videos", method: .post, headers: Self.formHeaders, body: Self.form(prompt: "p", fileBytes: 300_000))
            #expect(refused.status == .badRequest)
            let error = try refused.jsonObject()
            #expect(value(error, "error.param") as? String == "input_reference")
            #expect(value(error, "error.type") as? String == "invalid_request_error")
            #expect((value(error, "error.message") as? String)?.contains("input_reference") == true)
            // The refused body was read to its end: the connection serves the next request.
            let made = try await client.execute(uri: "/v1/videos", method: .post, headers: Self.formHeaders, body: Self.form(prompt: "after", fileBytes: nil))
            #expect(made.status == .ok)
            #expect(value(try made.jsonObject(), "prompt") as? String == "after")
        }
    }

    @Test func aReferenceImageOverTheLimitIsA400() async throws {
        try await LiveService.run { client, _ in
            // Twice --max-body-size, with its Content-Length, as the SDK sends a file.
            let body = Self.form(prompt: "p", fileBytes: 2_000_000)
            var headers = Self.formHeaders
            headers[.contentLength] = String(body.readableBytes)
            let answer = try await client.execute(uri: "/v1/videos", method: .post, headers: headers, body: body)
            let error = try answer.jsonObject()
            #expect(answer.status == .badRequest)
            #expect(value(error, "error.param") as? String == "input_reference")
        }
    }

    @Test func aFormOverTheLimitWithoutAFileIsA413() async throws {
        try await LiveService.run { client, _ in
            let big = try await client.execute(
                uri: "/v1/videos", method: .post, headers: Self.formHeaders, body: Self.form(prompt: String(repeating: "x", count: 1_100_000), fileBytes: nil))
            #expect(big.status == .contentTooLarge)
            #expect(value(try big.jsonObject(), "error.code") as? String == "body_too_large")
        }
    }

    @Test func pollAfterIsTheWaitToTheNextPlannedPoll() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        var task = MediaTask(request: .video(VideoRequest(prompt: "waves")), createdAt: now.addingTimeInterval(-30), deadline: .seconds(600))
        task.status = .processing
        task.nextAttemptAt = now.addingTimeInterval(7.25)
        #expect(Controller.pollAfter(task, now: now) == .milliseconds(7250))
        #expect(Controller.pollHeaders(task, now: now)[Controller.pollAfterField] == "7250")
        // Due now, overdue, or due within the floor: the floor, so a client never spins.
        for offset in [0, -5, 0.4] {
            task.nextAttemptAt = now.addingTimeInterval(offset)
            #expect(Controller.pollHeaders(task, now: now)[Controller.pollAfterField] == String(Controller.minimumPollAfter.millis))
        }
        task.status = .queued
        task.nextAttemptAt = now.addingTimeInterval(2)
        #expect(Controller.pollHeaders(task, now: now)[Controller.pollAfterField] == "2000")
        // A finished video is not polled again.
        task.status = .completed
        #expect(Controller.pollHeaders(task, now: now).isEmpty)
    }
}
