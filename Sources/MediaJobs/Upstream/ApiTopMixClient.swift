import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

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
    private let limiter: ConcurrencyLimiter
    private let logger: Logger

    public init(configuration: Configuration, httpClient: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.limiter = ConcurrencyLimiter(limit: configuration.maxConcurrentCalls)
        self.logger = logger
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
            let escaped = upstreamID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? upstreamID
            let answer = try await call(.GET, "/suno/fetch/\(escaped)", body: Optional<MusicRequest>.none, timeout: configuration.callTimeout, as: SunoEnvelope<SunoFetchData>.self)
            guard let data = answer.data else { throw .invalidResponse("fetch answer has no data") }
            return try data.upstreamProgress()
        case .image:
            // The image endpoint answers synchronously; there is nothing to poll.
            throw .rejected(status: 400, message: "image tasks cannot be polled")
        case .video:
            let escaped = upstreamID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? upstreamID
            let answer = try await call(.GET, "/v1/videos/\(escaped)", body: Optional<VideoSubmitBody>.none, timeout: configuration.callTimeout, as: VideoFetchAnswer.self)
            return try answer.status.upstreamProgress()
        }
    }

    // MARK: HTTP

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, timeout: Duration, as answer: Answer.Type
    ) async throws(UpstreamError) -> Answer {
        var request = HTTPClientRequest(url: await configuration.baseURL.get() + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let apiKey = configuration.apiKey {
            request.headers.add(name: "Authorization", value: "Bearer \(apiKey.value)")
        }
        if let body {
            do {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
            } catch {
                throw .invalidResponse("cannot encode request: \(error)")
            }
        }
        let status: Int
        let headers: HTTPHeaders
        let bytes: ByteBuffer
        do {
            (status, headers, bytes) = try await limiter.run {
                let response = try await httpClient.execute(request, timeout: .init(timeout))
                let bytes = try await response.body.collect(upTo: Self.maxResponseBytes)
                return (Int(response.status.code), response.headers, bytes)
            }
        } catch {
            throw .transport(String(describing: error))
        }
        switch status {
        case 200..<300:
            do {
                return try JSONDecoder().decode(Answer.self, from: bytes)
            } catch {
                throw .invalidResponse("\(method) \(path): \(error)")
            }
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

struct SunoFetchData: Decodable {
    struct Track: Decodable {
        var title: String?
        var audioURL: String?
        var imageURL: String?
        var duration: FlexibleNumber?
        var style: String?
        enum CodingKeys: String, CodingKey {
            case title, duration, style
            case audioURL = "audio_url"
            case imageURL = "image_url"
        }
    }

    var status: String?
    var progress: FlexibleNumber?
    var failReason: String?
    var tracks: [Track]?

    enum CodingKeys: String, CodingKey {
        case status, progress, tracks
        case failReason = "fail_reason"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        progress = container.decodeProgress(forKey: .progress)
        failReason = try container.decodeIfPresent(String.self, forKey: .failReason)
        tracks = try container.decodeIfPresent([Track].self, forKey: .tracks)
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
struct FlexibleNumber: Decodable {
    var value: Double
    /// Written with a `%` sign: a percentage whatever its size (`"1%"` is one percent, not all).
    var hasPercentSign = false

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // A string first: progress comes as "NN%" on every poll of a running task, and a failed
        // `decode` builds an error (with its coding path) that costs more than the rest of the field.
        if let raw = try? container.decode(String.self) {
            hasPercentSign = raw.contains("%")
            let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: "% "))
            guard let number = Double(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a number: \(text)")
            }
            value = number
        } else {
            value = try container.decode(Double.self)
        }
    }

    /// As a whole percentage 0…100.
    var percent: Int { Int(min(100, max(0, !hasPercentSign && value <= 1 && value > 0 ? value * 100 : value))) }
}

extension KeyedDecodingContainer {
    /// A poll answer's `progress`: nil when absent, `null` or no number at all (`""`, `"running"`).
    ///
    /// Progress is only shown to clients; refusing the whole answer for it would count a poll of a
    /// running task as an upstream error, and enough of those fail the task.
    func decodeProgress(forKey key: Key) -> FlexibleNumber? {
        (try? decodeIfPresent(FlexibleNumber.self, forKey: key)) ?? nil
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
