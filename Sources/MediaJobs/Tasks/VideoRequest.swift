import Foundation

/// An OpenAI Videos API request, normalised to what ApiTopMix's `POST /v1/videos` takes.
///
/// Clients speak OpenAI (`seconds`, `size`) or the provider (`duration`, `resolution`,
/// `aspect_ratio`); both are stored as the provider's three fields, so a resubmit after a restart
/// sends exactly what the first try sent.
public struct VideoRequest: Sendable, Equatable, Codable {
    /// The one video model the provider documents, and the default.
    public static let defaultModel = "grok-video-3"
    /// Whole seconds a video may last (the provider's price list goes from 1 to 15).
    public static let durations = 1...15
    /// Duration when neither `seconds` nor `duration` is given (the provider's default).
    public static let defaultSeconds = 8

    /// The provider's resolutions: the short side of the picture.
    public enum Resolution: String, Sendable, Codable, CaseIterable {
        case p480 = "480p"
        case p720 = "720p"

        /// Pixels on the short side.
        public var shortSide: Int {
            switch self {
            case .p480: 480
            case .p720: 720
            }
        }
    }

    /// The provider's aspect ratios.
    public enum AspectRatio: String, Sendable, Codable, CaseIterable {
        case landscape = "16:9"
        case portrait = "9:16"
        case square = "1:1"
    }

    public var model: String
    public var prompt: String
    /// Length in whole seconds (the provider's `duration`, OpenAI's `seconds`).
    public var seconds: Int
    public var resolution: Resolution
    public var aspectRatio: AspectRatio

    public init(model: String = Self.defaultModel, prompt: String, seconds: Int = Self.defaultSeconds, resolution: Resolution = .p480, aspectRatio: AspectRatio = .landscape) {
        self.model = model
        self.prompt = prompt
        self.seconds = seconds
        self.resolution = resolution
        self.aspectRatio = aspectRatio
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, seconds, resolution
        case aspectRatio = "aspect_ratio"
    }

    /// The picture the provider renders, as OpenAI's `size` spells it (`854x480`, `720x1280`, …).
    ///
    /// The long side of 16:9 rounded to an even number, as H.264's 4:2:0 sampling needs (the
    /// simulator in Upstream/Simulator/SimulatorVideoRequest.swift renders the same sizes).
    public var size: ImageSize {
        let short = resolution.shortSide
        let long = (short * 16 / 9 + 1) / 2 * 2
        switch aspectRatio {
        case .landscape: return ImageSize(width: long, height: short)
        case .portrait: return ImageSize(width: short, height: long)
        case .square: return ImageSize(width: short, height: short)
        }
    }

    /// Why the video fields of a request were refused: the parameter and a message for the client.
    public struct FieldError: Error, Equatable, Sendable {
        public var param: String
        public var message: String
    }

    /// Maps OpenAI's and the provider's fields (as text, however the client sent them) to a request.
    ///
    /// - `seconds` or `duration`: a whole number 1–15 (default 8); both given must agree.
    /// - `size` `WxH`: `resolution` 720p when the short side is above 480, else 480p; `aspect_ratio`
    ///   16:9 when wider than tall, 9:16 when taller, 1:1 when square.
    /// - `resolution` / `aspect_ratio`, when given, win over what `size` implies.
    public static func mapping(
        model: String, prompt: String, seconds: String?, size: String?, duration: String?, resolution: String?, aspectRatio: String?
    ) throws(FieldError) -> VideoRequest {
        let fromSeconds = try wholeSeconds(seconds, param: "seconds")
        let fromDuration = try wholeSeconds(duration, param: "duration")
        if let fromSeconds, let fromDuration, fromSeconds != fromDuration {
            throw FieldError(param: "duration", message: "'seconds' and 'duration' disagree (\(fromSeconds) and \(fromDuration))")
        }
        var request = VideoRequest(model: model, prompt: prompt, seconds: fromSeconds ?? fromDuration ?? defaultSeconds)
        if let size {
            guard let parsed = ImageSize(parsing: size) else {
                throw FieldError(param: "size", message: "'size' must look like 1280x720 (width x height, each side 64 to \(ImageSize.maximumSide))")
            }
            request.resolution = min(parsed.width, parsed.height) > Resolution.p480.shortSide ? .p720 : .p480
            request.aspectRatio = parsed.width > parsed.height ? .landscape : parsed.width < parsed.height ? .portrait : .square
        }
        if let resolution {
            guard let parsed = Resolution(rawValue: resolution.lowercased()) else {
                throw FieldError(param: "resolution", message: "'resolution' must be 480p or 720p")
            }
            request.resolution = parsed
        }
        if let aspectRatio {
            guard let parsed = AspectRatio(rawValue: aspectRatio) else {
                throw FieldError(param: "aspect_ratio", message: "'aspect_ratio' must be 16:9, 9:16 or 1:1")
            }
            request.aspectRatio = parsed
        }
        return request
    }

    /// A whole number of seconds in ``durations`` written as digits, or nil when absent.
    private static func wholeSeconds(_ text: String?, param: String) throws(FieldError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), durations.contains(value) else {
            throw FieldError(param: param, message: "'\(param)' must be a whole number of seconds from \(durations.lowerBound) to \(durations.upperBound)")
        }
        return value
    }
}
