/// The file name of a simulated video or its poster image, which says all it takes to render it:
/// `<task id>-<W>x<H>-<S>s.mp4` (or `.png` for the poster), e.g. `task_1f…-1280x720-8s.mp4`.
///
/// Like the audio and image URLs, the name carries everything, so a download needs no task
/// record and the same name always gives the same bytes.
struct VideoMediaName: Equatable {
    /// Which file of the video.
    enum Variant: String {
        /// The MP4 video.
        case video = "mp4"
        /// The first frame as a PNG.
        case thumbnail = "png"

        /// The `Content-Type` it is served with.
        var contentType: String { self == .video ? "video/mp4" : "image/png" }
    }

    /// Largest width or height served: bounds the work one download can cause.
    static let maximumDimension = 1920

    /// The simulator's task id; the video's colours are seeded from it.
    var taskID: String
    /// Width in pixels (even).
    var width: Int
    /// Height in pixels (even).
    var height: Int
    /// Duration in whole seconds.
    var seconds: Int
    /// Video or poster.
    var variant: Variant

    /// A name for the given video.
    init(taskID: String, width: Int, height: Int, seconds: Int, variant: Variant) {
        self.taskID = taskID
        self.width = width
        self.height = height
        self.seconds = seconds
        self.variant = variant
    }

    /// The name parsed back, or nil unless it is well formed and within the limits the encoder and this type set.
    init?(parsing name: String) {
        guard let dot = name.lastIndex(of: "."), let variant = Variant(rawValue: String(name[name.index(after: dot)...])) else { return nil }
        let parts = name[..<dot].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.last?.hasSuffix("s") == true, let seconds = Int(parts[parts.count - 1].dropLast()) else { return nil }
        let size = parts[parts.count - 2].split(separator: "x", omittingEmptySubsequences: false)
        guard size.count == 2, let width = Int(size[0]), let height = Int(size[1]) else { return nil }
        let taskID = parts.dropLast(2).joined(separator: "-")
        guard !taskID.isEmpty, VideoEncoder.seconds.contains(seconds),
            (2...Self.maximumDimension).contains(width), (2...Self.maximumDimension).contains(height),
            width.isMultiple(of: 2), height.isMultiple(of: 2)
        else { return nil }
        self.init(taskID: taskID, width: width, height: height, seconds: seconds, variant: variant)
    }

    /// The name as it appears in URLs.
    var fileName: String { "\(taskID)-\(width)x\(height)-\(seconds)s.\(variant.rawValue)" }

    /// The seed of the video's colours and layout: the same for the video and its poster.
    var seed: UInt64 { UpstreamSimulator.seed(taskID) }

    /// Renders the file (CPU work: about a second for 15 s of 720p in a debug build); nil for sizes the encoder refuses.
    func render() -> [UInt8]? {
        switch variant {
        case .video: VideoEncoder.mp4(width: width, height: height, seconds: seconds, seed: seed)
        case .thumbnail: VideoEncoder.thumbnail(width: width, height: height, seconds: seconds, seed: seed)
        }
    }
}
