import Foundation
import Hummingbird

/// `GET /files/<task id>/<file>`: stored artifacts with Content-Type, ETag, Range and long-lived caching.
///
/// Only files that have an artifact row are served (never temp files or strays); a pruned
/// artifact answers 410 so clients can tell "expired" from "never existed". Where the bytes come
/// from is the ``ArtifactStore``'s ``ArtifactServing``: for a local file the route answers with the
/// head only and ``FileRegionWriter`` sends the bytes with `sendfile(2)`, as nginx does, instead of
/// reading the file into buffers and copying them to the socket; for a redirect it answers 307.
/// Plain requests usually never get here: ``HotRouteHandler`` answers them on the event loop with
/// the same ``ArtifactGate`` and ``ArtifactResponse``, and hands everything else to this route.
struct FilesController<Context: AuthenticatedRequestContext> {
    let service: TaskOperations

    func addRoutes(to router: Router<Context>) {
        router.get("files/{task}/{file}", use: get)
        router.head("files/{task}/{file}", use: head)
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let artifact = try await ArtifactGate(store: service.store).admit(request, context: context)
        return try await ArtifactResponse.get(artifact, request: request, storage: service.storage)
    }

    /// The row says everything a `HEAD` answer holds; storage is not asked (a redirect's location,
    /// such as a presigned URL, is good for a `GET` only).
    @Sendable func head(_ request: Request, context: Context) async throws -> Response {
        let artifact = try await ArtifactGate(store: service.store).admit(request, context: context)
        return try ArtifactResponse(for: artifact, request: FileRequestHeaders(request.headers)).response(marker: nil)
    }
}

/// Lets a `/files` request through only for a recorded, unpruned artifact.
struct ArtifactGate {
    let store: any TaskStore

    /// The artifact the request names, or the error the client gets (404, 410).
    func admit<Context: AuthenticatedRequestContext>(_ request: Request, context: Context) async throws -> TaskArtifact {
        guard let taskID = context.parameters.get("task"), let fileName = context.parameters.get("file") else {
            throw Self.notFound(request.uri.path)
        }
        return try Self.admit(try await store.artifact(taskID: taskID, fileName: fileName), requester: context.owner, path: request.uri.path)
    }

    /// The rules, shared with the event-loop answers: a row must exist, with API keys it must be
    /// the requester's own (`requester` is nil when the server runs without keys), and it must not be pruned.
    static func admit(_ found: (artifact: TaskArtifact, owner: String?)?, requester: String?, path: String) throws -> TaskArtifact {
        guard let found, requester == nil || found.owner == requester else { throw notFound(path) }
        if found.artifact.prunedAt != nil {
            throw APIError(status: .gone, kind: .notFound, code: "file_expired", message: "this file was removed by the retention policy")
        }
        return found.artifact
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, kind: .notFound, code: "file_not_found", message: "no stored file at \(path)")
    }
}

/// The request headers a `/files` answer depends on, whichever HTTP types they came in.
struct FileRequestHeaders {
    var range: String?
    var ifRange: String?
    /// Every `If-None-Match` field as sent (each may hold a list).
    var ifNoneMatch: [String] = []
    var ifModifiedSince: String?
}

extension FileRequestHeaders {
    init(_ fields: HTTPFields) {
        self.init(range: fields[.range], ifRange: fields[.ifRange], ifNoneMatch: fields[values: .ifNoneMatch], ifModifiedSince: fields[.ifModifiedSince])
    }
}

/// The answer to an admitted `/files` request: 200, 206 or 304 (416 is thrown), built from the
/// artifact row alone (size, type, hash, time), so no `stat` is needed before the file is opened
/// to be sent; a `GET` whose bytes are elsewhere becomes a 307 (``sendBody(_:)``).
struct ArtifactResponse {
    /// The whole answer to a `GET` of `artifact` (`/files`, a video's content): its head, and its
    /// bytes as storage serves them — sendfile, a 307, or streamed through.
    static func get(_ artifact: TaskArtifact, request: Request, storage: any ArtifactStore) async throws -> Response {
        var answer = try ArtifactResponse(for: artifact, request: FileRequestHeaders(request.headers))
        guard let bytes = answer.bytes else { return answer.response(marker: nil) }
        let serving = storage.serving(artifact)
        if case .proxy = serving {
            let stream = try await storage.stream(artifact, range: bytes)
            return Response(status: answer.status, headers: answer.headers, body: ResponseBody(asyncSequence: stream))
        }
        // Two statements: `sendBody` may turn the answer into a 307, which `response` must see.
        let marker = answer.sendBody(serving)
        return answer.response(marker: marker)
    }

    var status: HTTPResponse.Status
    var headers: HTTPFields
    /// The bytes to send after the head, inclusive; nil when there are none (304, empty file, 307).
    var bytes: ClosedRange<Int64>?

    /// Artifact paths never change content, so caches may keep them for a year.
    static let cacheControl = "public, max-age=31536000, immutable"
    /// A redirect's location is the requester's own and expires (a presigned URL): no shared caching.
    static let redirectCacheControl = "private"

    /// A 307 to where the bytes are; the client sends its `Range` and conditions there. With
    /// `maxAge` the client may reuse the redirect that long (the location stays valid longer).
    init(redirectingTo location: String, maxAge: Int? = nil) {
        status = .temporaryRedirect
        let cacheControl = maxAge.map { "\(Self.redirectCacheControl), max-age=\($0)" } ?? Self.redirectCacheControl
        headers = [.location: location, .cacheControl: cacheControl, .contentLength: "0"]
        bytes = nil
    }

    init(for artifact: TaskArtifact, request: FileRequestHeaders) throws {
        // The content hash makes a strong validator: equal ETags mean equal bytes, which is what
        // `If-Range` needs, and a re-download of the same bytes keeps clients' caches valid.
        let eTag = "\"\(artifact.sha256)\""
        let lastModified = HTTPDate.format(artifact.createdAt)
        let size = artifact.bytes
        headers = [
            .contentType: artifact.contentType,
            .eTag: eTag,
            .lastModified: lastModified,
            .cacheControl: Self.cacheControl,
            .acceptRanges: "bytes",
        ]
        if Self.isNotModified(request, eTag: eTag, modified: artifact.createdAt) {
            // The length the 200 would have had (RFC 9110 §8.6); NIO's encoder drops it on a 304 anyway.
            headers[.contentLength] = String(size)
            status = .notModified
            return
        }
        status = .ok
        var (first, last) = (Int64(0), size - 1)
        if let range = request.range, Self.rangeStillApplies(request, eTag: eTag, lastModified: lastModified) {
            switch ByteRange.resolve(range, size: size) {
            case .satisfiable(let rangeFirst, let rangeLast):
                status = .partialContent
                (first, last) = (rangeFirst, rangeLast)
                headers[.contentRange] = "bytes \(first)-\(last)/\(size)"
            case .ignore:
                break
            case .unsatisfiable:
                var error = APIError(
                    status: .rangeNotSatisfiable, kind: .invalidRequest, code: "range_not_satisfiable",
                    message: "the requested range is outside the file's \(size) bytes")
                error.headers[.contentRange] = "bytes */\(size)"
                throw error
            }
        }
        headers[.contentLength] = String(last - first + 1)
        bytes = last >= first ? first...last : nil
    }

    /// Where a `GET` answer's bytes come from (`serving`, asked of storage once per request and
    /// only when there are bytes to send: a presigned URL is computed for it): a local file gives
    /// the marker for ``FileRegionWriter`` to send it with (each path puts it into its own kind of
    /// head), a redirect turns this answer into a 307; a proxied body is the routed handler's.
    mutating func sendBody(_ serving: ArtifactServing) -> SendfileMarker? {
        guard let bytes else { return nil }
        switch serving {
        case .localFile(let path):
            return SendfileMarker(path: path, first: bytes.lowerBound, last: bytes.upperBound)
        case .redirect(let location, let maxAge):
            self = ArtifactResponse(redirectingTo: location, maxAge: maxAge)
            return nil
        case .proxy:
            // Streamed by the routed handler (``FilesController/get(_:context:)``); the event loop leaves these to it.
            return nil
        }
    }

    /// The router's response: with a marker, the head carries it for ``FileRegionWriter`` to send
    /// the bytes; without (HEAD, no bytes, a redirect), just the head.
    func response(marker: SendfileMarker?) -> Response {
        var headers = headers
        if let marker { headers[SendfileMarker.fieldName] = marker.headerValue }
        return Response(status: status, headers: headers)
    }

    /// `If-None-Match` (weak comparison, as RFC 9110 §13.1.2 asks), else `If-Modified-Since`.
    static func isNotModified(_ request: FileRequestHeaders, eTag: String, modified: Date) -> Bool {
        // A list may come as one field or several; our tags are hex, so splitting on commas is safe.
        let candidates = request.ifNoneMatch.flatMap { $0.split(separator: ",") }
        if !candidates.isEmpty {
            let ours = eTag.dropWeakPrefix
            return candidates.contains { candidate in
                let trimmed = candidate.trimmingCharacters(in: .whitespaces)
                return trimmed == "*" || trimmed.dropWeakPrefix == ours
            }
        }
        if let since = request.ifModifiedSince.flatMap(HTTPDate.parse) {
            return modified.timeIntervalSince1970.rounded(.down) <= since.timeIntervalSince1970
        }
        return false
    }

    /// `If-Range`: serve the range only if the client's copy is still this one (strong ETag
    /// comparison or the exact `Last-Modified`); otherwise the whole file (RFC 9110 §13.1.5).
    static func rangeStillApplies(_ request: FileRequestHeaders, eTag: String, lastModified: String) -> Bool {
        guard let validator = request.ifRange?.trimmingCharacters(in: .whitespaces) else { return true }
        return validator == eTag || validator == lastModified
    }
}

extension StringProtocol {
    /// An entity tag without its `W/` (weak) prefix.
    fileprivate var dropWeakPrefix: SubSequence { hasPrefix("W/") ? dropFirst(2) : self[...] }
}

/// RFC 9110 byte ranges, resolved against the artifact's recorded size.
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
