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
        var request = request
        if let header = request.headers[.range] {
            var head = request.head
            switch ByteRange.resolve(header, size: artifact.bytes) {
            case .satisfiable(let first, let last):
                head.headerFields[.range] = "bytes=\(first)-\(last)"
                request = Request(head: head, body: request.body)
            case .ignore:
                head.headerFields[.range] = nil
                request = Request(head: head, body: request.body)
            case .unsatisfiable:
                var error = APIError(
                    status: .rangeNotSatisfiable, kind: .invalidRequest, code: "range_not_satisfiable",
                    message: "the requested range is outside the file's \(artifact.bytes) bytes")
                error.headers[.contentRange] = "bytes */\(artifact.bytes)"
                throw error
            }
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

/// RFC 9110 byte ranges, resolved against the file size before the file middleware sees them
/// (it mishandles suffix ranges and ranges past the end).
enum ByteRange: Equatable {
    case satisfiable(first: Int64, last: Int64)
    /// Not a single byte range we serve (several ranges, other units, bad syntax): send the whole file.
    case ignore
    case unsatisfiable

    static func resolve(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes="), !text.contains(",") else { return .ignore }
        let spec = text.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return .ignore }
        if parts[0].isEmpty {
            // Suffix: the last N bytes.
            guard let count = Int64(parts[1]), count >= 0 else { return .ignore }
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .satisfiable(first: max(0, size - count), last: size - 1)
        }
        guard let first = Int64(parts[0]), first >= 0 else { return .ignore }
        guard first < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .satisfiable(first: first, last: size - 1) }
        guard let last = Int64(parts[1]), last >= first else { return .ignore }
        return .satisfiable(first: first, last: min(last, size - 1))
    }
}
