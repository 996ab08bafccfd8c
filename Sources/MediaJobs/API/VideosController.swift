import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The OpenAI Videos API: `POST /v1/videos`, `GET /v1/videos`, `GET`/`DELETE /v1/videos/{id}`,
/// `GET /v1/videos/{id}/content`; what the official SDKs' `client.videos` calls.
struct VideosController<Context: AuthenticatedRequestContext> {
    let service: TaskOperations
    let body: JSONRequestBody
    /// Deletes a video's record and files (``Pruner/deleteTask(id:)``).
    let pruner: Pruner

    /// Models the upstream serves; anything else is refused at once instead of failing later.
    static var models: [String] { [VideoRequest.defaultModel] }
    static var maxPageSize: Int { 100 }
    /// The SDK's reference image (`input_reference`), a file part: refused whether or not it says `filename=`.
    static var referenceField: String { "input_reference" }
    /// The shortest wait suggested by `openai-poll-after-ms`, so clients never spin.
    static var minimumPollAfter: Duration { .seconds(1) }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("videos", use: create)
        group.get("videos", use: list)
        group.get("videos/{id}", use: get)
        group.delete("videos/{id}", use: delete)
        group.get("videos/{id}/content", use: content)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let input = try await readInput(request)
        let video = try validate(input)
        let outcome = try await service.accept(
            .video(video), extras: SubmissionExtras(callbackURL: input.callbackURL, metadata: input.metadata), owner: context.owner,
            idempotencyKey: request.headers[.idempotencyKey])
        context.logger.info("video task accepted", metadata: ["task.id": "\(outcome.task.id)", "task.kind": "video"])
        return try answer(outcome.task, extraHeaders: outcome.replayHeaders)
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let (task, _) = try await service.find(try context.parameters.require("id"), kind: .video, owner: context.owner)
        return try answer(task)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = TaskQuery(kind: .video, owner: context.owner)
        if let limit = parameters["limit"].map(String.init) {
            guard let value = Int(limit), (1...Self.maxPageSize).contains(value) else {
                throw APIError.invalidValue("limit", "'limit' must be an integer from 1 to \(Self.maxPageSize)")
            }
            query.limit = value
        }
        switch parameters["order"].map(String.init) ?? "desc" {
        case "desc": query.ascending = false
        case "asc": query.ascending = true
        default: throw APIError.invalidValue("order", "'order' must be asc or desc")
        }
        if let after = parameters["after"].map(String.init) {
            guard let cursor = try await service.store.task(id: after), cursor.kind == .video, TaskOperations.visible(cursor, to: context.owner) else {
                throw APIError.invalidValue("after", "'after' must be the id of a video from a previous page")
            }
            query.after = after
        }
        let page = try await service.store.list(query)
        let objects = page.tasks.compactMap(Self.object)
        return try JSONResponse.make(VideoList(data: objects, firstID: objects.first?.id, lastID: objects.last?.id, hasMore: page.hasMore))
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        var (task, _) = try await service.find(id, kind: .video, owner: context.owner)
        if !task.status.isTerminal {
            do {
                task = try await service.cancel(id, owner: context.owner)
            } catch let error as APIError where error.status == .conflict {
                // Past cancelling (its file is being stored): a moment later it is terminal.
                throw APIError(
                    status: .conflict, kind: .conflict, code: "video_not_deletable",
                    message: "the video is being stored right now; delete it again in a moment")
            }
        }
        guard try await pruner.deleteTask(id: id) != nil else { throw APIError.taskNotFound(id) }
        context.logger.info("video deleted", metadata: ["task.id": "\(id)", "task.kind": "video", "task.status": "\(task.status.rawValue)"])
        return try JSONResponse.make(VideoDeleted(id: id))
    }

    /// `?variant=video` (default) or `thumbnail`: the stored bytes, with `Range` and `ETag` as `/files` answers them.
    @Sendable func content(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let (task, artifacts) = try await service.find(id, kind: .video, owner: context.owner)
        let variant = request.uri.queryParameters["variant"].map(String.init) ?? "video"
        let wanted: MediaClass
        switch variant {
        case "video": wanted = .video
        case "thumbnail": wanted = .image
        default:
            throw APIError.invalidValue("variant", "'variant' must be video or thumbnail (this server keeps no '\(variant)')")
        }
        guard task.status == .completed else {
            throw APIError(
                status: .conflict, kind: .conflict, code: "video_not_ready",
                message: "the video is \(VideoObject.status(task.status)); its content is there once it is completed")
        }
        guard let artifact = artifacts.first(where: { DetectedMedia(contentType: $0.contentType).map(wanted.admits) ?? false }) else {
            throw APIError(
                status: .notFound, kind: .notFound, code: "variant_not_found",
                message: "video \(id) has no \(variant)" + (variant == "thumbnail" ? " (the provider made no poster for it)" : ""))
        }
        guard artifact.prunedAt == nil else {
            throw APIError(status: .gone, kind: .notFound, code: "file_expired", message: "the \(variant) of video \(id) expired and was removed")
        }
        return try await ArtifactResponse.get(artifact, request: request, storage: service.storage)
    }

    // MARK: Helpers

    /// The video object, with `openai-poll-after-ms` while it is unfinished.
    private func answer(_ task: MediaTask, extraHeaders: HTTPFields = [:]) throws -> Response {
        guard let object = Self.object(task) else { throw APIError.taskNotFound(task.id) }
        var headers = extraHeaders
        headers.append(contentsOf: Self.pollHeaders(task, now: Date()))
        return try JSONResponse.make(object, headers: headers)
    }

    /// `openai-poll-after-ms` for an unfinished task (``pollAfter(_:now:)``); none once it is terminal.
    static func pollHeaders(_ task: MediaTask, now: Date) -> HTTPFields {
        guard !task.status.isTerminal else { return [:] }
        return [pollAfterField: String(pollAfter(task, now: now).millis)]
    }

    /// The header the OpenAI SDKs' poll helpers wait by.
    static var pollAfterField: HTTPField.Name { HTTPField.Name("openai-poll-after-ms")! }

    /// When the worker next looks at the task (its own polling schedule), at least ``minimumPollAfter`` away.
    static func pollAfter(_ task: MediaTask, now: Date) -> Duration {
        let due = Duration.milliseconds(Int64(max(0, task.nextAttemptAt.timeIntervalSince(now)) * 1000))
        return max(due, minimumPollAfter)
    }

    static func object(_ task: MediaTask) -> VideoObject? {
        guard case .video(let request) = task.request else { return nil }
        return VideoObject(task, request: request)
    }

    /// The create body as a JSON object or as `multipart/form-data`.
    private func readInput(_ request: Request) async throws -> VideoCreateInput {
        let contentType = request.headers[.contentType] ?? ""
        guard MultipartFormBody.isFormData(contentType: contentType) else {
            return try await body.decode(VideoCreateInput.self, from: request)
        }
        guard let boundary = MultipartFormBody.boundary(contentType: contentType) else {
            throw APIError.invalidRequest("a multipart/form-data body needs a boundary parameter of 1 to 70 characters", code: "invalid_multipart")
        }
        // Read as it comes: a reference image is refused when its part begins, whatever its size.
        let form = try await MultipartFormBody.read(
            request.body, boundary: boundary, maxBytes: body.maxBytes, declaredLength: request.headers[.contentLength].flatMap(Int.init),
            fileNames: [Self.referenceField])
        if let file = form.filePart {
            throw APIError.invalidValue(
                file, "'\(file)' is not supported: this server makes videos from a text prompt only and takes no files (the upstream provider has no reference image input)")
        }
        return try VideoCreateInput(form: form.fields, maxDepth: body.maxDepth)
    }

    private func validate(_ input: VideoCreateInput) throws -> VideoRequest {
        let prompt = try service.text(input.prompt, field: "prompt", required: true, maxLength: service.limits.maxPromptLength) ?? ""
        let model = input.model ?? VideoRequest.defaultModel
        guard Self.models.contains(model) else {
            throw APIError.invalidRequest(
                "unknown model '\(model)'; this server serves \(Self.models.joined(separator: ", "))", code: "model_not_found", param: "model")
        }
        do {
            return try VideoRequest.mapping(
                model: model, prompt: prompt, seconds: input.seconds, size: input.size, duration: input.duration, resolution: input.resolution,
                aspectRatio: input.aspectRatio)
        } catch {
            throw APIError.invalidValue(error.param, error.message)
        }
    }
}

/// The fields of `POST /v1/videos`, from JSON (numbers or strings) or from form fields (text).
struct VideoCreateInput: JSONBodyDecodable {
    var prompt: String?
    var model: String?
    var seconds: String?
    var size: String?
    var duration: String?
    var resolution: String?
    var aspectRatio: String?
    var callbackURL: String?
    var metadata: JSONValue?

    init(_ body: JSONBodyFields) throws {
        prompt = try body.string("prompt")
        model = try body.string("model")
        seconds = try Self.wholeNumberText(body, "seconds")
        size = try body.string("size")
        duration = try Self.wholeNumberText(body, "duration")
        resolution = try body.string("resolution")
        aspectRatio = try body.string("aspect_ratio")
        callbackURL = try body.string("callback_url")
        metadata = body.value("metadata")
    }

    /// Form fields are text; `metadata` is a JSON object written as text.
    init(form: [String: String], maxDepth: Int) throws {
        prompt = form["prompt"]
        model = form["model"]
        seconds = form["seconds"]
        size = form["size"]
        duration = form["duration"]
        resolution = form["resolution"]
        aspectRatio = form["aspect_ratio"]
        callbackURL = form["callback_url"]
        if let text = form["metadata"] {
            do {
                metadata = try JSONParser.parse(ByteBuffer(string: text), maxDepth: maxDepth)
            } catch {
                throw APIError.invalidValue("metadata", "'metadata' must be a JSON object")
            }
        }
    }

    /// A field sent as `8` or `"8"`, as text; the range is checked by ``VideoRequest/mapping``.
    private static func wholeNumberText(_ body: JSONBodyFields, _ key: String) throws -> String? {
        switch body.value(key) {
        case nil: return nil
        case .string(let text)?: return text
        case .number(let number)? where number.rounded() == number && abs(number) < 1e9: return String(Int(number))
        default: throw APIError.invalidValue(key, "'\(key)' must be a whole number of seconds (a number or a string)")
        }
    }
}
