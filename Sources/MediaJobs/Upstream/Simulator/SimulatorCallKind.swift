import Foundation

/// The kinds of simulator calls that fault injection tells apart (`--fail-first submit=2,fetch=1,video=1`).
public enum SimulatorCallKind: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// `POST /suno/submit/music`.
    case submit
    /// `GET /suno/fetch/{id}`.
    case fetch
    /// `POST /v1/images/generations`.
    case image
    /// `GET /media/…`: the audio, image and video files a task links to.
    case media
    /// `POST /v1/videos`.
    case video
    /// `GET /v1/videos/{id}`.
    case videoFetch = "video_fetch"

    /// The kind of the call at `path`, or nil for a call no fault is injected into (`/healthz`, `/_stats`, unknown paths).
    init?(method: String, path: String) {
        switch (method, path) {
        case ("POST", "/suno/submit/music"): self = .submit
        case ("GET", _) where path.hasPrefix("/suno/fetch/"): self = .fetch
        case ("POST", "/v1/images/generations"): self = .image
        case (_, _) where path.hasPrefix("/media/"): self = .media
        case ("POST", "/v1/videos"): self = .video
        case ("GET", _) where path.hasPrefix("/v1/videos/"): self = .videoFetch
        default: return nil
        }
    }

    public var description: String { rawValue }

    /// Parses `submit=2,fetch=1,image=1,video_fetch=1` (an empty text is no counts); nil when a part is not `<kind>=<count ≥ 0>`.
    public static func counts(parsing text: String) -> [SimulatorCallKind: Int]? {
        var counts: [SimulatorCallKind: Int] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", omittingEmptySubsequences: false)
            guard pair.count == 2,
                let kind = SimulatorCallKind(rawValue: pair[0].trimmingCharacters(in: .whitespaces).lowercased()),
                let count = Int(pair[1].trimmingCharacters(in: .whitespaces)), count >= 0
            else { return nil }
            counts[kind, default: 0] += count
        }
        return counts
    }
}
