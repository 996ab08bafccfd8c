/// `POST /v1/videos` as the provider takes it (reference: "Submit Video Generation").
struct VideoSubmitBody: Encodable {
    var model: String
    var prompt: String
    var duration: Int
    var resolution: String
    var aspectRatio: String

    init(_ request: VideoRequest) {
        model = request.model
        prompt = request.prompt
        duration = request.seconds
        resolution = request.resolution.rawValue
        aspectRatio = request.aspectRatio.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, duration, resolution
        case aspectRatio = "aspect_ratio"
    }
}

/// `{"id": "task_…", "object": "video", "status": "queued"}`; `task_id` read too, as other endpoints spell it.
struct VideoSubmitAnswer: Decodable {
    var id: String?
    var taskID: String?
    enum CodingKeys: String, CodingKey {
        case id
        case taskID = "task_id"
    }
}

/// The status part of a video poll answer, `GET /v1/videos/{id}`:
/// `{"code":"success","data":{"status","progress","fail_reason","data":{"output","thumbnail"}}}`.
struct VideoFetchStatus {
    struct Output {
        var output: String?
        var thumbnail: String?

        init(_ fields: JSONObjectFields) throws(JSONShapeError) {
            output = try fields.string("output")
            thumbnail = try fields.string("thumbnail")
        }
    }

    var status: String?
    var progress: FlexibleNumber?
    var failReason: String?
    var data: Output?

    init(_ fields: JSONObjectFields) throws(JSONShapeError) {
        status = try fields.string("status")
        progress = FlexibleNumber.progress(fields)
        failReason = try fields.string("fail_reason")
        data = try fields.object("data").map(Output.init)
    }

    /// The status of a whole poll answer. The provider's own example reads `data` when present
    /// and the top level otherwise; so does this. A `data` that cannot be read as a status (no
    /// object, a field of the wrong type) makes the answer unreadable even when the top level
    /// could be: so it was when the answer was decoded with `Decodable`.
    static func fromAnswer(_ answer: JSONValue) throws(JSONShapeError) -> VideoFetchStatus {
        let answer = try JSONObjectFields(answer)
        if let nested = try answer.object("data").map(VideoFetchStatus.init), nested.status != nil {
            return nested
        }
        return try VideoFetchStatus(answer)
    }

    /// `SUCCESS` with `data.output` (the video, then the poster when given), `FAILURE` with its
    /// reason; any other word is still running, never success.
    func upstreamProgress() throws(UpstreamError) -> UpstreamProgress {
        switch (status ?? "").uppercased() {
        case "SUCCESS":
            guard let video = data?.output, !video.isEmpty else { throw .invalidResponse("video SUCCESS without data.output") }
            var outputs = [UpstreamOutput(url: video)]
            if let poster = data?.thumbnail, !poster.isEmpty { outputs.append(UpstreamOutput(url: poster)) }
            return .completed(outputs: outputs)
        case "FAILURE":
            return .failed(reason: failReason.flatMap { $0.isEmpty ? nil : $0 } ?? "the upstream provider reported a failure")
        default:
            return .pending(progress: progress?.percent)
        }
    }
}
