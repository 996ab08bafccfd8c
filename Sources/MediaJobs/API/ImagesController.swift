import Foundation
import HTTPTypes
import Hummingbird

/// The OpenAI-compatible image routes: `POST /v1/images/generations` and `GET /v1/images/generations/{id}`.
struct ImagesController<Context: AuthenticatedRequestContext> {
    let service: TaskOperations
    let body: JSONRequestBody
    /// How long a synchronous generation waits before answering 202 with the task.
    let syncWait: Duration

    /// Models the upstream serves; anything else is refused at once instead of failing later.
    static var models: [String] { ["nano-banana-2"] }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("generations", use: create)
        group.get("generations/{id}", use: get)
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let input = try await body.decode(ImageGenerationRequestBody.self, from: request)
        let image = try validate(input)
        let outcome = try await service.accept(
            .image(image), extras: SubmissionExtras(callbackURL: input.callbackURL, metadata: input.metadata), owner: context.owner,
            idempotencyKey: request.headers[.idempotencyKey])
        let task = outcome.task
        context.logger.info("image task accepted", metadata: ["task.id": "\(task.id)", "task.kind": "image"])
        var location: HTTPFields = [.location: "/v1/images/generations/\(task.id)"]
        location.append(contentsOf: outcome.replayHeaders)
        let preferAsync = request.headers[values: HTTPField.Name("Prefer")!].contains { $0.lowercased().contains("respond-async") }
        if preferAsync {
            return try JSONResponse.make(service.representations.image(task, artifacts: []), status: .accepted, headers: location)
        }
        let latest = try await service.events.waitForTerminal(taskID: task.id, timeout: syncWait) {
            try await service.store.task(id: task.id)
        } ?? task
        let artifacts = try await service.store.artifacts(forTasks: [task.id])[task.id] ?? []
        switch latest.status {
        case .completed:
            return try JSONResponse.make(
                OpenAIImagesResponse(created: latest.createdAt.unixSeconds, data: try await items(artifacts, format: image.responseFormat)), headers: outcome.replayHeaders)
        case .failed, .canceled:
            var error = APIError(
                status: .internalServerError, kind: .server, code: latest.status == .failed ? "generation_failed" : "task_canceled",
                message: "image generation \(latest.status.rawValue): \(latest.failReason ?? "canceled") (task \(latest.id))")
            // The task is over; the OpenAI SDKs honour this and do not resubmit it behind the caller's back.
            error.headers[HTTPField.Name("x-should-retry")!] = "false"
            throw error
        case .queued, .processing, .downloading:
            return try JSONResponse.make(service.representations.image(latest, artifacts: artifacts), status: .accepted, headers: location)
        }
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let (task, artifacts) = try await service.find(id, kind: .image, owner: context.owner)
        return try JSONResponse.make(service.representations.image(task, artifacts: artifacts))
    }

    private func validate(_ input: ImageGenerationRequestBody) throws -> ImageRequest {
        let limits = service.limits
        let prompt = try service.text(input.prompt, field: "prompt", required: true, maxLength: limits.maxPromptLength) ?? ""
        let model = input.model ?? Self.models[0]
        guard Self.models.contains(model) else {
            throw APIError.invalidRequest(
                "unknown model '\(model)'; this server serves \(Self.models.joined(separator: ", "))", code: "model_not_found", param: "model")
        }
        let count = input.n ?? 1
        guard (1...limits.maxImages).contains(count) else {
            throw APIError.invalidValue("n", "'n' must be between 1 and \(limits.maxImages)")
        }
        var size: ImageSize?
        if let text = input.size, text != "auto" {
            guard let parsed = ImageSize(parsing: text) else {
                throw APIError.invalidValue("size", "'size' must look like 1024x1024, each side 64 to \(ImageSize.maximumSide)")
            }
            size = parsed
        }
        if let resolution = input.imageSize, ImageSize(resolution: resolution) == nil {
            throw APIError.invalidValue("image_size", "'image_size' must be 1K, 2K or 4K")
        }
        let format: ImageRequest.ResponseFormat
        switch input.responseFormat ?? "url" {
        case "url": format = .url
        case "b64_json": format = .b64JSON
        default: throw APIError.invalidValue("response_format", "'response_format' must be url or b64_json")
        }
        return ImageRequest(model: model, prompt: prompt, count: count, size: size, imageSize: input.imageSize?.uppercased(), responseFormat: format)
    }

    /// OpenAI's `data` entries: our stable URLs, or the stored bytes in base64.
    private func items(_ artifacts: [TaskArtifact], format: ImageRequest.ResponseFormat) async throws -> [ImageURLItem] {
        var items: [ImageURLItem] = []
        for artifact in artifacts {
            switch format {
            case .url:
                items.append(ImageURLItem(url: service.publicURLs.url(for: artifact)))
            case .b64JSON:
                items.append(ImageURLItem(b64JSON: try await service.storage.read(artifact).base64EncodedString()))
            }
        }
        return items
    }
}

struct ImageGenerationRequestBody: JSONBodyDecodable {
    var model: String?
    var prompt: String?
    var n: Int?
    var size: String?
    var imageSize: String?
    var responseFormat: String?
    var callbackURL: String?
    var metadata: JSONValue?

    init(_ body: JSONBodyFields) throws {
        model = try body.string("model")
        prompt = try body.string("prompt")
        n = try body.int("n")
        size = try body.string("size")
        imageSize = try body.string("image_size")
        responseFormat = try body.string("response_format")
        callbackURL = try body.string("callback_url")
        metadata = body.value("metadata")
    }
}

struct OpenAIImagesResponse: Encodable {
    var created: Int64
    var data: [ImageURLItem]
}
