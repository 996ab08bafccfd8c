import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing

@testable import MediaJobs

/// The video half of the adapter: `POST /v1/videos` and `GET /v1/videos/{id}` against the simulator and a scripted provider.
@Suite struct ApiTopMixVideoTests {
    @Test func videoRoundTripAgainstTheSimulator() async throws {
        var settings = SimulatorSettings()
        settings.latency = .seconds(1)
        settings.apiKey = Redacted("sk-test")
        try await ApiTopMixClientTests.withClient(router: UpstreamSimulator(settings: settings).router()) { client in
            let request = VideoRequest(prompt: "waves", seconds: 2, resolution: .p480, aspectRatio: .square)
            let submission = try await client.submit(ApiTopMixClientTests.task(.video(request)))
            guard case .accepted(let upstreamID) = submission else {
                Issue.record("expected accepted, got \(submission)")
                return
            }
            var seen: [Int] = []
            var progress = try await client.poll(kind: .video, upstreamID: upstreamID)
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while case .pending(let percent) = progress, ContinuousClock.now < deadline {
                if let percent { seen.append(percent) }
                try await Task.sleep(for: .milliseconds(20))
                progress = try await client.poll(kind: .video, upstreamID: upstreamID)
            }
            guard case .completed(let outputs) = progress else {
                Issue.record("expected completed, got \(progress)")
                return
            }
            // Whatever "NN%" answers the polls caught (how many depends on the machine's speed; the
            // scripted provider below checks the reading exactly): percentages, never going back.
            #expect(seen == seen.sorted())
            #expect(seen.allSatisfy { (0...99).contains($0) })
            #expect(outputs.count == 2)
            #expect(outputs[0].url.hasSuffix(".mp4"))
            #expect(outputs[0].url.contains("480x480"))
            #expect(outputs[1].url.hasSuffix(".png"))
        }
    }

    @Test func submitSendsTheProvidersFields() async throws {
        let router = Router()
        router.post("v1/videos") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 16)
            let fields = try JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: body))
            // Echo what arrived in the id, so the test reads it back.
            let echo = ["model", "prompt", "duration", "resolution", "aspect_ratio"].map { key in
                switch fields[key] {
                case .string(let text)?: text
                case .number(let number)?: String(Int(number))
                default: "-"
                }
            }.joined(separator: "|")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"id":"\#(echo)","object":"video","status":"queued"}"#)))
        }
        try await ApiTopMixClientTests.withClient(router: router) { client in
            let request = try VideoRequest.mapping(model: "grok-video-3", prompt: "p", seconds: "12", size: "720x1280", duration: nil, resolution: nil, aspectRatio: nil)
            let submission = try await client.submit(ApiTopMixClientTests.task(.video(request)))
            #expect(submission == .accepted(upstreamID: "grok-video-3|p|12|720p|9:16"))
        }
    }

    /// A provider that answers each video id with a canned poll answer.
    static func scriptedProvider() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("v1/videos/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
                Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            switch id {
            case "queued": return json(#"{"code":"success","data":{"status":"QUEUED","progress":"0%"}}"#)
            case "one": return json(#"{"code":"success","data":{"status":"IN_PROGRESS","progress":"1%"}}"#)
            case "blank": return json(#"{"code":"success","data":{"status":"IN_PROGRESS","progress":""}}"#)
            case "wordy": return json(#"{"code":"success","data":{"status":"IN_PROGRESS","progress":"rendering"}}"#)
            case "nullprogress": return json(#"{"code":"success","data":{"status":"QUEUED","progress":null}}"#)
            case "blankdone": return json(#"{"code":"success","data":{"status":"SUCCESS","progress":"","data":{"output":"http://cdn/b.mp4"}}}"#)
            case "odd": return json(#"{"code":"success","data":{"status":"SUCCEEDED_MAYBE","progress":"55%"}}"#)
            case "done": return json(#"{"code":"success","data":{"status":"SUCCESS","progress":"100%","data":{"output":"http://cdn/v.mp4"}}}"#)
            case "poster":
                return json(#"{"code":"success","data":{"status":"SUCCESS","progress":"100%","data":{"output":"http://cdn/v.mp4","thumbnail":"http://cdn/v.png"}}}"#)
            case "flat": return json(#"{"status":"SUCCESS","progress":"100%","data":{"output":"http://cdn/flat.mp4"}}"#)
            case "nooutput": return json(#"{"code":"success","data":{"status":"SUCCESS","progress":"100%","data":{}}}"#)
            case "failed": return json(#"{"code":"success","data":{"status":"FAILURE","progress":"100%","fail_reason":"content policy"}}"#)
            case "failednoreason": return json(#"{"code":"success","data":{"status":"FAILURE","fail_reason":""}}"#)
            case "limited": return json(#"{"error":{"message":"slow down"}}"#, .tooManyRequests)
            default: return json(#"{"error":{"message":"no such task"}}"#, .notFound)
            }
        }
        return router
    }

    @Test func pollAnswersMapToProgressCompletionAndFailure() async throws {
        try await ApiTopMixClientTests.withClient(router: Self.scriptedProvider()) { client in
            func outcome(_ id: String) async -> Result<UpstreamProgress, UpstreamError> {
                do { return .success(try await client.poll(kind: .video, upstreamID: id)) } catch { return .failure(error) }
            }
            #expect(await outcome("queued") == .success(.pending(progress: 0)))
            // "1%" is one percent, not a fraction meaning all of it.
            #expect(await outcome("one") == .success(.pending(progress: 1)))
            // A progress that is no number is no progress figure, not an error: the task is still running.
            #expect(await outcome("blank") == .success(.pending(progress: nil)))
            #expect(await outcome("wordy") == .success(.pending(progress: nil)))
            #expect(await outcome("nullprogress") == .success(.pending(progress: nil)))
            #expect(await outcome("blankdone") == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/b.mp4")])))
            // Neither SUCCESS nor FAILURE: still running, never success.
            #expect(await outcome("odd") == .success(.pending(progress: 55)))
            #expect(await outcome("done") == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/v.mp4")])))
            #expect(await outcome("poster") == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/v.mp4"), UpstreamOutput(url: "http://cdn/v.png")])))
            #expect(await outcome("flat") == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/flat.mp4")])))
            guard case .failure(let missing) = await outcome("nooutput") else { Issue.record("SUCCESS without output must not succeed"); return }
            #expect(missing.isRetryable)
            #expect(await outcome("failed") == .success(.failed(reason: "content policy")))
            #expect(await outcome("failednoreason") == .success(.failed(reason: "the upstream provider reported a failure")))
            #expect(await outcome("limited") == .failure(.rateLimited(retryAfter: nil)))
            guard case .failure(let unknown) = await outcome("nosuch") else { Issue.record("404 must fail"); return }
            #expect(!unknown.isRetryable)
        }
    }
}
