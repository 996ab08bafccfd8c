import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import MediaJobs

/// `/files` for storage that streams the bytes through (``ArtifactServing/proxy``, the S3 store's
/// `proxy` mode): the head comes from the row as for a local file, the body is the store's stream
/// of exactly the answered range, and the event loop leaves these `GET`s to the router.
@Suite struct FilesProxyTests {
    /// Streams slices of fixed bytes in small buffers and records the ranges asked for.
    struct StreamingStore: ArtifactStore {
        static let bytes = (0..<1234).map { UInt8(truncatingIfNeeded: $0 &* 7) }

        func serving(_ artifact: TaskArtifact) -> ArtifactServing { .proxy }
        func stream(_ artifact: TaskArtifact, range: ClosedRange<Int64>) async throws(ArtifactStoreError) -> ArtifactByteStream {
            let slice = Array(Self.bytes[Int(range.lowerBound)...Int(range.upperBound)])
            let chunks = stride(from: 0, to: slice.count, by: 100).map { ByteBuffer(bytes: slice[$0..<min($0 + 100, slice.count)]) }
            return chunks.async
        }
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

    @Test func getStreamsTheAnsweredRange() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let artifact = try await FilesRedirectTests.storedArtifact(in: store)
        let service = TaskOperations(
            store: store, storage: StreamingStore(), publicURLs: PublicURLs(baseURL: "http://mediajobs.test"), signals: StageSignals(),
            events: TaskEvents(), limits: SubmissionLimits(), urlGuard: OutboundURLGuard(), taskTimeout: .seconds(600))
        let router = Router(context: MediaJobsRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        FilesController(service: service).addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            let path = "/files/\(artifact.relativePath)"
            let whole = try await client.get(path)
            #expect(whole.status == .ok)
            #expect(Array(whole.body.readableBytesView) == StreamingStore.bytes)
            #expect(whole.headers[.contentType] == "image/png")
            #expect(whole.headers[.eTag] == "\"\(artifact.sha256)\"")
            #expect(whole.headers[.contentLength] == "1234")

            let part = try await client.get(path, headers: [.range: "bytes=250-"])
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 250-1233/1234")
            #expect(Array(part.body.readableBytesView) == Array(StreamingStore.bytes[250...]))

            #expect(try await client.get(path, headers: [.ifNoneMatch: "\"\(artifact.sha256)\""]).status == .notModified)
        }
    }

    @Test func theEventLoopLeavesProxiedGetsToTheRouter() async throws {
        let store = try SQLiteStore.inMemory(outbox: .testing).tasks
        let artifact = try await FilesRedirectTests.storedArtifact(in: store)
        let files = FilesFastPath(store: store, storage: StreamingStore())
        let path = "/files/\(artifact.relativePath)"
        let get = files.answer(HTTPRequestHead(version: .http1_1, method: .GET, uri: path), taskID: artifact.taskID, fileName: artifact.fileName, requester: nil, logger: Logger(label: "test"))
        #expect(get == nil)
        let head = try #require(
            files.answer(HTTPRequestHead(version: .http1_1, method: .HEAD, uri: path), taskID: artifact.taskID, fileName: artifact.fileName, requester: nil, logger: Logger(label: "test")))
        #expect(head.status == .ok)
        #expect(head.headers["content-length"] == ["1234"])
    }
}

extension Array where Element == ByteBuffer {
    /// The buffers as an async sequence, one at a time.
    fileprivate var async: AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            for buffer in self { continuation.yield(buffer) }
            continuation.finish()
        }
    }
}
