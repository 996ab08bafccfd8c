import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOHTTP1
import Testing

@testable import MediaJobs

/// `/files` for storage that serves by redirect (``ArtifactServing/redirect(location:)``), as an
/// object store with presigned URLs will: a `GET` with bytes to send answers 307 with the store's
/// location, through the router and on the event loop; what the row alone answers stays the same.
@Suite struct FilesRedirectTests {
    /// A test conformance that redirects without a bucket behind it. Only serving is asked of it here;
    /// the rest of the protocol is refused, so a test that reached it would fail loudly.
    struct RedirectingStore: ArtifactStore {
        static let origin = "https://objects.test"

        static func location(_ artifact: TaskArtifact) -> String {
            "\(origin)/\(artifact.relativePath)?signature=test"
        }

        func serving(_ artifact: TaskArtifact) -> ArtifactServing { .redirect(location: Self.location(artifact)) }
        func temporaryFile() -> URL { FileManager.default.temporaryDirectory.appendingPathComponent("unused") }
        func removeLeftoverTemporaryFiles() async throws(ArtifactStoreError) -> Int { throw .failed("not used by this test") }
        func store(_ file: StagedFile, taskID: String, fileName: String) async throws(ArtifactStoreError) { throw .failed("not used by this test") }
        func read(_ artifact: TaskArtifact) async throws(ArtifactStoreError) -> Data { throw .failed("not used by this test") }
        func list(taskID: String) async throws(ArtifactStoreError) -> [StoredArtifactFile] { throw .failed("not used by this test") }
        func listAll() async throws(ArtifactStoreError) -> [StoredObject] { throw .failed("not used by this test") }
        func delete(taskID: String, fileName: String) async throws(ArtifactStoreError) -> ArtifactDeletion { throw .failed("not used by this test") }
        func deleteTask(_ taskID: String) async throws(ArtifactStoreError) -> ArtifactDeletion { throw .failed("not used by this test") }
        func readiness(minimumFreeBytes: Int64) async -> StorageReadiness { .ready }
    }

    /// An image artifact's row (there is no file: the store redirects).
    static func artifact(taskID: String) -> TaskArtifact {
        TaskArtifact(
            taskID: taskID, index: 0, fileName: "0.png", contentType: "image/png", bytes: 1234, sha256: String(repeating: "ab", count: 32),
            sourceURL: "http://upstream.test/0.png")
    }

    /// A task with one artifact row, saved as the downloader saves it.
    static func storedArtifact(in store: SQLiteTaskStore) async throws -> TaskArtifact {
        var task = MediaTask(request: .image(ImageRequest(model: "nano-banana-2", prompt: "redirect")), deadline: .seconds(600))
        task.status = .downloading
        task.leaseOwner = "test"
        task.leaseExpiresAt = Date().addingTimeInterval(600)
        try await store.insert(task)
        let artifact = artifact(taskID: task.id)
        try await store.saveArtifact(artifact, lease: try #require(task.lease))
        return artifact
    }

    /// ``FilesController`` behind the error envelope, on a task store holding one artifact row.
    static func withRoutes(_ body: @Sendable (any TestClientProtocol, TaskArtifact) async throws -> Void) async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let artifact = try await storedArtifact(in: store)
        let service = TaskOperations(
            store: store, storage: RedirectingStore(), publicURLs: PublicURLs(baseURL: "http://mediajobs.test"), signals: StageSignals(),
            events: TaskEvents(), limits: SubmissionLimits(), urlGuard: OutboundURLGuard(), taskTimeout: .seconds(600))
        let router = Router(context: MediaJobsRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        FilesController(service: service).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in try await body(client, artifact) }
    }

    @Test func getAnswers307ToTheStoresLocation() async throws {
        try await Self.withRoutes { client, artifact in
            for headers: HTTPFields in [[:], [.range: "bytes=0-9"], [.ifNoneMatch: "\"other\""]] {
                let response = try await client.get("/files/\(artifact.relativePath)", headers: headers)
                #expect(response.status == .temporaryRedirect, "\(headers)")
                #expect(response.headers[.location] == RedirectingStore.location(artifact))
                #expect(response.headers[.cacheControl] == "private")
                #expect(response.headers[.contentLength] == "0")
                #expect(response.headers[.eTag] == nil)
                #expect(response.headers[HTTPField.Name(SendfileMarker.headerName)!] == nil)
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func whatTheRowAnswersStaysTheSame() async throws {
        try await Self.withRoutes { client, artifact in
            let path = "/files/\(artifact.relativePath)"
            // The client's copy is current: no need to send it anywhere.
            let cached = try await client.get(path, headers: [.ifNoneMatch: "\"\(artifact.sha256)\""])
            #expect(cached.status == .notModified)
            #expect(cached.headers[.location] == nil)

            let outside = try await client.get(path, headers: [.range: "bytes=5000-"])
            #expect(outside.status == .rangeNotSatisfiable)

            // A presigned location is good for a GET only: HEAD is answered from the row.
            let head = try await client.execute(uri: path, method: .head)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == "1234")
            #expect(head.headers[.eTag] == "\"\(artifact.sha256)\"")
            #expect(head.headers[.location] == nil)

            #expect(try await client.get("/files/\(artifact.taskID)/9.png").status == .notFound)
        }
    }

    @Test func theEventLoopAnswersTheSame() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let artifact = try await Self.storedArtifact(in: store)
        let files = FilesFastPath(store: store, storage: RedirectingStore())
        let path = "/files/\(artifact.relativePath)"

        let get = try #require(
            files.answer(HTTPRequestHead(version: .http1_1, method: .GET, uri: path), taskID: artifact.taskID, fileName: artifact.fileName, requester: nil, logger: Logger(label: "test")))
        #expect(get.status == .temporaryRedirect)
        #expect(get.headers["location"] == [RedirectingStore.location(artifact)])
        #expect(get.headers["cache-control"] == ["private"])
        #expect(get.headers["content-length"] == ["0"])
        #expect(!get.headers.contains(name: SendfileMarker.headerName))
        #expect(get.body == nil)

        let head = try #require(
            files.answer(HTTPRequestHead(version: .http1_1, method: .HEAD, uri: path), taskID: artifact.taskID, fileName: artifact.fileName, requester: nil, logger: Logger(label: "test")))
        #expect(head.status == .ok)
        #expect(head.headers["content-length"] == ["1234"])
        #expect(!head.headers.contains(name: "location"))
    }
}
