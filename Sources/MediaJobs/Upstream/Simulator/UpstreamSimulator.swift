import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// A stand-in for the ApiTopMix provider: the same endpoints and shapes, real WAV, PNG and MP4 media.
///
/// Tasks live in memory; media is rendered on request from the task's seed (named in its URL),
/// so nothing is stored and any number of tasks costs only their bookkeeping. Videos, slower to
/// render, are kept in a bounded cache for the several range requests a player makes.
public final class UpstreamSimulator: Sendable {
    struct MusicTask: Sendable {
        /// When it arrived, how long it takes, and its fetches (for `/_stats`: how long polling took to notice).
        var timing: SimulatorTaskTiming
        var fails: Bool
        var title: String?
        var style: String?
    }

    let settings: SimulatorSettings
    /// Which calls fail and which tasks end failed; its `seed` repeats a run.
    public let faults: SimulatorFaults
    /// How long each task takes, drawn from the same seed as `faults`.
    public let durations: SimulatorDurations
    private let tasks = Mutex<[String: MusicTask]>([:])
    /// Video tasks by id (`UpstreamSimulator+Video.swift`).
    let videoTasks = Mutex<[String: VideoTask]>([:])
    /// Videos and posters already rendered.
    let videoFiles: VideoFileCache
    let counters = SimulatorCounters()
    /// The clock tasks' progress is measured on; tests step it by hand.
    let now: @Sendable () -> ContinuousClock.Instant

    public convenience init(settings: SimulatorSettings) {
        self.init(settings: settings, now: { .now })
    }

    /// A simulator whose music and video tasks read the time from `now`.
    init(settings: SimulatorSettings, now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.settings = settings
        self.faults = SimulatorFaults(settings: settings)
        self.durations = SimulatorDurations(latency: settings.latency, spread: settings.latencySpread, seed: faults.seed)
        self.videoFiles = VideoFileCache(byteLimit: settings.videoCacheBytes)
        self.now = now
    }

    /// The simulator's routes, ready to serve.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: SimulatorGate(settings: settings, faults: faults))
        router.post("suno/submit/music", use: submitMusic)
        router.get("suno/fetch/{id}", use: fetchMusic)
        router.post("v1/images/generations", use: generateImages)
        router.post("v1/videos", use: submitVideo)
        router.get("v1/videos/{id}", use: fetchVideo)
        router.get("media/audio/{name}", use: audio)
        router.get("media/image/{name}", use: image)
        router.get("media/cover/{name}", use: cover)
        router.get("media/video/{name}", use: video)
        router.get("healthz") { _, _ in "ok" }
        router.get("_stats", use: stats)
        return router
    }

    /// Number of music tasks it holds.
    public var taskCount: Int { tasks.withLock { $0.count } }

    // MARK: Music

    @Sendable func submitMusic(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let input = try? JSONDecoder().decode(MusicRequest.self, from: body), !input.prompt.isEmpty else {
            return Self.json(["code": .number(400), "message": .string("prompt is required")], status: .badRequest)
        }
        let id = "sim_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        counters.submits.add(1, ordering: .relaxed)
        let timing = SimulatorTaskTiming(createdAt: now(), duration: durations.next())
        let task = MusicTask(timing: timing, fails: faults.nextTaskFails(), title: input.title, style: input.style)
        tasks.withLock { $0[id] = task }
        return Self.json(["code": .number(200), "message": .string("success"), "data": .object(["task_id": .string(id)])])
    }

    @Sendable func fetchMusic(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        counters.fetches.add(1, ordering: .relaxed)
        let now = self.now()
        let fetched = tasks.withLock { tasks -> (task: MusicTask, elapsed: Duration)? in
            guard let elapsed = tasks[id]?.timing.fetch(at: now), let task = tasks[id] else { return nil }
            return (task, elapsed)
        }
        guard case let (task, elapsed)? = fetched else {
            return Self.json(["code": .number(404), "message": .string("task not found")], status: .notFound)
        }
        var data: [String: JSONValue] = ["task_id": .string(id)]
        if !task.timing.isFinished(after: elapsed) {
            let percent = task.timing.percent(after: elapsed)
            data["status"] = .string(percent < 10 ? "queued" : "processing")
            if settings.reportsProgress { data["progress"] = .string("\(percent)%") }
            data["tracks"] = .array([])
        } else if task.fails {
            data["status"] = .string("failed")
            data["fail_reason"] = .string("the simulated model could not compose this track")
        } else {
            let base = Self.baseURL(of: request)
            let duration = settings.trackDuration.timeInterval
            data["status"] = .string("completed")
            data["progress"] = .string("100%")
            data["tracks"] = .array(
                (0..<settings.tracksPerTask).map { index in
                    .object([
                        "title": .string(task.title ?? "Untitled \(index + 1)"),
                        "audio_url": .string("\(base)/media/audio/\(id)-\(index).wav"),
                        "image_url": .string("\(base)/media/cover/\(id)-\(index).png"),
                        "duration": .number(duration),
                        "style": task.style.map(JSONValue.string) ?? .null,
                    ])
                })
        }
        return Self.json(["code": .number(200), "message": .string("success"), "data": .object(data)])
    }

    // MARK: Images

    @Sendable func generateImages(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let input = try? JSONDecoder().decode(ImageGenerationAnswerInput.self, from: body), !input.prompt.isEmpty else {
            return Self.openAIError(status: .badRequest, message: "prompt is required", type: "invalid_request_error")
        }
        // Decided on arrival, before the wait: "the first N tasks" counts in the order calls came in.
        let fails = faults.nextTaskFails()
        try await Task.sleep(for: durations.next())
        if fails {
            return Self.openAIError(status: .badRequest, message: "the simulated model declined to draw this prompt", type: "invalid_request_error", code: "generation_failed")
        }
        let size = input.size.flatMap(ImageSize.init(parsing:)) ?? input.imageSize.flatMap(ImageSize.init(resolution:)) ?? ImageSize(width: 1024, height: 1024)
        let base = Self.baseURL(of: request)
        let id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let items = (0..<max(1, min(input.n ?? 1, 10))).map { index in
            JSONValue.object(["url": .string("\(base)/media/image/\(id)-\(index)-\(size).png")])
        }
        return Self.json(["created": .number(Date().timeIntervalSince1970.rounded(.down)), "data": .array(items)])
    }

    // MARK: Media

    @Sendable func audio(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard name.hasSuffix(".wav") else { throw HTTPError(.notFound) }
        counters.mediaDownloads.add(1, ordering: .relaxed)
        let bytes = WAVEncoder.melody(seed: Self.seed(name), seconds: settings.trackDuration.timeInterval)
        return Self.media(bytes, contentType: "audio/wav")
    }

    @Sendable func image(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        // `<id>-<index>-<W>x<H>.png`
        guard name.hasSuffix(".png"), let sizeText = name.dropLast(4).split(separator: "-").last,
            let size = ImageSize(parsing: String(sizeText))
        else { throw HTTPError(.notFound) }
        return Self.media(PNGEncoder.image(width: size.width, height: size.height, seed: Self.seed(name)), contentType: "image/png")
    }

    /// A music track's cover art: `<task id>-<track index>.png`, square, seeded by the name.
    @Sendable func cover(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard name.hasSuffix(".png"), name.count > 4 else { throw HTTPError(.notFound) }
        counters.mediaDownloads.add(1, ordering: .relaxed)
        return Self.media(CoverArt.png(seed: Self.seed(name)), contentType: "image/png")
    }

    // MARK: Counters

    /// `GET /_stats`: call counters, so a benchmark can sample polls per second, and the faults
    /// injected so far (`injected_errors` per kind of call, `failed_tasks`), so a test can check them. With
    /// `?completions=1` it also lists, per music and video task by its id, when it was submitted, when it
    /// finished (submitted + its duration), when a fetch first reported that, and how many fetches
    /// that took (`{"kind": "music"|"video", "submitted": ms, "done": ms, "seen": ms|null, "polls": n,
    /// "fetches": m}`, Unix milliseconds; see `SimulatorTaskTiming.completion`).
    @Sendable func stats(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var body: [String: JSONValue] = [
            "submits": .number(Double(counters.submits.load(ordering: .relaxed))),
            "fetches": .number(Double(counters.fetches.load(ordering: .relaxed))),
            "media_downloads": .number(Double(counters.mediaDownloads.load(ordering: .relaxed))),
            "tasks": .number(Double(taskCount)),
            "video_submits": .number(Double(counters.videoSubmits.load(ordering: .relaxed))),
            "video_fetches": .number(Double(counters.videoFetches.load(ordering: .relaxed))),
            "video_tasks": .number(Double(videoTasks.withLock { $0.count })),
            "injected_errors": .object(
                Dictionary(uniqueKeysWithValues: SimulatorCallKind.allCases.map { ($0.rawValue, JSONValue.number(Double(faults.injectedErrors[$0, default: 0]))) })),
            "failed_tasks": .number(Double(faults.failedTasks)),
        ]
        if request.uri.queryParameters["completions"] == "1" {
            var completions = tasks.withLock { tasks in tasks.mapValues { $0.timing.completion(kind: "music") } }
            for (id, task) in videoTasks.withLock({ $0 }) {
                completions[id] = task.timing.completion(kind: "video")
            }
            body["completions"] = .object(completions)
        }
        return Self.json(body)
    }

    // MARK: Helpers

    /// FNV-1a of the name: the same URL always renders the same bytes.
    static func seed(_ name: String) -> UInt64 {
        name.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 }
    }

    /// `http://<Host header>`, so media URLs point back at whatever address the caller used.
    static func baseURL(of request: Request) -> String {
        "http://\(request.head.authority ?? "127.0.0.1")"
    }

    static func media(_ bytes: [UInt8], contentType: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .contentLength: "\(bytes.count)"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ value: [String: JSONValue], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    static func openAIError(status: HTTPResponse.Status, message: String, type: String, code: String? = nil) -> Response {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["code"] = code.map(JSONValue.string) ?? .null
        return json(["error": .object(error)], status: status)
    }
}

/// Authentication and injected transient errors, in front of every simulator route.
struct SimulatorGate: RouterMiddleware {
    let settings: SimulatorSettings
    let faults: SimulatorFaults

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        // The benchmark counters are neither authenticated nor subject to injected errors.
        if request.uri.path == "/_stats" { return try await next(request, context) }
        let isMedia = request.uri.path.hasPrefix("/media/")
        if let key = settings.apiKey, !isMedia, request.headers[.authorization] != "Bearer \(key.value)" {
            return UpstreamSimulator.openAIError(status: .unauthorized, message: "Invalid API key provided.", type: "authentication_error", code: "invalid_api_key")
        }
        if let kind = SimulatorCallKind(method: request.method.rawValue, path: request.uri.path), faults.rejectsCall(kind) {
            var response = UpstreamSimulator.openAIError(status: .serviceUnavailable, message: "simulated overload", type: "service_unavailable")
            response.headers[.retryAfter] = "1"
            return response
        }
        return try await next(request, context)
    }
}

/// What the simulator has served, for `GET /_stats`.
final class SimulatorCounters: Sendable {
    let submits = Atomic<Int>(0)
    let fetches = Atomic<Int>(0)
    let mediaDownloads = Atomic<Int>(0)
    let videoSubmits = Atomic<Int>(0)
    let videoFetches = Atomic<Int>(0)
}

struct ImageGenerationAnswerInput: Decodable {
    var prompt: String
    var n: Int?
    var size: String?
    var imageSize: String?
    enum CodingKeys: String, CodingKey {
        case prompt, n, size
        case imageSize = "image_size"
    }
}
