/// Which tasks share one distribution of provider durations: the same kind and model, and for a
/// video the same length and resolution (a longer or larger video takes longer: the request says
/// so before the provider does).
public struct DurationKey: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public init(task: MediaTask) {
        switch task.request {
        case .music: value = "music/\(task.model)"
        case .image(let image): value = "image/\(image.model)"
        case .video(let video): value = "video/\(video.model)/\(video.seconds)s/\(video.resolution.shortSide)p"
        }
    }

    public var description: String { value }
}
