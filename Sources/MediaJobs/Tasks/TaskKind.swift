/// What a task generates; decides the id prefix, the upstream endpoint and the media it must yield.
public enum TaskKind: String, Sendable, Codable, CaseIterable {
    case music
    case image
    case video

    /// The id prefix clients see (`suno_…`, `img_…`, `video_…`), so an id alone tells which API owns it.
    public var idPrefix: String {
        switch self {
        case .music: "suno"
        case .image: "img"
        case .video: "video"
        }
    }

    /// The kind whose ids carry `prefix`, if any.
    public init?(idPrefix prefix: Substring) {
        guard let kind = Self.allCases.first(where: { $0.idPrefix == prefix }) else { return nil }
        self = kind
    }
}
