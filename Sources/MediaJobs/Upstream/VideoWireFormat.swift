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

/// `GET /v1/videos/{id}`: `{"code":"success","data":{"status","progress","fail_reason","data":{"output","thumbnail"}}}`.
///
/// The provider's own example reads `data` when present and the top level otherwise; so does this.
struct VideoFetchAnswer: Decodable {
    var status: VideoFetchStatus

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let nested = try container.decodeIfPresent(VideoFetchStatus.self, forKey: .data), nested.status != nil {
            status = nested
        } else {
            status = try VideoFetchStatus(from: decoder)
        }
    }

    enum CodingKeys: String, CodingKey { case data }
}

/// The status part of a video poll answer.
struct VideoFetchStatus: Decodable {
    struct Output: Decodable {
        var output: String?
        var thumbnail: String?
    }

    var status: String?
    var progress: FlexibleNumber?
    var failReason: String?
    var data: Output?

    enum CodingKeys: String, CodingKey {
        case status, progress, data
        case failReason = "fail_reason"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        progress = container.decodeProgress(forKey: .progress)
        failReason = try container.decodeIfPresent(String.self, forKey: .failReason)
        data = try container.decodeIfPresent(Output.self, forKey: .data)
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
