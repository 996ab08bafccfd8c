import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import MediaJobs

/// The adapter against the simulator and against a scripted provider for the edge cases.
@Suite struct ApiTopMixClientTests {
    static func withClient(
        router: Router<BasicRequestContext>, _ body: @Sendable (ApiTopMixClient) async throws -> Void
    ) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { testClient in
            let port = try #require(testClient.port)
            let client = ApiTopMixClient(
                configuration: .init(baseURL: "http://127.0.0.1:\(port)", apiKey: "sk-test", callTimeout: .seconds(5)),
                httpClient: HTTPClient.shared, logger: Logger(label: "test"))
            try await body(client)
        }
    }

    static func task(_ request: TaskRequest) -> MediaTask {
        MediaTask(request: request, deadline: .seconds(60))
    }

    @Test func musicRoundTripAgainstTheSimulator() async throws {
        var settings = SimulatorSettings()
        settings.latency = .milliseconds(50)
        settings.apiKey = Redacted("sk-test")
        try await Self.withClient(router: UpstreamSimulator(settings: settings).router()) { client in
            let submission = try await client.submit(Self.task(.music(MusicRequest(prompt: "rain", title: "Rain"))))
            guard case .accepted(let upstreamID) = submission else {
                Issue.record("expected accepted, got \(submission)")
                return
            }
            var progress = try await client.poll(kind: .music, upstreamID: upstreamID)
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while case .pending = progress, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                progress = try await client.poll(kind: .music, upstreamID: upstreamID)
            }
            guard case .completed(let outputs) = progress else {
                Issue.record("expected completed, got \(progress)")
                return
            }
            #expect(outputs.count == 2)
            #expect(outputs.allSatisfy { $0.url.hasSuffix(".wav") && $0.title == "Rain" && $0.duration == 10 })
        }
    }

    /// Plain ids go into the path as they are; any other is encoded as Foundation encodes a path
    /// segment (a `/` included, so an id never reaches another endpoint).
    @Test func providerIDsArePathSegments() {
        let foundation = { (id: String) in id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id }
        for id in ["suno_01abcXYZ", "a-b_c.d~e", "video_123"] {
            #expect(ApiTopMixClient.pathSegment(id) == id)
        }
        for id in ["../admin", "a/b", "a b", "ä", "a?b=c", "a#b", "a%2F", ""] {
            #expect(ApiTopMixClient.pathSegment(id) == foundation(id))
        }
        #expect(ApiTopMixClient.pathSegment("../admin") == "..%2Fadmin")
    }

    @Test func imagesAreSynchronous() async throws {
        var settings = SimulatorSettings()
        settings.latency = .zero
        try await Self.withClient(router: UpstreamSimulator(settings: settings).router()) { client in
            let submission = try await client.submit(Self.task(.image(ImageRequest(model: "nano-banana-2", prompt: "cat", count: 3, size: ImageSize(width: 64, height: 64)))))
            guard case .finished(_, let outputs) = submission else {
                Issue.record("expected finished, got \(submission)")
                return
            }
            #expect(outputs.count == 3)
            #expect(outputs.allSatisfy { $0.url.hasSuffix("64x64.png") })
        }
    }

    @Test func wrongKeyIsARejectionNotARetry() async throws {
        var settings = SimulatorSettings()
        settings.apiKey = Redacted("sk-other")
        try await Self.withClient(router: UpstreamSimulator(settings: settings).router()) { client in
            do throws(UpstreamError) {
                _ = try await client.submit(Self.task(.music(MusicRequest(prompt: "x"))))
                Issue.record("a wrong key must be refused")
            } catch {
                guard case .rejected(let status, _) = error else { Issue.record("got \(error)"); return }
                #expect(status == 401)
                #expect(!error.isRetryable)
            }
        }
    }

    /// A provider that answers each fetch id with a canned response.
    static func scriptedProvider() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("suno/fetch/{id}") { _, context -> Response in
            let id = try context.parameters.require("id")
            func json(_ text: String, _ status: HTTPResponse.Status = .ok, _ headers: HTTPFields = [:]) -> Response {
                var fields = headers
                fields[.contentType] = "application/json"
                return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            switch id {
            case "limited": return json(#"{"error":{"message":"slow down"}}"#, .tooManyRequests, [.retryAfter: "7"])
            case "reset": return json(#"{"error":{}}"#, .tooManyRequests, [HTTPField.Name("x-ratelimit-reset-requests")!: "1m30s"])
            case "down": return json("oops", .badGateway)
            case "bad": return json(#"{"error":{"message":"no such task"}}"#, .notFound)
            case "garbage": return json("<html>")
            case "mystery": return json(#"{"code":200,"data":{"status":"PONDERING","progress":"40%"}}"#)
            case "upper": return json(#"{"code":200,"data":{"status":"SUCCESS","tracks":[{"audio_url":"http://cdn/x.mp3","duration":"12"}]}}"#)
            case "empty": return json(#"{"code":200,"data":{"status":"completed","tracks":[{"audio_url":""}]}}"#)
            case "failed": return json(#"{"code":200,"data":{"status":"FAILURE","fail_reason":"policy"}}"#)
            case "huge":
                let padding = String(repeating: "x", count: ApiTopMixClient.maxResponseBytes)
                return json(#"{"code":200,"data":{"status":"processing","padding":"\#(padding)"}}"#)
            case "slow":
                slowCallStarted.signal()
                try? await Task.sleep(for: .seconds(5))
                return json(#"{"code":200,"data":{"status":"processing"}}"#)
            default: return json("{}", .notFound)
            }
        }
        return router
    }

    /// What polling `id` gives: the progress or the error.
    static func outcome(_ client: ApiTopMixClient, _ id: String) async -> Result<UpstreamProgress, UpstreamError> {
        do throws(UpstreamError) { return .success(try await client.poll(kind: .music, upstreamID: id)) } catch { return .failure(error) }
    }

    @Test func providerAnswersMapToRetryableOrFinalErrors() async throws {
        try await Self.withClient(router: Self.scriptedProvider()) { client in
            func outcome(_ id: String) async -> Result<UpstreamProgress, UpstreamError> { await Self.outcome(client, id) }
            #expect(await outcome("limited") == .failure(.rateLimited(retryAfter: .seconds(7))))
            #expect(await outcome("reset") == .failure(.rateLimited(retryAfter: .seconds(90))))
            #expect(await outcome("down") == .failure(.unavailable(status: 502, retryAfter: nil)))
            guard case .failure(let rejected) = await outcome("bad") else { Issue.record("404 must fail"); return }
            #expect(!rejected.isRetryable)
            guard case .failure(let garbage) = await outcome("garbage") else { Issue.record("garbage must fail"); return }
            #expect(garbage.isRetryable)
            // A status word we do not know is never success.
            #expect(await outcome("mystery") == .success(.pending(progress: 40)))
            guard case .success(.completed(let outputs)) = await outcome("upper") else { Issue.record("SUCCESS is completed"); return }
            #expect(outputs.first?.url == "http://cdn/x.mp3")
            guard case .failure(let empty) = await outcome("empty") else { Issue.record("completed without URLs must not succeed"); return }
            #expect(empty.isRetryable)
            #expect(await outcome("failed") == .success(.failed(reason: "policy")))
        }
    }

    /// Signalled when the scripted provider's `slow` fetch has arrived.
    static let slowCallStarted = WorkSignal()

    @Test func anAnswerOverTheLimitIsNotReadWhole() async throws {
        try await Self.withClient(router: Self.scriptedProvider()) { client in
            let outcome = await Self.outcome(client, "huge")
            guard case .failure(let error) = outcome, case .transport = error else { Issue.record("expected a transport error, got \(outcome)"); return }
            #expect(error.isRetryable)
        }
    }

    /// A step stopped (shutdown, a lost lease) stops its provider call at once rather than at the call's timeout.
    @Test func cancellingTheCallerCancelsTheCall() async throws {
        try await Self.withClient(router: Self.scriptedProvider()) { client in
            let call = Task { await Self.outcome(client, "slow") }
            await Self.slowCallStarted.wait(timeout: .seconds(30))
            call.cancel()
            guard case .failure(.transport(let message)) = await call.value else { Issue.record("expected a cancelled call"); return }
            #expect(message.lowercased().contains("cancel"), "\(message)")
        }
    }

    @Test func unreachableProviderIsATransportError() async throws {
        let client = ApiTopMixClient(
            configuration: .init(baseURL: "http://127.0.0.1:1", callTimeout: .seconds(2)), httpClient: HTTPClient.shared, logger: Logger(label: "test"))
        let outcome = await Self.outcome(client, "x")
        guard case .failure(.transport) = outcome else { Issue.record("expected a transport error, got \(outcome)"); return }
    }
}
