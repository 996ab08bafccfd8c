import Crypto
import Foundation
import Logging
import Testing

@testable import MediaJobs

/// ``S3ArtifactStore`` on a real S3 API server (moto, signatures checked): keys under the prefix,
/// the temp file gone after a store, redirects, listing, deletes and readiness.
@Suite(.serialized) struct S3ArtifactStoreTests {
    /// Runs `body` with a store on a new bucket under `prefix`, its temp folder in a fresh data directory.
    static func withStore(prefix: String = "media/v1", secret: String? = nil, _ body: (S3ArtifactStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("s3-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try await S3TestServer.withBucket(secret: secret) { client in
            var settings = try #require(S3StorageSettings(url: "s3://\(client.endpoint.bucket)/\(prefix)"))
            settings.presignTTL = .seconds(600)
            let store = S3ArtifactStore(client: client, settings: settings, dataDirectory: directory, logger: Logger(label: "s3-store-test"))
            try store.prepare()
            try await body(store)
        }
    }

    static func stage(_ bytes: [UInt8], in store: S3ArtifactStore, type: String = "audio/wav") throws -> StagedFile {
        let file = store.temporaryFile()
        try Data(bytes).write(to: file)
        return StagedFile(temporaryFile: file, bytes: Int64(bytes.count), sha256: SigV4Signer.hex(SHA256.hash(data: bytes)), contentType: type)
    }

    @Test func storeUploadsUnderThePrefixAndRemovesTheTempFile() async throws {
        try await Self.withStore { store in
            let staged = try Self.stage(Array(repeating: 7, count: 4096), in: store)
            try await store.store(staged, taskID: "task_1", fileName: "0.wav")
            #expect(!FileManager.default.fileExists(atPath: staged.temporaryFile.path))
            let head = try await store.client.headObject(key: "media/v1/task_1/0.wav")
            #expect(head?.bytes == 4096)
            #expect(head?.contentType == "audio/wav")
            #expect(try await store.list(taskID: "task_1") == [StoredArtifactFile(fileName: "0.wav", bytes: 4096)])
            let artifact = TaskArtifact(
                taskID: "task_1", index: 0, fileName: "0.wav", contentType: "audio/wav", bytes: 4096, sha256: staged.sha256, sourceURL: "http://upstream.test/a")
            #expect(try await store.read(artifact) == Data(repeating: 7, count: 4096))
        }
    }

    /// A refused upload (wrong hash) still removes the temp file and stores nothing.
    @Test func failedStoreRemovesTheTempFile() async throws {
        try await Self.withStore { store in
            var staged = try Self.stage([1, 2, 3], in: store)
            staged.sha256 = String(repeating: "a", count: 64)
            await #expect(throws: ArtifactStoreError.self) { try await store.store(staged, taskID: "task_2", fileName: "0.wav") }
            #expect(!FileManager.default.fileExists(atPath: staged.temporaryFile.path))
            #expect(try await store.list(taskID: "task_2").isEmpty)
            await #expect(throws: ArtifactStoreError.invalidName("..")) { try await store.store(try Self.stage([1], in: store), taskID: "..", fileName: "0.wav") }
        }
    }

    /// `/files` gets a presigned URL for the object's key, and a client cache lifetime below its validity.
    @Test func servingIsAPresignedRedirect() async throws {
        try await Self.withStore { store in
            let artifact = TaskArtifact(
                taskID: "task_3", index: 0, fileName: "0.png", contentType: "image/png", bytes: 1, sha256: "", sourceURL: "http://upstream.test/a")
            guard case .redirect(let location, let maxAge) = store.serving(artifact) else {
                Issue.record("not a redirect")
                return
            }
            #expect(location.hasPrefix("\(store.client.endpoint.scheme)://\(store.client.endpoint.host)/\(store.client.endpoint.bucket)/media/v1/task_3/0.png?"))
            #expect(location.contains("X-Amz-Expires=600&"))
            #expect(location.contains("X-Amz-Signature="))
            #expect(maxAge == 540)
        }
    }

    @Test func deletesOneFileOrAWholeTask() async throws {
        try await Self.withStore(prefix: "") { store in
            for name in ["0.png", "1.png", "2.png"] {
                try await store.store(try Self.stage([1, 2, 3], in: store, type: "image/png"), taskID: "task_4", fileName: name)
            }
            try await store.store(try Self.stage([9], in: store, type: "image/png"), taskID: "task_40", fileName: "0.png")
            #expect(try await store.delete(taskID: "task_4", fileName: "1.png") == .deleted)
            #expect(try await store.delete(taskID: "task_4", fileName: "1.png") == .alreadyGone)
            #expect(Set(try await store.list(taskID: "task_4").map(\.fileName)) == ["0.png", "2.png"])
            #expect(try await store.deleteTask("task_4") == .deleted)
            #expect(try await store.deleteTask("task_4") == .alreadyGone)
            // A task whose id starts like another's keeps its files.
            #expect(try await store.list(taskID: "task_40").map(\.fileName) == ["0.png"])
        }
    }

    /// A prune batch goes out as `DeleteObjects`; a bad name fails alone.
    @Test func batchDeleteRemovesEveryNamedFile() async throws {
        try await Self.withStore { store in
            for task in ["task_5", "task_6"] {
                try await store.store(try Self.stage([1, 2], in: store, type: "image/png"), taskID: task, fileName: "0.png")
            }
            let outcomes = await store.delete([
                ArtifactFileName(taskID: "task_5", fileName: "0.png"), ArtifactFileName(taskID: "..", fileName: "0.png"),
                ArtifactFileName(taskID: "task_6", fileName: "0.png"),
            ])
            #expect(outcomes.count == 3)
            #expect((try? outcomes[0].get()) == .deleted)
            #expect((try? outcomes[2].get()) == .deleted)
            guard case .failure(.invalidName("..")) = outcomes[1] else {
                Issue.record("expected the bad name refused, got \(outcomes[1])")
                return
            }
            let left = try await store.client.listObjects(prefix: "media/v1/")
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test func readinessChecksTheBucket() async throws {
        try await Self.withStore { store in
            #expect(await store.readiness(minimumFreeBytes: .max) == .ready)
        }
        try await Self.withStore(secret: "wrong-secret") { store in
            let readiness = await store.readiness(minimumFreeBytes: 0)
            #expect(readiness != .ready)
            #expect(readiness.description.contains("refused these credentials"), "\(readiness)")
            #expect(!readiness.description.contains("wrong-secret"))
        }
    }
}
