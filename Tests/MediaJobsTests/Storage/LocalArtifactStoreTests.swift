import Foundation
import Testing

@testable import MediaJobs

/// ``LocalArtifactStore`` on a real folder: storing, overwriting, serving, listing, deleting,
/// start-up cleanup, readiness, and that a failed store leaves nothing behind.
@Suite struct LocalArtifactStoreTests {
    /// Runs `body` with a prepared store in a fresh folder, removed afterwards.
    static func withStore(_ body: (LocalArtifactStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("artifact-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = LocalArtifactStore(dataDirectory: directory)
        try store.prepare()
        try await body(store)
    }

    /// A finished download of `bytes` in one of the store's temp files.
    static func stage(_ bytes: [UInt8], in store: LocalArtifactStore) throws -> StagedFile {
        let file = store.temporaryFile()
        try Data(bytes).write(to: file)
        return StagedFile(temporaryFile: file, bytes: Int64(bytes.count), sha256: String(repeating: "0", count: 64), contentType: "audio/wav")
    }

    static func artifact(_ taskID: String, _ fileName: String, bytes: Int) -> TaskArtifact {
        TaskArtifact(
            taskID: taskID, index: 0, fileName: fileName, contentType: "audio/wav", bytes: Int64(bytes), sha256: String(repeating: "0", count: 64),
            sourceURL: "http://upstream.test/\(taskID)")
    }

    /// The downloads in progress in `store`'s temporary folder (not its instance lock).
    static func temporaryFiles(_ store: LocalArtifactStore) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory.path).filter { $0 != InstanceFolderLock.fileName }
    }

    @Test func storesAFinishedFileUnderItsTaskAndName() async throws {
        try await Self.withStore { store in
            let bytes: [UInt8] = Array(0..<200)
            try await store.store(try Self.stage(bytes, in: store), taskID: "suno_a", fileName: "0.wav")
            #expect([UInt8](try Data(contentsOf: store.fileURL(taskID: "suno_a", fileName: "0.wav"))) == bytes)
            #expect(store.fileURL(taskID: "suno_a", fileName: "0.wav").path == store.mediaDirectory.path + "/suno_a/0.wav")
            #expect(try Self.temporaryFiles(store).isEmpty, "the temp file became the artifact")
            #expect(try await store.list(taskID: "suno_a") == [StoredArtifactFile(fileName: "0.wav", bytes: 200)])
        }
    }

    @Test func storingAgainOverwrites() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([1, 2, 3], in: store), taskID: "suno_a", fileName: "0.wav")
            try await store.store(try Self.stage([9, 9, 9, 9], in: store), taskID: "suno_a", fileName: "0.wav")
            #expect([UInt8](try Data(contentsOf: store.fileURL(taskID: "suno_a", fileName: "0.wav"))) == [9, 9, 9, 9])
            #expect(try await store.list(taskID: "suno_a") == [StoredArtifactFile(fileName: "0.wav", bytes: 4)])
            #expect(try Self.temporaryFiles(store).isEmpty)
        }
    }

    @Test func servesTheFileByItsPathAndReadsIt() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([4, 5, 6], in: store), taskID: "suno_a", fileName: "1.wav")
            let artifact = Self.artifact("suno_a", "1.wav", bytes: 3)
            #expect(store.serving(artifact) == .localFile(path: store.mediaDirectory.path + "/suno_a/1.wav"))
            #expect(store.serving(artifact) == .localFile(path: store.filePath(taskID: "suno_a", fileName: "1.wav")))
            #expect([UInt8](try await store.read(artifact)) == [4, 5, 6])
            await #expect(throws: ArtifactStoreError.self) { try await store.read(Self.artifact("suno_a", "7.wav", bytes: 3)) }
        }
    }

    @Test func listsATasksFilesOnly() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([1], in: store), taskID: "suno_a", fileName: "0.wav")
            try await store.store(try Self.stage([1, 2], in: store), taskID: "suno_a", fileName: "1.wav")
            try await store.store(try Self.stage([1, 2, 3], in: store), taskID: "suno_b", fileName: "0.wav")
            let listed = try await store.list(taskID: "suno_a").sorted { $0.fileName < $1.fileName }
            #expect(listed == [StoredArtifactFile(fileName: "0.wav", bytes: 1), StoredArtifactFile(fileName: "1.wav", bytes: 2)])
            #expect(try await store.list(taskID: "suno_never").isEmpty)
        }
    }

    @Test func deletesOneFileAndTheFolderWithTheLast() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([1], in: store), taskID: "suno_a", fileName: "0.wav")
            try await store.store(try Self.stage([2], in: store), taskID: "suno_a", fileName: "1.wav")
            let folder = store.mediaDirectory.appendingPathComponent("suno_a").path

            #expect(try await store.delete(taskID: "suno_a", fileName: "0.wav") == .deleted)
            #expect(try await store.list(taskID: "suno_a") == [StoredArtifactFile(fileName: "1.wav", bytes: 1)])
            #expect(FileManager.default.fileExists(atPath: folder), "another file is still in it")
            #expect(try await store.delete(taskID: "suno_a", fileName: "0.wav") == .alreadyGone)

            #expect(try await store.delete(taskID: "suno_a", fileName: "1.wav") == .deleted)
            #expect(!FileManager.default.fileExists(atPath: folder))
            #expect(try await store.delete(taskID: "suno_a", fileName: "1.wav") == .alreadyGone)
        }
    }

    @Test func deletesATasksFiles() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([1], in: store), taskID: "suno_a", fileName: "0.wav")
            try await store.store(try Self.stage([2], in: store), taskID: "suno_a", fileName: "1.wav")
            try await store.store(try Self.stage([3], in: store), taskID: "suno_b", fileName: "0.wav")

            #expect(try await store.deleteTask("suno_a") == .deleted)
            #expect(try await store.list(taskID: "suno_a").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: store.mediaDirectory.appendingPathComponent("suno_a").path))
            #expect(try await store.list(taskID: "suno_b").count == 1, "other tasks keep theirs")
            #expect(try await store.deleteTask("suno_a") == .alreadyGone)
        }
    }

    @Test func removesLeftoverDownloadsOnly() async throws {
        try await Self.withStore { store in
            try await store.store(try Self.stage([1], in: store), taskID: "suno_a", fileName: "0.wav")
            _ = try Self.stage([7, 7], in: store)
            _ = try Self.stage([8], in: store)
            #expect(store.removeLeftoverTemporaryFiles() == 2)
            #expect(try Self.temporaryFiles(store).isEmpty)
            #expect(try await store.list(taskID: "suno_a").count == 1, "stored artifacts are not leftovers")
            #expect(store.removeLeftoverTemporaryFiles() == 0)
        }
    }

    /// Instances sharing a data directory: a start clears its own downloads and those of instances
    /// that ended (their folder's lock is free), never a live one's, however recent the dead one's.
    @Test func sharedDirectoryStartsCleanOnlyWhatIsNotLive() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("artifact-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let live = LocalArtifactStore(dataDirectory: directory, instance: WorkerIdentity("host-1-live"))
        let starting = LocalArtifactStore(dataDirectory: directory, instance: WorkerIdentity("host-3-new"))
        for store in [live, starting] { try store.prepare() }
        #expect(live.temporaryFile().deletingLastPathComponent().lastPathComponent == "host-1-live")
        _ = try Self.stage([1], in: live)
        _ = try Self.stage([3], in: starting)
        // An instance that staged a download and ended (its store, and with it the lock, is gone):
        // what `kill -9` leaves, seconds old.
        let deadFolder: URL = try {
            let dead = LocalArtifactStore(dataDirectory: directory, instance: WorkerIdentity("host-2-dead"))
            try dead.prepare()
            _ = try Self.stage([2], in: dead)
            #expect(InstanceFolderLock.ownerHasEnded(dead.temporaryDirectory) == false, "held while the store lives")
            return dead.temporaryDirectory
        }()
        #expect(InstanceFolderLock.ownerHasEnded(deadFolder) == true)
        #expect(InstanceFolderLock.ownerHasEnded(live.temporaryDirectory) == false)

        #expect(starting.removeLeftoverTemporaryFiles() == 2, "its own file and the dead instance's")
        #expect(try Self.temporaryFiles(starting).isEmpty)
        #expect(try Self.temporaryFiles(live).count == 1, "a live instance's download in progress stays")
        #expect(!FileManager.default.fileExists(atPath: deadFolder.path))
        #expect(InstanceFolderLock.ownerHasEnded(starting.temporaryDirectory) == false, "the start kept its own lock")
    }

    /// A folder without a lock file (being set up, or left by an earlier version) goes only once it
    /// has been untouched for a day.
    @Test func aFolderWithoutALockGoesOnlyWhenADayOld() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("artifact-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let starting = LocalArtifactStore(dataDirectory: directory, instance: WorkerIdentity("host-3-new"))
        try starting.prepare()
        let shared = starting.temporaryDirectory.deletingLastPathComponent()
        let fresh = shared.appendingPathComponent("host-4-fresh"), old = shared.appendingPathComponent("host-5-old")
        for folder in [fresh, old] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data([7]).write(to: folder.appendingPathComponent("x.partial"))
        }
        let twoDaysAgo = Date().addingTimeInterval(-2 * 86_400)
        for path in [old.appendingPathComponent("x.partial").path, old.path] {
            try FileManager.default.setAttributes([.modificationDate: twoDaysAgo], ofItemAtPath: path)
        }
        #expect(InstanceFolderLock.ownerHasEnded(fresh) == nil)
        #expect(starting.removeLeftoverTemporaryFiles() == 1)
        #expect(FileManager.default.fileExists(atPath: fresh.appendingPathComponent("x.partial").path))
        #expect(!FileManager.default.fileExists(atPath: old.path))
    }

    @Test func aFailedStoreLeavesNothingBehind() async throws {
        try await Self.withStore { store in
            // A regular file where the task's folder would go: the rename into it fails.
            let blocker = store.mediaDirectory.appendingPathComponent("suno_blocked")
            try Data([0]).write(to: blocker)
            let blocked = try Self.stage([1, 2, 3], in: store)
            await #expect(throws: ArtifactStoreError.self) { try await store.store(blocked, taskID: "suno_blocked", fileName: "0.wav") }
            #expect(try Self.temporaryFiles(store).isEmpty)
            #expect(try Data(contentsOf: blocker) == Data([0]), "what was there is untouched")

            // A temp file that vanished before it was stored.
            let vanished = try Self.stage([4], in: store)
            try FileManager.default.removeItem(at: vanished.temporaryFile)
            await #expect(throws: ArtifactStoreError.self) { try await store.store(vanished, taskID: "suno_a", fileName: "0.wav") }
            #expect(try await store.list(taskID: "suno_a").isEmpty)

            #expect(try FileManager.default.contentsOfDirectory(atPath: store.mediaDirectory.path) == ["suno_blocked"])
        }
    }

    @Test(arguments: ["", ".", "..", "a/b", "../media"])
    func refusesNamesOutsideTheStore(_ name: String) async throws {
        try await Self.withStore { store in
            let staged = try Self.stage([1], in: store)
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.store(staged, taskID: name, fileName: "0.wav") }
            #expect(try Self.temporaryFiles(store).isEmpty, "a refused store removes its temp file too")
            let other = try Self.stage([1], in: store)
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.store(other, taskID: "suno_a", fileName: name) }
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.delete(taskID: name, fileName: "0.wav") }
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.delete(taskID: "suno_a", fileName: name) }
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.deleteTask(name) }
            await #expect(throws: ArtifactStoreError.invalidName(name)) { try await store.list(taskID: name) }
            #expect(FileManager.default.fileExists(atPath: store.dataDirectory.path))
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.mediaDirectory.path).isEmpty)
        }
    }

    /// Kept out of the arguments above: test logs would carry the NUL byte.
    @Test func refusesANameWithANulByte() async throws {
        try await Self.withStore { store in
            let staged = try Self.stage([1], in: store)
            await #expect(throws: ArtifactStoreError.invalidName("0\0.wav")) { try await store.store(staged, taskID: "suno_a", fileName: "0\0.wav") }
            await #expect(throws: ArtifactStoreError.invalidName("suno\0")) { try await store.deleteTask("suno\0") }
        }
    }

    @Test func reportsReadiness() async throws {
        try await Self.withStore { store in
            #expect(await store.readiness(minimumFreeBytes: 0) == .ready)
            #expect(await store.readiness(minimumFreeBytes: 0).description == "ok")
            let short = await store.readiness(minimumFreeBytes: .max)
            let leftovers = try Self.temporaryFiles(store)
            #expect(leftovers.isEmpty, "the write probe is removed")
            guard case .lowOnSpace(let free, let needed) = short else {
                Issue.record("no file system has that much free space: \(short)")
                return
            }
            #expect(free >= 0 && needed == .max)
            #expect(short.description.hasPrefix("low on space ("))
        }
        // Not prepared: nothing can be written (permission bits would not stop root, a missing folder does).
        let missing = LocalArtifactStore(dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID().uuidString)"))
        #expect(await missing.readiness(minimumFreeBytes: 0) == .notWritable(errno: ENOENT))
        #expect(await missing.readiness(minimumFreeBytes: 0).description == "not writable (errno \(ENOENT))")
    }
}
