import Foundation
import Hummingbird

/// `GET /files/<task id>/<file>`: stored artifacts with Content-Type, ETag, Range and long-lived caching.
///
/// Only files that have an artifact row are served (never temp files or strays); a pruned
/// artifact answers 410 so clients can tell "expired" from "never existed".
struct FilesController<Context: AuthenticatedRequestContext> {
    let service: TaskService

    func addRoutes(to router: Router<Context>) {
        let files = router.group("files")
            .add(middleware: ArtifactGate(store: service.store))
            .add(
                middleware: FileMiddleware<Context, LocalFileSystem>(
                    service.storage.mediaDirectory.path,
                    urlBasePath: "/files",
                    // Artifact paths never change content, so caches may keep them for a year.
                    cacheControl: CacheControl([(MediaType(type: .any), [.public, .maxAge(31_536_000), .immutable])])
                )
                .withAdditionalMediaType(.init(type: .audio, subType: "wav"), mappedToFileExtension: "wav"))
        // The middleware serve the file when the route below answers "not found".
        files.get("{task}/{file}") { _, _ -> Response in throw HTTPError(.notFound) }
        files.head("{task}/{file}") { _, _ -> Response in throw HTTPError(.notFound) }
    }
}

/// Lets a `/files` request through only for a recorded, unpruned artifact.
struct ArtifactGate<Context: AuthenticatedRequestContext>: RouterMiddleware {
    let store: any TaskStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let taskID = context.parameters.get("task"), let fileName = context.parameters.get("file"),
            let artifact = try await store.artifact(taskID: taskID, fileName: fileName),
            try await ownsTask(taskID, context: context)
        else {
            throw APIError(status: .notFound, kind: .notFound, code: "file_not_found", message: "no stored file at \(request.uri.path)")
        }
        if artifact.prunedAt != nil {
            throw APIError(status: .gone, kind: .notFound, code: "file_expired", message: "this file was removed by the retention policy")
        }
        return try await next(request, context)
    }

    /// With API keys, a file is served only to the key that created its task.
    private func ownsTask(_ taskID: String, context: Context) async throws -> Bool {
        guard context.owner != nil else { return true }
        guard let task = try await store.task(id: taskID) else { return false }
        return TaskService.visible(task, to: context.owner)
    }
}
