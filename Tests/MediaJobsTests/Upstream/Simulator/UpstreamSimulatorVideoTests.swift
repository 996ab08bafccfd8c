import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import MediaJobs

/// The simulator's video API as the provider documents it, its MP4 and poster downloads, and music cover art.
@Suite struct UpstreamSimulatorVideoTests {
    static func settings(_ configure: (inout SimulatorSettings) -> Void = { _ in }) -> SimulatorSettings {
        var settings = SimulatorSettings()
        settings.latency = .zero
        settings.seed = 1
        configure(&settings)
        return settings
    }

    static func withSimulator(_ settings: SimulatorSettings, _ body: @Sendable (any TestClientProtocol, UpstreamSimulator) async throws -> Void) async throws {
        let simulator = UpstreamSimulator(settings: settings)
        try await Application(router: simulator.router()).test(.router) { client in try await body(client, simulator) }
    }

    static let body = #"{"model":"grok-video-3","prompt":"a cat watching fish","duration":3,"resolution":"480p","aspect_ratio":"9:16"}"#

    /// The path of a simulator media URL (`http://host/media/…`).
    static func path(_ url: String) throws -> String {
        try #require(URL(string: url)?.path)
    }

    @Test func aSubmittedVideoSucceedsWithAPlayableMP4AndAPoster() async throws {
        try await Self.withSimulator(Self.settings()) { client, _ in
            let submitted = try await client.post("/v1/videos", json: Self.body)
            #expect(submitted.status == .ok)
            let answer = try submitted.jsonObject()
            let id = try #require(answer["id"] as? String)
            #expect(id.hasPrefix("task_"))
            #expect(answer["object"] as? String == "video" && answer["status"] as? String == "queued")

            let polled = try await client.get("/v1/videos/\(id)").jsonObject()
            #expect(polled["code"] as? String == "success")
            #expect(value(polled, "data.status") as? String == "SUCCESS")
            #expect(value(polled, "data.progress") as? String == "100%")
            #expect(value(polled, "data.task_id") as? String == id)
            let output = try #require(value(polled, "data.data.output") as? String)
            #expect(output.hasSuffix("/media/video/\(id)-480x854-3s.mp4"))

            let video = try await client.get(try Self.path(output))
            #expect(video.status == .ok)
            #expect(video.headers[.contentType] == "video/mp4")
            #expect(video.headers[.acceptRanges] == "bytes")
            #expect(video.headers[.contentLength] == "\(video.bytes.count)")
            #expect(video.bytes == VideoEncoder.mp4(width: 480, height: 854, seconds: 3, seed: UpstreamSimulator.seed(id)))

            let poster = try #require(value(polled, "data.data.thumbnail") as? String)
            let image = try await client.get(try Self.path(poster))
            #expect(image.status == .ok && image.headers[.contentType] == "image/png")
            #expect(Array(image.bytes.prefix(8)) == PNGEncoder.signature)
        }
    }

    @Test func videoDownloadsServeRanges() async throws {
        try await Self.withSimulator(Self.settings()) { client, simulator in
            let path = "/media/video/task_ranges-320x180-2s.mp4"
            let whole = try await client.get(path).bytes
            #expect(whole.count > 1_000)
            let middle = try await client.get(path, headers: [.range: "bytes=100-199"])
            #expect(middle.status == .partialContent)
            #expect(middle.bytes == Array(whole[100...199]))
            #expect(middle.headers[.contentRange] == "bytes 100-199/\(whole.count)")
            let tail = try await client.get(path, headers: [.range: "bytes=-10"])
            #expect(tail.status == .partialContent && tail.bytes == Array(whole.suffix(10)))
            let outside = try await client.get(path, headers: [.range: "bytes=\(whole.count)-"])
            #expect(outside.status == .rangeNotSatisfiable)
            #expect(outside.headers[.contentRange] == "bytes */\(whole.count)")
            // Rendered once, then served from the cache.
            #expect(simulator.videoFiles.names == ["task_ranges-320x180-2s.mp4"])
        }
    }

    @Test(arguments: ["task_x-321x180-2s.mp4", "task_x-320x180-0s.mp4", "task_x-320x180-61s.mp4", "task_x-4000x180-2s.mp4", "task_x-320x180.mp4", "task_x-320x180-2s.avi", "-320x180-2s.mp4"])
    func malformedVideoNamesAreNotFound(name: String) async throws {
        try await Self.withSimulator(Self.settings()) { client, _ in
            let status = try await client.get("/media/video/\(name)").status
            #expect(status == .notFound)
        }
    }

    @Test func progressGrowsWithTimeUntilSuccess() async throws {
        let clock = SteppedClock()
        let simulator = UpstreamSimulator(settings: Self.settings { $0.latency = .seconds(10) }, now: { clock.now })
        try await Application(router: simulator.router()).test(.router) { client in
            let id = try #require(try await client.post("/v1/videos", json: Self.body).jsonObject()["id"] as? String)
            var answers: [(status: String?, progress: String?, output: Any?)] = []
            for step: Duration in [.zero, .milliseconds(900), .seconds(4), .seconds(5), .milliseconds(99), .milliseconds(1), .seconds(60)] {
                clock.advance(by: step)
                let answer = try await client.get("/v1/videos/\(id)").jsonObject()
                answers.append((value(answer, "data.status") as? String, value(answer, "data.progress") as? String, value(answer, "data.data.output")))
            }
            #expect(answers.map(\.status) == ["QUEUED", "QUEUED", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "SUCCESS", "SUCCESS"])
            #expect(answers.map(\.progress) == ["0%", "9%", "49%", "99%", "99%", "100%", "100%"])
            #expect(answers.prefix(5).allSatisfy { $0.output == nil })
            #expect(answers.suffix(2).allSatisfy { $0.output is String })
        }
    }

    @Test func theFirstTasksFailWithAReason() async throws {
        try await Self.withSimulator(Self.settings { $0.failFirstTasks = 1 }) { client, simulator in
            var outcomes: [String] = []
            for _ in 0..<2 {
                let id = try #require(try await client.post("/v1/videos", json: Self.body).jsonObject()["id"] as? String)
                let answer = try await client.get("/v1/videos/\(id)").jsonObject()
                outcomes.append(value(answer, "data.status") as? String ?? "?")
                if outcomes.last == "FAILURE" {
                    #expect((value(answer, "data.fail_reason") as? String)?.isEmpty == false)
                    #expect(value(answer, "data.data") == nil)
                }
            }
            #expect(outcomes == ["FAILURE", "SUCCESS"])
            #expect(simulator.faults.failedTasks == 1)
        }
    }

    @Test func injectedErrorsAndAuthenticationCoverTheVideoRoutes() async throws {
        let settings = Self.settings {
            $0.failFirst = [.video: 1, .videoFetch: 1]
            $0.apiKey = Redacted("sim-key")
        }
        try await Self.withSimulator(settings) { client, _ in
            let auth: HTTPFields = [.authorization: "Bearer sim-key"]
            #expect(try await client.post("/v1/videos", json: Self.body).status == .unauthorized)
            let refused = try await client.post("/v1/videos", json: Self.body, headers: auth)
            #expect(refused.status == .serviceUnavailable && refused.headers[.retryAfter] == "1")
            let id = try #require(try await client.post("/v1/videos", json: Self.body, headers: auth).jsonObject()["id"] as? String)
            #expect(try await client.get("/v1/videos/\(id)").status == .unauthorized)
            #expect(try await client.get("/v1/videos/\(id)", headers: auth).status == .serviceUnavailable)
            let answer = try await client.get("/v1/videos/\(id)", headers: auth).jsonObject()
            let output = try #require(value(answer, "data.data.output") as? String)
            // Media URLs need no key, as the provider's download links do not.
            #expect(try await client.get(try Self.path(output)).status == .ok)
            let stats = try await client.get("/_stats").jsonObject()
            #expect(value(stats, "injected_errors.video") as? Int == 1)
            #expect(value(stats, "injected_errors.video_fetch") as? Int == 1)
            #expect(value(stats, "video_submits") as? Int == 1)
            #expect(value(stats, "video_tasks") as? Int == 1)
        }
    }

    @Test func anUnknownTaskIsNotFound() async throws {
        try await Self.withSimulator(Self.settings()) { client, _ in
            let response = try await client.get("/v1/videos/task_nope")
            #expect(response.status == .notFound)
            #expect(value(try response.jsonObject(), "error.type") as? String == "not_found_error")
        }
    }

    @Test(arguments: [
        (#"{"prompt":"x"}"#, "missing_parameter"),
        (#"{"model":"sora-2","prompt":"x"}"#, "model_not_found"),
        (#"{"model":"grok-video-3"}"#, "missing_parameter"),
        (#"{"model":"grok-video-3","prompt":"  "}"#, "missing_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","duration":0}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","duration":16}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","duration":4.5}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","duration":"soon"}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","resolution":"1080p"}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","aspect_ratio":"4:3"}"#, "invalid_parameter"),
        (#"{"model":"grok-video-3","prompt":"x","aspect_ratio":1}"#, "invalid_parameter"),
        (#"not json"#, "invalid_json"),
        (#"["a"]"#, "invalid_json"),
    ])
    func badSubmissionsAreRefusedWith400(body: String, code: String) async throws {
        try await Self.withSimulator(Self.settings()) { client, simulator in
            let response = try await client.post("/v1/videos", json: body)
            #expect(response.status == .badRequest)
            let answer = try response.jsonObject()
            #expect(value(answer, "error.type") as? String == "invalid_request_error")
            #expect(value(answer, "error.code") as? String == code)
            #expect((value(answer, "error.message") as? String)?.isEmpty == false)
            #expect(simulator.videoTasks.withLock { $0.isEmpty })
        }
    }

    @Test func musicTracksLinkSquarePNGCoverArtOfTheirOwn() async throws {
        try await Self.withSimulator(Self.settings()) { client, _ in
            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"rain","make_instrumental":false}"#).jsonObject()
            let id = try #require(value(submitted, "data.task_id") as? String)
            let fetched = try await client.get("/suno/fetch/\(id)").jsonObject()
            let tracks = try #require(value(fetched, "data.tracks") as? [[String: Any]])
            let covers = try tracks.map { try #require($0["image_url"] as? String) }
            #expect(covers.count == 2 && Set(covers).count == 2)
            var images: [[UInt8]] = []
            for cover in covers {
                #expect(cover.hasSuffix(".png") && cover.contains("/media/cover/\(id)-"))
                let response = try await client.get(try Self.path(cover))
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
                images.append(response.bytes)
            }
            for image in images {
                #expect(Array(image.prefix(8)) == PNGEncoder.signature)
                // IHDR: width and height right after the chunk header.
                #expect(TestMP4Box.readU32(image, 16) == UInt32(CoverArt.side) && TestMP4Box.readU32(image, 20) == UInt32(CoverArt.side))
            }
            #expect(images[0] != images[1])
            // The same URL renders the same picture.
            #expect(try await client.get(try Self.path(covers[0])).bytes == images[0])
        }
    }
}

/// A clock the test moves by hand, so progress is measured at exact instants.
private final class SteppedClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(by duration: Duration) {
        instant.withLock { $0 = $0.advanced(by: duration) }
    }
}
