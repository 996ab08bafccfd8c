import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The ``UpstreamClient`` for ApiTopMix (reference/apitopmix-api.txt): Suno music, OpenAI-style images, and videos.
public struct ApiTopMixClient: UpstreamClient {
    /// Where and how to reach the provider.
    public struct Configuration: Sendable {
        /// e.g. `https://apitopmix.com`; endpoint paths are appended to it. Late-bound so the
        /// in-process simulator can report the port it bound.
        public var baseURL: LateValue<String>
        public var apiKey: Redacted?
        /// Deadline of one call (connect, send, answer).
        public var callTimeout: Duration
        /// Image generation is synchronous upstream and takes longer than a submit.
        public var imageCallTimeout: Duration
        /// Calls in flight at once to this provider.
        public var maxConcurrentCalls: Int

        public init(
            baseURL: String, apiKey: String? = nil, callTimeout: Duration = .seconds(30),
            imageCallTimeout: Duration = .seconds(180), maxConcurrentCalls: Int = 16
        ) {
            let late = LateValue<String>()
            late.set(baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL)
            self.init(baseURL: late, apiKey: apiKey, callTimeout: callTimeout, imageCallTimeout: imageCallTimeout, maxConcurrentCalls: maxConcurrentCalls)
        }

        /// A provider whose address is known only once it runs.
        public init(
            baseURL: LateValue<String>, apiKey: String? = nil, callTimeout: Duration = .seconds(30),
            imageCallTimeout: Duration = .seconds(180), maxConcurrentCalls: Int = 16
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey.map(Redacted.init)
            self.callTimeout = callTimeout
            self.imageCallTimeout = imageCallTimeout
            self.maxConcurrentCalls = maxConcurrentCalls
        }
    }

    /// Answers are small JSON documents; anything bigger is not one of them.
    static let maxResponseBytes = 4 * 1024 * 1024

    private let configuration: Configuration
    private let httpClient: HTTPClient
    /// The polls' own connections (``PollConnectionPool`` says why not `httpClient`).
    private let polls: PollConnectionPool
    private let limiter: ConcurrencyLimiter
    private let logger: Logger

    /// `pollLoop`: the event loop of the poll connections, best the one the poll worker's steps
    /// run on (a call from another thread hops to it).
    public init(
        configuration: Configuration, httpClient: HTTPClient, pollLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.polls = PollConnectionPool(
            baseURL: configuration.baseURL, headers: Self.headers(apiKey: configuration.apiKey, hasBody: false),
            settings: .init(maxAnswerBytes: Self.maxResponseBytes), eventLoop: pollLoop)
        self.limiter = ConcurrencyLimiter(limit: configuration.maxConcurrentCalls)
        self.logger = logger
    }

    /// Closes the poll connections (the HTTP client's owner shuts that down).
    public func shutdown() async {
        await polls.shutdown()
    }

    public func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission {
        switch task.request {
        case .music(let music):
            let answer = try await call(.POST, "/suno/submit/music", body: music, timeout: configuration.callTimeout, as: SunoEnvelope<SunoSubmitData>.self)
            guard let taskID = answer.data?.taskID, !taskID.isEmpty else {
                throw .invalidResponse("submit answer has no data.task_id")
            }
            return .accepted(upstreamID: taskID)
        case .image(let image):
            let body = ImageGenerationBody(model: image.model, prompt: image.prompt, n: image.count, size: image.size?.description, imageSize: image.imageSize)
            let answer = try await call(.POST, "/v1/images/generations", body: body, timeout: configuration.imageCallTimeout, as: ImageGenerationAnswer.self)
            let urls = answer.data.compactMap(\.url).filter { !$0.isEmpty }
            guard !urls.isEmpty, urls.count == answer.data.count else {
                throw .invalidResponse("image answer lacks data[].url")
            }
            return .finished(upstreamID: "created-\(answer.created ?? 0)", outputs: urls.map { UpstreamOutput(url: $0) })
        case .video(let video):
            let body = VideoSubmitBody(video)
            let answer = try await call(.POST, "/v1/videos", body: body, timeout: configuration.callTimeout, as: VideoSubmitAnswer.self)
            guard let id = answer.id ?? answer.taskID, !id.isEmpty else { throw .invalidResponse("video submit answer has no id") }
            return .accepted(upstreamID: id)
        }
    }

    public func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        switch kind {
        case .music:
            let data = try await get("/suno/fetch/" + Self.pathSegment(upstreamID), read: SunoFetchData.fromAnswer)
            guard let data else { throw .invalidResponse("fetch answer has no data") }
            return try data.upstreamProgress()
        case .image:
            // The image endpoint answers synchronously; there is nothing to poll.
            throw .rejected(status: 400, message: "image tasks cannot be polled")
        case .video:
            let status = try await get("/v1/videos/" + Self.pathSegment(upstreamID), read: VideoFetchStatus.fromAnswer)
            return try status.upstreamProgress()
        }
    }

    /// `id` as one segment of a URL path, percent-encoded where it needs to be. The provider's
    /// ids are plain (`suno_abc123`), and Foundation's encoding went through `CFString` on every
    /// poll (~1.4 % of the poll worker's CPU): such an id is returned as it is.
    static func pathSegment(_ id: String) -> String {
        if !id.isEmpty, id.utf8.allSatisfy(AWSPercentEncoding.isUnreserved) { return id }
        return id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? id
    }

    // MARK: HTTP

    /// A call whose body and answer go through `JSONEncoder` and `JSONDecoder`: the submits, made
    /// once per task.
    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body, timeout: Duration, as answer: Answer.Type
    ) async throws(UpstreamError) -> Answer {
        let encoded: ByteBuffer
        do {
            encoded = ByteBuffer(data: try JSONEncoder().encode(body))
        } catch {
            throw .invalidResponse("cannot encode request: \(error)")
        }
        let bytes = try await send(method, path, body: encoded, timeout: timeout)
        do {
            return try JSONDecoder().decode(Answer.self, from: bytes)
        } catch {
            throw .invalidResponse("\(method) \(path): \(error)")
        }
    }

    /// A `GET` whose answer is parsed (``JSONParser``) and read by hand (`read`): the polls, made
    /// many times per task. Through `JSONDecoder` their answers cost 5.5 % of the server's CPU
    /// while it polls, most of it in `Decodable`'s containers rather than in the parse.
    ///
    /// An answer `JSONDecoder` refused is refused here too, as ``UpstreamError/invalidResponse(_:)``.
    /// The parser is stricter only with malformed JSON that `JSONDecoder` let through where no
    /// field is read (trailing commas, raw control characters in strings, numbers out of range or
    /// with leading zeros) and with answers in UTF-16; of a repeated key it keeps the last where
    /// `JSONDecoder` kept the first.
    private func get<Answer>(
        _ path: String, read: (JSONValue) throws(JSONShapeError) -> Answer
    ) async throws(UpstreamError) -> Answer {
        let answer: PollConnectionPool.Answer
        do {
            answer = try await limiter.run { try await polls.get(path, timeout: configuration.callTimeout) }
        } catch {
            throw .transport(String(describing: error))
        }
        let bytes = try body(of: answer.status, answer.headers, answer.body, path: path)
        do {
            return try read(try JSONParser.parse(Self.withoutByteOrderMark(bytes), maxDepth: Self.maxAnswerDepth))
        } catch let failure as JSONParser.Failure {
            throw .invalidResponse("GET \(path): \(Self.describe(failure))")
        } catch {
            throw .invalidResponse("GET \(path): \(error)")
        }
    }

    /// `JSONDecoder`'s nesting limit, so the same deep documents are refused.
    private static let maxAnswerDepth = 512

    /// `bytes` past a UTF-8 byte order mark, which `JSONDecoder` skipped and the parser would not.
    private static func withoutByteOrderMark(_ bytes: ByteBuffer) -> ByteBuffer {
        guard bytes.readableBytesView.starts(with: [0xEF, 0xBB, 0xBF]) else { return bytes }
        var text = bytes
        text.moveReaderIndex(forwardBy: 3)
        return text
    }

    private static func describe(_ failure: JSONParser.Failure) -> String {
        switch failure {
        case .syntax(let offset): "not valid JSON (at byte \(offset))"
        case .tooDeep: "nested deeper than \(maxAnswerDepth) levels"
        }
    }

    /// A call other than a poll (a submit, an image generation), through AsyncHTTPClient: the body
    /// of a successful (2xx) answer; any other answer, or none, is the matching ``UpstreamError``.
    ///
    /// Through `execute(request:delegate:)` (an answer accumulated up to the size limit) rather
    /// than the `async` API, which starts a Swift task per call to register the call for
    /// cancellation. Cancelling the caller cancels the call all the same.
    private func send(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, timeout: Duration) async throws(UpstreamError) -> ByteBuffer {
        let status: Int
        let answerHeaders: HTTPHeaders
        let bytes: ByteBuffer
        do {
            let request = try HTTPClient.Request(
                url: await configuration.baseURL.get() + path, method: method,
                headers: Self.headers(apiKey: configuration.apiKey, hasBody: body != nil), body: body.map { .byteBuffer($0) })
            (status, answerHeaders, bytes) = try await limiter.run {
                let call = httpClient.execute(
                    request: request, delegate: ResponseAccumulator(request: request, maxBodySize: Self.maxResponseBytes),
                    deadline: .now() + TimeAmount(timeout))
                let response = try await withTaskCancellationHandler {
                    try await call.futureResult.get()
                } onCancel: {
                    call.cancel()
                }
                return (Int(response.status.code), response.headers, response.body ?? ByteBuffer())
            }
        } catch {
            throw .transport(String(describing: error))
        }
        return try self.body(of: status, answerHeaders, bytes, path: path)
    }

    private static func headers(apiKey: Redacted?, hasBody: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        if let apiKey {
            headers.add(name: "Authorization", value: "Bearer \(apiKey.value)")
        }
        if hasBody {
            headers.add(name: "Content-Type", value: "application/json")
        }
        return headers
    }

    /// The body of a successful (2xx) answer; any other status is the matching ``UpstreamError``.
    private func body(of status: Int, _ headers: HTTPHeaders, _ bytes: ByteBuffer, path: String) throws(UpstreamError) -> ByteBuffer {
        switch status {
        case 200..<300:
            return bytes
        case 429:
            throw .rateLimited(retryAfter: Self.retryAfter(headers))
        case 500...:
            throw .unavailable(status: status, retryAfter: Self.retryAfter(headers))
        default:
            let message = String(buffer: bytes).prefix(500)
            logger.warning("upstream refused a call", metadata: ["upstream.path": "\(path)", "upstream.status": "\(status)", "upstream.body": "\(message)"])
            throw .rejected(status: status, message: String(message))
        }
    }

    /// The wait a provider asks for: `Retry-After` (seconds or an HTTP date) or `x-ratelimit-reset-requests`.
    static func retryAfter(_ headers: HTTPHeaders, now: Date = Date()) -> Duration? {
        for name in ["retry-after", "x-ratelimit-reset-requests"] {
            guard let value = headers.first(name: name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
            if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
            if let duration = Duration(parsing: value) { return duration }
            if let date = HTTPDate.parse(value) { return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000)) }
        }
        return nil
    }
}

// MARK: Wire formats

/// `{"code": 200, "message": "success", "data": …}` of the Suno endpoints.
struct SunoEnvelope<Payload: Decodable>: Decodable {
    var code: Int?
    var message: String?
    var data: Payload?
}

struct SunoSubmitData: Decodable {
    var taskID: String
    enum CodingKeys: String, CodingKey { case taskID = "task_id" }
}

/// The `data` of a `GET /suno/fetch/{id}` answer.
struct SunoFetchData {
    struct Track {
        var title: String?
        var audioURL: String?
        var imageURL: String?
        var duration: FlexibleNumber?
        var style: String?

        init(_ fields: JSONObjectFields) throws(JSONShapeError) {
            title = try fields.string("title")
            audioURL = try fields.string("audio_url")
            imageURL = try fields.string("image_url")
            duration = try fields.field("duration", expected: "a number", FlexibleNumber.init)
            style = try fields.string("style")
        }
    }

    var status: String?
    var progress: FlexibleNumber?
    var failReason: String?
    var tracks: [Track]?

    init(_ fields: JSONObjectFields) throws(JSONShapeError) {
        status = try fields.string("status")
        progress = FlexibleNumber.progress(fields)
        failReason = try fields.string("fail_reason")
        tracks = try fields.objects("tracks")?.map(Track.init)
    }

    /// The `data` of a whole fetch answer (`SunoEnvelope`), nil when it has none. A `code` that
    /// is no integer or a `message` that is no string makes the answer unreadable, as they did
    /// when it was decoded as a `SunoEnvelope<SunoFetchData>`.
    static func fromAnswer(_ answer: JSONValue) throws(JSONShapeError) -> SunoFetchData? {
        let envelope = try JSONObjectFields(answer)
        _ = try envelope.int("code")
        _ = try envelope.string("message")
        return try envelope.object("data").map(SunoFetchData.init)
    }

    /// Maps the provider's status words; anything not clearly done or failed counts as still pending.
    func upstreamProgress() throws(UpstreamError) -> UpstreamProgress {
        let word = (status ?? "").lowercased()
        switch word {
        case "completed", "complete", "success", "succeeded", "succeed":
            let outputs = (tracks ?? []).compactMap { track -> UpstreamOutput? in
                guard let url = track.audioURL, !url.isEmpty else { return nil }
                return UpstreamOutput(url: url, title: track.title, duration: track.duration?.value, style: track.style, imageURL: track.imageURL)
            }
            guard !outputs.isEmpty else { throw .invalidResponse("completed without any audio_url") }
            return .completed(outputs: outputs)
        case "failed", "failure", "error", "fail":
            return .failed(reason: failReason.flatMap { $0.isEmpty ? nil : $0 } ?? "the upstream provider reported a failure")
        default:
            return .pending(progress: progress?.percent)
        }
    }
}

/// A number that providers send as `42`, `0.42`, `"42"` or `"42%"`.
struct FlexibleNumber {
    var value: Double
    /// Written with a `%` sign: a percentage whatever its size (`"1%"` is one percent, not all).
    var hasPercentSign = false

    /// `json` as a number: a JSON number, or a string of one with `%` signs and spaces around it;
    /// nil for anything else (`""`, `"running"`, `true`).
    init?(_ json: JSONValue) {
        switch json {
        case .number(let number):
            value = number
        case .string(let raw):
            guard let number = Double(raw.trimmingCharacters(in: Self.decoration)) else { return nil }
            value = number
            hasPercentSign = raw.contains("%")
        default:
            return nil
        }
    }

    private static let decoration = CharacterSet(charactersIn: "% ")

    /// As a whole percentage 0…100.
    var percent: Int { Int(min(100, max(0, !hasPercentSign && value <= 1 && value > 0 ? value * 100 : value))) }

    /// A poll answer's `progress`: nil when absent, `null` or no number at all (`""`, `"running"`).
    ///
    /// Progress is only shown to clients; refusing the whole answer for it would count a poll of a
    /// running task as an upstream error, and enough of those fail the task.
    static func progress(_ fields: JSONObjectFields) -> FlexibleNumber? {
        fields.value("progress").flatMap(FlexibleNumber.init)
    }
}

struct ImageGenerationBody: Encodable {
    var model: String
    var prompt: String
    var n: Int
    var size: String?
    var imageSize: String?
    enum CodingKeys: String, CodingKey {
        case model, prompt, n, size
        case imageSize = "image_size"
    }
}

struct ImageGenerationAnswer: Decodable {
    struct Item: Decodable { var url: String? }
    var created: Int?
    var data: [Item]
}
