import Foundation

/// The JSON shapes clients see for a task, built from the stored task and its artifacts.
///
/// Optional fields are written as `null` rather than left out (``NullEncoded``), so clients can
/// rely on every key.
struct TaskRepresentations {
    let publicURLs: PublicURLs

    /// `GET /v1/tasks/{id}`: the full, kind-neutral task object (also the webhook `data`).
    func task(_ task: MediaTask, artifacts: [TaskArtifact]) -> TaskObject {
        TaskObject(
            id: task.id, kind: task.kind.rawValue, status: task.status.rawValue, progress: task.progress, model: task.model,
            createdAt: task.createdAt.unixSeconds, updatedAt: task.updatedAt.unixSeconds, finishedAt: task.finishedAt?.unixSeconds,
            failReason: task.failReason, attempts: task.attempts, request: RequestEcho(task.request), metadata: task.metadata,
            callbackURL: task.callbackURL, artifacts: artifacts.map(artifact))
    }

    func artifact(_ artifact: TaskArtifact) -> ArtifactObject {
        ArtifactObject(
            index: artifact.index, url: artifact.prunedAt == nil ? publicURLs.url(for: artifact) : nil,
            contentType: artifact.contentType, bytes: artifact.bytes, sha256: artifact.sha256, expired: artifact.prunedAt != nil,
            title: artifact.title, duration: artifact.duration, style: artifact.style)
    }

    /// `GET /suno/fetch/{id}`: the Suno-style object, `audio_url` pointing at our stored copy.
    func suno(_ task: TaskStatusRecord, artifacts: [TaskArtifact]) -> SunoTask {
        SunoTask(
            taskID: task.id, status: task.status.rawValue, progress: task.progress, failReason: task.failReason,
            createdAt: task.createdAt.unixSeconds, finishedAt: task.finishedAt?.unixSeconds,
            tracks: artifacts.filter { !Self.isCoverArt($0) }.map { artifact in
                let file = self.artifact(artifact)
                return SunoTrack(
                    title: artifact.title, audioURL: file.url, imageURL: coverURL(of: artifact, among: artifacts), duration: artifact.duration,
                    style: artifact.style, file: SunoFile(url: file.url, bytes: file.bytes, sha256: file.sha256, contentType: file.contentType, expired: file.expired))
            })
    }

    /// Whether a music task's artifact is a track's cover art rather than a track (``PlannedArtifact``).
    static func isCoverArt(_ artifact: TaskArtifact) -> Bool {
        !(DetectedMedia(contentType: artifact.contentType)?.isAudio ?? true)
    }

    /// Our `/files` URL of a track's stored cover art (the image artifact copied from the track's
    /// `image_url`); nil once pruned. Tasks stored before covers were kept show the provider's URL.
    func coverURL(of track: TaskArtifact, among artifacts: [TaskArtifact]) -> String? {
        guard let source = track.imageURL, !source.isEmpty else { return nil }
        guard let cover = artifacts.first(where: { $0.sourceURL == source && Self.isCoverArt($0) }) else { return source }
        return cover.prunedAt == nil ? publicURLs.url(for: cover) : nil
    }

    /// `GET /v1/images/generations/{id}` and the 202 of an asynchronous generation.
    func image(_ task: MediaTask, artifacts: [TaskArtifact]) -> ImageTaskObject {
        ImageTaskObject(
            id: task.id, status: task.status.rawValue, progress: task.progress, model: task.model,
            created: task.createdAt.unixSeconds, finishedAt: task.finishedAt?.unixSeconds, failReason: task.failReason,
            data: task.status == .completed ? artifacts.map { ImageURLItem(url: self.artifact($0).url) } : nil)
    }
}

extension Date {
    /// Whole seconds since 1970, the API's time format (as OpenAI's `created`).
    var unixSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}

/// The stored request, echoed back to clients.
enum RequestEcho: Encodable {
    case music(MusicRequest)
    case image(ImageRequest)
    case video(VideoRequest)

    init(_ request: TaskRequest) {
        switch request {
        case .music(let music): self = .music(music)
        case .image(let image): self = .image(image)
        case .video(let video): self = .video(video)
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .music(let music): try music.encode(to: encoder)
        case .image(let image): try image.encode(to: encoder)
        case .video(let video): try video.encode(to: encoder)
        }
    }
}

struct TaskObject: Encodable {
    var id: String
    var object = "task"
    var kind: String
    var status: String
    var progress: Int
    var model: String
    var createdAt: Int64
    var updatedAt: Int64
    @NullEncoded var finishedAt: Int64?
    @NullEncoded var failReason: String?
    var attempts: Int
    var request: RequestEcho
    @NullEncoded var metadata: JSONValue?
    @NullEncoded var callbackURL: String?
    var artifacts: [ArtifactObject]

    init(
        id: String, kind: String, status: String, progress: Int, model: String, createdAt: Int64, updatedAt: Int64, finishedAt: Int64?,
        failReason: String?, attempts: Int, request: RequestEcho, metadata: JSONValue?, callbackURL: String?, artifacts: [ArtifactObject]
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.progress = progress
        self.model = model
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
        self.failReason = failReason
        self.attempts = attempts
        self.request = request
        self.metadata = metadata
        self.callbackURL = callbackURL
        self.artifacts = artifacts
    }

    enum CodingKeys: String, CodingKey {
        case id, object, kind, status, progress, model, attempts, request, metadata, artifacts
        case createdAt = "created_at", updatedAt = "updated_at", finishedAt = "finished_at"
        case failReason = "fail_reason", callbackURL = "callback_url"
    }
}

struct ArtifactObject: Encodable {
    var index: Int
    @NullEncoded var url: String?
    var contentType: String
    var bytes: Int64
    var sha256: String
    var expired: Bool
    @NullEncoded var title: String?
    @NullEncoded var duration: Double?
    @NullEncoded var style: String?

    enum CodingKeys: String, CodingKey {
        case index, url, bytes, sha256, expired, title, duration, style
        case contentType = "content_type"
    }
}

/// The Suno-style task of `GET /suno/fetch/{id}`. Written with ``JSONWriter``: it is the most
/// read answer of the service.
struct SunoTask: JSONWritable {
    var taskID: String
    var status: String
    var progress: Int
    var failReason: String?
    var createdAt: Int64
    var finishedAt: Int64?
    var tracks: [SunoTrack]

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("task_id", taskID)
            json.field("status", status)
            json.field("progress", progress)
            json.field("fail_reason", failReason)
            json.field("created_at", createdAt)
            json.field("finished_at", finishedAt)
            json.field("tracks", tracks)
        }
    }
}

struct SunoTrack: JSONWritable {
    var title: String?
    var audioURL: String?
    var imageURL: String?
    var duration: Double?
    var style: String?
    var file: SunoFile

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("title", title)
            json.field("audio_url", audioURL)
            json.field("image_url", imageURL)
            json.field("duration", duration)
            json.field("style", style)
            json.field("file", file)
        }
    }
}

struct SunoFile: JSONWritable {
    var url: String?
    var bytes: Int64
    var sha256: String
    var contentType: String
    var expired: Bool

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("url", url)
            json.field("bytes", bytes)
            json.field("sha256", sha256)
            json.field("content_type", contentType)
            json.field("expired", expired)
        }
    }
}

struct ImageTaskObject: Encodable {
    var id: String
    var object = "image.generation.task"
    var status: String
    var progress: Int
    var model: String
    var created: Int64
    @NullEncoded var finishedAt: Int64?
    @NullEncoded var failReason: String?
    var data: [ImageURLItem]?

    init(id: String, status: String, progress: Int, model: String, created: Int64, finishedAt: Int64?, failReason: String?, data: [ImageURLItem]?) {
        self.id = id
        self.status = status
        self.progress = progress
        self.model = model
        self.created = created
        self.finishedAt = finishedAt
        self.failReason = failReason
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, progress, model, created, data
        case finishedAt = "finished_at", failReason = "fail_reason"
    }
}

/// One entry of OpenAI's `data` array.
struct ImageURLItem: Encodable {
    var url: String?
    var b64JSON: String?

    init(url: String?) {
        self.url = url
    }

    init(b64JSON: String) {
        self.b64JSON = b64JSON
    }

    enum CodingKeys: String, CodingKey {
        case url
        case b64JSON = "b64_json"
    }

    /// Exactly one key: `b64_json` when inlined, else `url` (null once the file was pruned).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let b64JSON {
            try container.encode(b64JSON, forKey: .b64JSON)
        } else {
            try container.encode(url, forKey: .url)
        }
    }
}

/// Encodes an optional as `null` instead of leaving the key out, so clients can rely on every key.
@propertyWrapper
struct NullEncoded<Value: Encodable>: Encodable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(wrappedValue)
    }
}
