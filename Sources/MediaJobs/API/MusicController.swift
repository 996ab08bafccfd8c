import Foundation
import Hummingbird

/// The Suno-style music routes: `/suno/submit/music`, `/suno/fetch/{id}`, `/suno/fetch`.
struct MusicController<Context: AuthenticatedRequestContext> {
    let service: TaskOperations
    let body: JSONRequestBody

    /// Most ids one batch fetch may name.
    static var maxBatch: Int { 100 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("submit/music", use: submit)
        group.get("fetch/{id}", use: fetch)
        group.post("fetch", use: fetchBatch)
    }

    @Sendable func submit(_ request: Request, context: Context) async throws -> Response {
        let input = try await body.decode(MusicSubmitBody.self, from: request)
        let outcome = try await service.accept(
            .music(try Self.musicRequest(input, service)), extras: input.extras, owner: context.owner, idempotencyKey: request.headers[.idempotencyKey])
        return JSONResponse.make(Self.submitAnswer(outcome.task), headers: outcome.replayHeaders)
    }

    /// The music task a submit body asks for, validated; also used by ``SubmitFastPath``.
    static func musicRequest(_ input: MusicSubmitBody, _ service: TaskOperations) throws -> MusicRequest {
        let limits = service.limits
        return MusicRequest(
            prompt: try service.text(input.prompt, field: "prompt", required: true, maxLength: limits.maxPromptLength) ?? "",
            style: try service.text(input.style, field: "style", maxLength: limits.maxShortFieldLength),
            title: try service.text(input.title, field: "title", maxLength: limits.maxShortFieldLength),
            lyrics: try service.text(input.lyrics, field: "lyrics", maxLength: limits.maxLyricsLength),
            makeInstrumental: input.makeInstrumental ?? false)
    }

    /// The answer of `submit`, also written by ``SubmitFastPath`` on the event loop.
    static func submitAnswer(_ task: MediaTask) -> SunoEnvelopeResponse<SunoSubmitted> {
        SunoEnvelopeResponse(data: SunoSubmitted(taskID: task.id))
    }

    @Sendable func fetch(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let (task, artifacts) = try await service.findStatus(id, kind: .music, owner: context.owner)
        return JSONResponse.make(Self.statusAnswer(task, artifacts: artifacts, service.representations))
    }

    /// The answer of `fetch`, also written by ``StatusFastPath`` on the event loop.
    static func statusAnswer(_ task: TaskStatusRecord, artifacts: [TaskArtifact], _ representations: TaskRepresentations) -> SunoEnvelopeResponse<SunoTask> {
        SunoEnvelopeResponse(data: representations.suno(task, artifacts: artifacts))
    }

    @Sendable func fetchBatch(_ request: Request, context: Context) async throws -> Response {
        let input = try await body.decode(BatchFetchBody.self, from: request)
        guard let ids = input.ids else { throw APIError.missing("ids") }
        guard ids.count <= Self.maxBatch else { throw APIError.invalidValue("ids", "'ids' may name at most \(Self.maxBatch) tasks") }
        let tasks = try await service.store.tasks(ids: ids).filter { $0.kind == .music && TaskOperations.visible($0, to: context.owner) }
        let artifacts = try await service.store.artifacts(forTasks: tasks.map(\.id))
        let objects = tasks.map { service.representations.suno($0.statusRecord, artifacts: artifacts[$0.id] ?? []) }
        return JSONResponse.make(SunoEnvelopeResponse(data: objects))
    }
}

struct MusicSubmitBody: JSONBodyDecodable {
    var prompt: String?
    var style: String?
    var title: String?
    var lyrics: String?
    var makeInstrumental: Bool?
    var callbackURL: String?
    var metadata: JSONValue?

    init(_ body: JSONBodyFields) throws {
        prompt = try body.string("prompt")
        style = try body.string("style")
        title = try body.string("title")
        lyrics = try body.string("lyrics")
        makeInstrumental = try body.bool("make_instrumental")
        callbackURL = try body.string("callback_url")
        metadata = body.value("metadata")
    }

    var extras: SubmissionExtras { SubmissionExtras(callbackURL: callbackURL, metadata: metadata) }
}

struct BatchFetchBody: JSONBodyDecodable {
    var ids: [String]?

    init(_ body: JSONBodyFields) throws {
        ids = try body.strings("ids")
    }
}
