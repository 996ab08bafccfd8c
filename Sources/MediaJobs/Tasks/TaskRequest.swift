/// What the client asked for, normalised and validated; stored with the task so a restart can resubmit it.
public enum TaskRequest: Sendable, Equatable {
    case music(MusicRequest)
    case image(ImageRequest)
    case video(VideoRequest)

    /// The kind of task this request creates.
    public var kind: TaskKind {
        switch self {
        case .music: .music
        case .image: .image
        case .video: .video
        }
    }

    /// The text prompt common to every kind.
    public var prompt: String {
        switch self {
        case .music(let request): request.prompt
        case .image(let request): request.prompt
        case .video(let request): request.prompt
        }
    }
}

/// A Suno-style music request (README, "API"; the provider's "Submit Music Generation").
public struct MusicRequest: Sendable, Equatable, Codable {
    public var prompt: String
    public var style: String?
    public var title: String?
    public var lyrics: String?
    public var makeInstrumental: Bool

    public init(prompt: String, style: String? = nil, title: String? = nil, lyrics: String? = nil, makeInstrumental: Bool = false) {
        self.prompt = prompt
        self.style = style
        self.title = title
        self.lyrics = lyrics
        self.makeInstrumental = makeInstrumental
    }

    enum CodingKeys: String, CodingKey {
        case prompt, style, title, lyrics
        case makeInstrumental = "make_instrumental"
    }
}

extension MusicRequest: JSONWritable {
    /// The stored `request` column: the same text as `JSONCoding.string(self)` (sorted keys, absent
    /// optionals left out) without `JSONEncoder`, which was 3 % of a submit's CPU.
    func write(to json: inout JSONWriter) {
        json.object { json in
            json.fieldIfPresent("lyrics", lyrics)
            json.field("make_instrumental", makeInstrumental)
            json.field("prompt", prompt)
            json.fieldIfPresent("style", style)
            json.fieldIfPresent("title", title)
        }
    }
}

extension MusicRequest {
    /// Reads the stored `request` column, accepting and refusing what `JSONDecoder` did with the
    /// synthesized `Decodable` (`prompt` and `make_instrumental` required, the rest optional),
    /// without it: `JSONDecoder` was 1.4 % of the server's CPU while it polls, as every claimed
    /// task's row is read.
    init(stored json: String) throws {
        let fields = try JSONObjectFields(JSONParser.parse(json))
        self.init(
            prompt: try fields.required("prompt", fields.string),
            style: try fields.string("style"),
            title: try fields.string("title"),
            lyrics: try fields.string("lyrics"),
            makeInstrumental: try fields.required("make_instrumental", fields.bool))
    }
}

/// An OpenAI-style image request, with ApiTopMix's `image_size` extension.
public struct ImageRequest: Sendable, Equatable, Codable {
    /// How the synchronous OpenAI endpoint hands images back.
    public enum ResponseFormat: String, Sendable, Codable {
        case url
        case b64JSON = "b64_json"
    }

    public var model: String
    public var prompt: String
    public var count: Int
    public var size: ImageSize?
    public var imageSize: String?
    public var responseFormat: ResponseFormat

    public init(model: String, prompt: String, count: Int = 1, size: ImageSize? = nil, imageSize: String? = nil, responseFormat: ResponseFormat = .url) {
        self.model = model
        self.prompt = prompt
        self.count = count
        self.size = size
        self.imageSize = imageSize
        self.responseFormat = responseFormat
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, size
        case count = "n"
        case imageSize = "image_size"
        case responseFormat = "response_format"
    }
}

/// Pixel dimensions written `WxH`, as OpenAI's `size` parameter spells them.
public struct ImageSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    /// The largest side accepted; bigger requests are refused rather than rendered.
    public static let maximumSide = 4096

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `1024x1024`; nil for anything else or sides outside 64…4096.
    public init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
            (64...Self.maximumSide).contains(width), (64...Self.maximumSide).contains(height)
        else { return nil }
        self.init(width: width, height: height)
    }

    /// The square size ApiTopMix renders for `image_size` (`1K`, `2K`, `4K`).
    public init?(resolution: String) {
        switch resolution.uppercased() {
        case "1K": self.init(width: 1024, height: 1024)
        case "2K": self.init(width: 2048, height: 2048)
        case "4K": self.init(width: 4096, height: 4096)
        default: return nil
        }
    }

    public var description: String { "\(width)x\(height)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let size = ImageSize(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid size \(text)"))
        }
        self = size
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension TaskRequest {
    /// The stored `request` column of a `kind` task (both stores). Music, the kind polled most, is
    /// read without `JSONDecoder` (``MusicRequest/init(stored:)``).
    init(_ kind: TaskKind, stored json: String) throws {
        switch kind {
        case .music: self = .music(try MusicRequest(stored: json))
        case .image: self = .image(try JSONCoding.decode(ImageRequest.self, from: json))
        case .video: self = .video(try JSONCoding.decode(VideoRequest.self, from: json))
        }
    }
}
