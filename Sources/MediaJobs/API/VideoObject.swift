import Foundation

/// The OpenAI Videos API's video object (`GET /v1/videos/{id}` and friends).
///
/// Status words are OpenAI's: `queued`; `in_progress` while the provider works or the file is
/// being stored; `completed`; `failed` for failed and canceled tasks, with `error`.
struct VideoObject: Encodable {
    /// `{"code", "message"}` of a failed video.
    struct Failure: Encodable {
        var code: String
        var message: String
    }

    var id: String
    var object = "video"
    var model: String
    var status: String
    var progress: Int
    var createdAt: Int64
    @NullEncoded var completedAt: Int64?
    @NullEncoded var expiresAt: Int64?
    var seconds: String
    var size: String
    var prompt: String
    @NullEncoded var remixedFromVideoID: String?
    @NullEncoded var error: Failure?

    enum CodingKeys: String, CodingKey {
        case id, object, model, status, progress, seconds, size, prompt, error
        case createdAt = "created_at", completedAt = "completed_at", expiresAt = "expires_at"
        case remixedFromVideoID = "remixed_from_video_id"
    }

    /// The object of a video task.
    init(_ task: MediaTask, request: VideoRequest) {
        id = task.id
        model = request.model
        status = Self.status(task.status)
        progress = task.status == .completed ? 100 : task.progress
        createdAt = task.createdAt.unixSeconds
        completedAt = task.status == .completed ? task.finishedAt?.unixSeconds : nil
        expiresAt = nil
        seconds = String(request.seconds)
        size = request.size.description
        prompt = request.prompt
        remixedFromVideoID = nil
        switch task.status {
        case .failed: error = Failure(code: "generation_failed", message: task.failReason ?? "the video could not be generated")
        case .canceled: error = Failure(code: "canceled", message: "the video was canceled before it finished")
        default: error = nil
        }
    }

    /// OpenAI's status word for a task status.
    static func status(_ status: TaskStatus) -> String {
        switch status {
        case .queued: "queued"
        case .processing, .downloading: "in_progress"
        case .completed: "completed"
        case .failed, .canceled: "failed"
        }
    }
}

/// `GET /v1/videos`: OpenAI's cursor page.
struct VideoList: Encodable {
    var object = "list"
    var data: [VideoObject]
    @NullEncoded var firstID: String?
    @NullEncoded var lastID: String?
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstID = "first_id", lastID = "last_id", hasMore = "has_more"
    }
}

/// `DELETE /v1/videos/{id}`.
struct VideoDeleted: Encodable {
    var id: String
    var object = "video.deleted"
    var deleted = true
}
