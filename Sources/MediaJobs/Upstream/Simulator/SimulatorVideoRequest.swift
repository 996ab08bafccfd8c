import Foundation

/// A `POST /v1/videos` body as the simulator reads it: the provider's fields
/// (`model`, `prompt`, `duration`, `resolution`, `aspect_ratio`), checked and turned into a picture size.
struct SimulatorVideoRequest: Equatable {
    /// Why a body was refused: an OpenAI-style `400` message and code.
    struct Rejection: Error, Equatable {
        var message: String
        var code: String
    }

    /// The one video model the provider documents.
    static let model = "grok-video-3"
    /// Durations accepted, in seconds (the provider's price list goes from 1 to 15).
    static let durations = 1...15
    /// Duration when none is given (the provider's default).
    static let defaultDuration = 8
    /// Resolution when none is given (the provider's default).
    static let defaultResolution = "480p"
    /// Aspect ratio when none is given (the provider's default).
    static let defaultAspectRatio = "16:9"

    /// The text the video is made from.
    var prompt: String
    /// Duration in whole seconds.
    var seconds: Int
    /// Width in pixels.
    var width: Int
    /// Height in pixels.
    var height: Int

    /// Reads and checks a JSON body.
    init(json body: Data) throws(Rejection) {
        guard let fields = try? JSONDecoder().decode([String: JSONValue].self, from: body) else {
            throw Rejection(message: "the body must be a JSON object", code: "invalid_json")
        }
        guard case .string(let model)? = fields["model"], !model.isEmpty else {
            throw Rejection(message: "model is required (\(Self.model))", code: "missing_parameter")
        }
        guard model == Self.model else {
            throw Rejection(message: "the model '\(model)' does not exist; video generation uses \(Self.model)", code: "model_not_found")
        }
        guard case .string(let prompt)? = fields["prompt"], !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Rejection(message: "prompt is required", code: "missing_parameter")
        }
        let seconds = try Self.duration(fields["duration"])
        let resolution = try Self.text(fields["resolution"], name: "resolution", default: Self.defaultResolution)
        let aspectRatio = try Self.text(fields["aspect_ratio"], name: "aspect_ratio", default: Self.defaultAspectRatio)
        guard let size = Self.size(resolution: resolution, aspectRatio: aspectRatio) else {
            let problem = Self.size(resolution: resolution, aspectRatio: Self.defaultAspectRatio) == nil
                ? "resolution must be 480p or 720p, got '\(resolution)'" : "aspect_ratio must be 16:9, 9:16 or 1:1, got '\(aspectRatio)'"
            throw Rejection(message: problem, code: "invalid_parameter")
        }
        self.prompt = prompt
        self.seconds = seconds
        (width, height) = size
    }

    /// The picture size of a resolution (the short side) and an aspect ratio; nil for values the provider does not offer.
    static func size(resolution: String, aspectRatio: String) -> (width: Int, height: Int)? {
        let short: Int
        switch resolution {
        case "480p": short = 480
        case "720p": short = 720
        default: return nil
        }
        // The long side of 16:9, rounded to an even number (854 for 480p) as H.264's 4:2:0 samples need.
        let long = (short * 16 / 9 + 1) / 2 * 2
        switch aspectRatio {
        case "16:9": return (long, short)
        case "9:16": return (short, long)
        case "1:1": return (short, short)
        default: return nil
        }
    }

    /// `duration`: a whole number of seconds in `durations` (a number, or a string of digits), else the default.
    private static func duration(_ value: JSONValue?) throws(Rejection) -> Int {
        let seconds: Int?
        switch value {
        case nil, .null?: return defaultDuration
        case .number(let number)?: seconds = number.rounded() == number && abs(number) < 1e6 ? Int(number) : nil
        case .string(let text)?: seconds = Int(text.trimmingCharacters(in: .whitespaces))
        default: seconds = nil
        }
        guard let seconds, durations.contains(seconds) else {
            throw Rejection(message: "duration must be a whole number of seconds from \(durations.lowerBound) to \(durations.upperBound)", code: "invalid_parameter")
        }
        return seconds
    }

    /// An optional string field, else `default`.
    private static func text(_ value: JSONValue?, name: String, default: String) throws(Rejection) -> String {
        switch value {
        case nil, .null?: return `default`
        case .string(let text)?: return text
        default: throw Rejection(message: "\(name) must be a string", code: "invalid_parameter")
        }
    }
}
