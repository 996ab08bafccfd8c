import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import Testing

@testable import MediaJobs

/// ``S3Client`` against a real S3 API server that checks signatures (moto, `scripts/s3-test-server`):
/// uploads (single and multipart), checks, ranges, listing pages, batched deletes, readable errors.
@Suite(.serialized) struct S3ClientTests {
    static func hex(_ bytes: [UInt8]) -> String { SigV4Signer.hex(SHA256.hash(data: bytes)) }

    static func body(_ response: HTTPClientResponse) async throws -> [UInt8] {
        Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
    }

    /// The server refuses a request signed with the wrong secret: signing is really checked.
    @Test func wrongSecretIsRefused() async throws {
        try await S3TestServer.withBucket(secret: "not-the-secret") { client in
            let error = await #expect(throws: S3Error.self) { _ = try await client.listObjectsPage(prefix: "") }
            guard case .service(_, _, 403, let code, _) = error else {
                Issue.record("expected a 403, got \(String(describing: error))")
                return
            }
            #expect(code == "SignatureDoesNotMatch")
        }
    }

    @Test func smallUploadReadsBackWithRangeAndType() async throws {
        let (file, bytes) = try S3TestServer.file(bytes: 100_000, seed: 1)
        defer { try? FileManager.default.removeItem(at: file) }
        try await S3TestServer.withBucket { client in
            let key = "prefix/task 1/odd+name=ü~.mp3"
            try await client.uploadFile(file, key: key, bytes: Int64(bytes.count), sha256: Self.hex(bytes), contentType: "audio/mpeg")
            let head = try await client.headObject(key: key)
            #expect(head?.bytes == Int64(bytes.count))
            #expect(head?.contentType == "audio/mpeg")
            #expect(try await Self.body(try await client.getObject(key: key)) == bytes)
            let partial = try await client.getObject(key: key, range: "bytes=10-19")
            #expect(partial.status == .partialContent)
            #expect(try await Self.body(partial) == Array(bytes[10...19]))
            #expect(try await client.headObject(key: "prefix/task 1/missing") == nil)
        }
    }

    /// Above the part size: parts of 5 MiB streamed from the file, joined into the same bytes.
    @Test func multipartUploadOfALargerFile() async throws {
        var settings = S3ClientSettings()
        settings.partSize = S3ClientSettings.minimumPartSize
        settings.partConcurrency = 2
        let (file, bytes) = try S3TestServer.file(bytes: 12 << 20 | 12_345, seed: 2)
        defer { try? FileManager.default.removeItem(at: file) }
        try await S3TestServer.withBucket(settings: settings) { client in
            try await client.uploadFile(file, key: "big/0.wav", bytes: Int64(bytes.count), sha256: Self.hex(bytes), contentType: "audio/wav")
            let head = try await client.headObject(key: "big/0.wav")
            #expect(head?.bytes == Int64(bytes.count))
            // A multipart object's ETag ends with its part count.
            #expect(head?.eTag?.hasSuffix("-3\"") == true)
            #expect(Self.hex(try await Self.body(try await client.getObject(key: "big/0.wav"))) == Self.hex(bytes))
        }
    }

    /// A file whose bytes are not the downloaded ones is not uploaded at all.
    @Test func checksumMismatchUploadsNothing() async throws {
        let (file, bytes) = try S3TestServer.file(bytes: 1000, seed: 3)
        defer { try? FileManager.default.removeItem(at: file) }
        try await S3TestServer.withBucket { client in
            let wrong = String(repeating: "0", count: 64)
            await #expect(throws: S3Error.checksumMismatch(expected: wrong, actual: Self.hex(bytes))) {
                try await client.uploadFile(file, key: "k", bytes: Int64(bytes.count), sha256: wrong, contentType: "audio/wav")
            }
            let head = try await client.headObject(key: "k")
            #expect(head == nil)
        }
    }

    /// A large file whose bytes are not the downloaded ones: its parts go up beside the check,
    /// then the upload is aborted: no object, no upload left open.
    @Test func checksumMismatchAbortsAMultipartUpload() async throws {
        var settings = S3ClientSettings()
        settings.partSize = S3ClientSettings.minimumPartSize
        let (file, bytes) = try S3TestServer.file(bytes: Int(11 << 20), seed: 4)
        defer { try? FileManager.default.removeItem(at: file) }
        try await S3TestServer.withBucket(settings: settings) { client in
            let wrong = String(repeating: "0", count: 64)
            await #expect(throws: S3Error.checksumMismatch(expected: wrong, actual: Self.hex(bytes))) {
                try await client.uploadFile(file, key: "big/mismatch.wav", bytes: Int64(bytes.count), sha256: wrong, contentType: "audio/wav")
            }
            #expect(try await client.headObject(key: "big/mismatch.wav") == nil)
            let uploads = try await client.send(S3Client.Call(operation: "ListMultipartUploads", method: .GET, query: [("uploads", "")]))
            let xml = try await client.xmlBody(uploads, operation: "ListMultipartUploads")
            #expect(S3XML.blocks("Upload", in: xml).isEmpty, "\(xml)")
        }
    }

    /// A multipart upload whose part fails is aborted: no upload is left open.
    @Test func failedMultipartUploadIsAborted() async throws {
        var settings = S3ClientSettings()
        settings.partSize = S3ClientSettings.minimumPartSize
        try await S3TestServer.withBucket(settings: settings) { client in
            let length = Int64(11 << 20)
            // A closed descriptor: the first part's body cannot be read.
            await #expect(throws: S3Error.self) {
                try await client.multipartUpload(
                    key: "aborted", descriptor: -1, bytes: length, partSize: settings.partSize, sha256: SigV4Signer.emptyPayloadHash, contentType: "audio/wav")
            }
            let uploads = try await client.send(S3Client.Call(operation: "ListMultipartUploads", method: .GET, query: [("uploads", "")]))
            let xml = try await client.xmlBody(uploads, operation: "ListMultipartUploads")
            #expect(S3XML.blocks("Upload", in: xml).isEmpty, "\(xml)")
        }
    }

    @Test func listingPagesAndBatchedDeletes() async throws {
        try await S3TestServer.withBucket { client in
            let keys = (0..<7).map { "p/t/\($0) file+&<x>.png" } + ["p/other/0.png", "q/0.png"]
            for key in keys {
                let (file, bytes) = try S3TestServer.file(bytes: 10, seed: UInt64(key.utf8.count))
                defer { try? FileManager.default.removeItem(at: file) }
                try await client.uploadFile(file, key: key, bytes: 10, sha256: Self.hex(bytes), contentType: "image/png")
            }
            let first = try await client.listObjectsPage(prefix: "p/t/", maxKeys: 3)
            #expect(first.objects.count == 3)
            #expect(first.continuationToken != nil)
            let all = try await client.listObjects(prefix: "p/t/", pageSize: 3)
            #expect(Set(all.map(\.key)) == Set(keys.prefix(7)))
            #expect(all.allSatisfy { $0.bytes == 10 })
            try await client.deleteObjects(all.map(\.key) + ["p/t/never-there"], batchSize: 2)
            #expect(try await client.listObjects(prefix: "p/").map(\.key) == ["p/other/0.png"])
        }
    }

    /// S3's XML error bodies become errors with their code and message.
    @Test func errorsAreReadable() async throws {
        try await S3TestServer.withBucket { client in
            let missing = try S3Client(
                endpoint: S3Endpoint(bucket: "no-such-bucket-here", region: "us-east-1", endpoint: try S3TestServer.connection().endpoint),
                credentials: client.signer.credentials, http: client.http, logger: client.logger)
            do throws(S3Error) {
                _ = try await missing.listObjectsPage(prefix: "")
                Issue.record("listing a missing bucket succeeded")
            } catch {
                #expect(error.status == 404)
                #expect(error.description.hasPrefix("S3 ListObjectsV2 no-such-bucket-here: 404 NoSuchBucket"), "\(error)")
                #expect(!error.isRetryable)
            }
            await #expect(throws: S3Error.self) { try await missing.headBucket(retrying: false) }
        }
    }

    /// Nothing listens: the call is retried, then fails as a transport error naming the target.
    @Test func unreachableServerIsRetriedThenReported() async throws {
        var settings = S3ClientSettings()
        settings.maxAttempts = 3
        settings.backoff = RetryBackoff(base: .milliseconds(1), cap: .milliseconds(5))
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        // Port 9 (discard) on loopback: refused.
        let client = S3Client(
            endpoint: try S3Endpoint(bucket: "media", region: "us-east-1", endpoint: "http://127.0.0.1:9"),
            credentials: S3Credentials(accessKeyID: "a", secretAccessKey: "b"), http: http, settings: settings, logger: .init(label: "s3-test"))
        do throws(S3Error) {
            try await client.headBucket()
            Issue.record("a refused connection succeeded")
        } catch {
            guard case .transport(let operation, let target, _) = error else {
                Issue.record("expected a transport error, got \(error)")
                try await http.shutdown()
                return
            }
            #expect(operation == "HeadBucket")
            #expect(target == "media")
            #expect(error.isRetryable)
        }
        try await http.shutdown()
    }
}
