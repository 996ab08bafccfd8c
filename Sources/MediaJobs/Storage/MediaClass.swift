/// What sort of media an artifact must be: the check a download makes after sniffing its bytes.
public enum MediaClass: String, Sendable, Equatable {
    case audio
    case image
    case video

    /// Whether `media` is of this class.
    public func admits(_ media: DetectedMedia) -> Bool {
        switch self {
        case .audio: media.isAudio
        case .image: media.isImage
        case .video: media.isVideo
        }
    }

    /// The class of output `index` of a task of `kind`: a video task's first output is the
    /// video and any further one its poster (Upstream/VideoWireFormat.swift), other kinds yield one class.
    public static func expected(kind: TaskKind, outputIndex index: Int) -> MediaClass {
        switch kind {
        case .music: .audio
        case .image: .image
        case .video: index == 0 ? .video : .image
        }
    }
}
