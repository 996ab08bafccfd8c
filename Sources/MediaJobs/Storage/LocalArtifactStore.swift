import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Artifacts in the data directory: the ``ArtifactStore`` of a single machine.
///
/// Layout under the data directory: `media/<task id>/<file name>` for artifacts and `tmp/` for
/// downloads in progress, on the same filesystem so the final rename is atomic. Files are served
/// with `sendfile(2)` (``ArtifactServing/localFile(path:)``).
///
/// Several instances may share the directory (on a shared filesystem, with PostgreSQL): each then
/// downloads into its own `tmp/<worker identity>/`, so that what one start cleans up is never a
/// live instance's download in progress; a lock in that folder (``InstanceFolderLock``) tells the
/// others when its instance has ended.
public struct LocalArtifactStore: ArtifactStore {
    public let dataDirectory: URL
    /// The folder of this instance's downloads in progress, `tmp/` alone or `tmp/<instance>/`.
    public let temporaryDirectory: URL
    /// Whether other instances share `tmp/` (each in its own folder).
    private let sharesTemporaryFolder: Bool
    /// Held while this instance runs when the folder is shared.
    private let instanceLock: InstanceFolderLock?

    /// `mediaDirectory.path`, kept so ``filePath(taskID:fileName:)`` builds no URL.
    private let mediaDirectoryPath: String

    /// Another instance's temporary folder without a lock file, untouched this long, belongs to an
    /// instance that died: far longer than any download may take.
    static let abandonedAfter: TimeInterval = 24 * 3600

    /// A store in `dataDirectory`; `instance` (the worker identity) when other instances share the directory.
    public init(dataDirectory: URL, instance: WorkerIdentity? = nil) {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.mediaDirectoryPath = self.dataDirectory.appendingPathComponent("media", isDirectory: true).path
        let shared = self.dataDirectory.appendingPathComponent("tmp", isDirectory: true)
        self.temporaryDirectory = instance.map { shared.appendingPathComponent($0.value, isDirectory: true) } ?? shared
        self.sharesTemporaryFolder = instance != nil
        self.instanceLock = instance == nil ? nil : InstanceFolderLock()
    }

    public var mediaDirectory: URL { dataDirectory.appendingPathComponent("media", isDirectory: true) }

    /// Creates the folders if they are missing.
    public func prepare() throws {
        for directory in [dataDirectory, mediaDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        try instanceLock?.hold(in: temporaryDirectory)
    }

    /// The final location of an artifact.
    public func fileURL(taskID: String, fileName: String) -> URL {
        URL(fileURLWithPath: filePath(taskID: taskID, fileName: fileName), isDirectory: false)
    }

    /// Where an artifact's file is, built as a string: Foundation's `appendingPathComponent` asks
    /// the file system whether each component is a folder, and this runs for every `/files` response.
    public func filePath(taskID: String, fileName: String) -> String {
        "\(mediaDirectoryPath)/\(taskID)/\(fileName)"
    }

    // MARK: Downloads in progress

    public func temporaryFile() -> URL {
        temporaryDirectory.appendingPathComponent("\(UUID().uuidString.lowercased()).partial")
    }

    /// Removes this instance's leftovers and, in a shared directory, the folders of instances that
    /// ended (their lock is free, or, without a lock file, untouched for ``abandonedAfter``); never
    /// a live instance's download.
    public func removeLeftoverTemporaryFiles() -> Int {
        var removed = Self.removeContents(of: temporaryDirectory)
        if sharesTemporaryFolder {
            let shared = temporaryDirectory.deletingLastPathComponent()
            let others = (try? FileManager.default.contentsOfDirectory(atPath: shared.path)) ?? []
            for name in others where name != temporaryDirectory.lastPathComponent {
                let folder = shared.appendingPathComponent(name)
                switch InstanceFolderLock.ownerHasEnded(folder) {
                case true?: break
                case false?: continue
                case nil:
                    guard let touched = Self.lastTouched(folder), Date().timeIntervalSince(touched) > Self.abandonedAfter else { continue }
                }
                removed += Self.removeContents(of: folder)
                try? FileManager.default.removeItem(at: folder)
            }
        }
        return removed
    }

    /// Deletes the downloads in `folder` (never its lock file); returns how many there were.
    private static func removeContents(of folder: URL) -> Int {
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0 != InstanceFolderLock.fileName }
        for name in leftovers {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
        return leftovers.count
    }

    /// The latest modification of `folder` or of anything directly in it.
    private static func lastTouched(_ folder: URL) -> Date? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let dates = ([folder] + names.map { folder.appendingPathComponent($0) }).compactMap {
            (try? FileManager.default.attributesOfItem(atPath: $0.path))?[.modificationDate] as? Date
        }
        return dates.max()
    }

    // MARK: Storing

    /// fsync(2) of the temp file, rename(2) into the task's folder, fsync(2) of the folder (and of
    /// the media folder when the task's folder is new), so the file and its name survive a crash.
    public func store(_ file: StagedFile, taskID: String, fileName: String) async throws(ArtifactStoreError) {
        let temporary = file.temporaryFile.path
        var createdFolder: String?
        do throws(ArtifactStoreError) {
            try Self.checkNames(taskID, fileName)
            try await Self.fsyncOffThePool(temporary)
            let folder = "\(mediaDirectoryPath)/\(taskID)"
            if try Self.makeFolder(folder) { createdFolder = folder }
            guard rename(temporary, "\(folder)/\(fileName)") == 0 else { throw .failed("rename failed: errno \(errno)") }
            try Self.fsyncDirectory(folder)
            if createdFolder != nil { try Self.fsyncDirectory(mediaDirectoryPath) }
        } catch {
            unlink(temporary)
            // A folder made for this file goes too (rmdir fails harmlessly once the file is in it).
            if let createdFolder { rmdir(createdFolder) }
            throw error
        }
    }

    /// Creates a task's folder; true when it did not exist yet.
    private static func makeFolder(_ path: String) throws(ArtifactStoreError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        guard errno == EEXIST else { throw .failed("cannot create the task's folder: errno \(errno)") }
        return false
    }

    /// fsync(2) on threads of their own: it waits for the disk (up to seconds for a large file), and
    /// a Swift concurrency thread blocked that long would stall other requests. Not NIO's shared
    /// blocking-I/O pool either (two threads here): eight downloads' fsyncs would queue there behind
    /// each other and behind file reads.
    private static func fsyncOffThePool(_ path: String) async throws(ArtifactStoreError) {
        let failure: String?
        do {
            failure = try await syncThreads.runIfActive { () -> String? in
                let descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { return "cannot open the download: errno \(errno)" }
                defer { close(descriptor) }
                return fsync(descriptor) == 0 ? nil : "fsync failed: errno \(errno)"
            }
        } catch {
            throw .failed("fsync not run: \(error)")
        }
        if let failure { throw .failed(failure) }
    }

    /// Threads that wait for the disk; as many as downloads run at once by default.
    private static let syncThreads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    /// Makes a rename durable: the directory entry itself must reach the disk.
    private static func fsyncDirectory(_ path: String) throws(ArtifactStoreError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .failed("cannot open a media folder: errno \(errno)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .failed("directory fsync failed: errno \(errno)") }
    }

    // MARK: Serving and reading

    public func serving(_ artifact: TaskArtifact) -> ArtifactServing {
        .localFile(path: filePath(taskID: artifact.taskID, fileName: artifact.fileName))
    }

    public func read(_ artifact: TaskArtifact) async throws(ArtifactStoreError) -> Data {
        try Self.checkNames(artifact.taskID, artifact.fileName)
        do {
            return try Data(contentsOf: fileURL(taskID: artifact.taskID, fileName: artifact.fileName))
        } catch {
            throw .failed("cannot read \(artifact.relativePath): \(error)")
        }
    }

    public func list(taskID: String) async throws(ArtifactStoreError) -> [StoredArtifactFile] {
        try Self.checkNames(taskID)
        let folder = "\(mediaDirectoryPath)/\(taskID)"
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw .failed("cannot list \(taskID): \(error)")
        }
        return names.compactMap { name in
            var status = stat()
            guard stat("\(folder)/\(name)", &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            return StoredArtifactFile(fileName: name, bytes: Int64(status.st_size))
        }
    }

    /// Walks `media/<task>/<file>`; anything else there is not an artifact and is left alone.
    public func listAll() async throws(ArtifactStoreError) -> [StoredObject] {
        let tasks: [String]
        do {
            tasks = try FileManager.default.contentsOfDirectory(atPath: mediaDirectoryPath)
        } catch {
            throw .failed("cannot list \(mediaDirectoryPath): \(error)")
        }
        var objects: [StoredObject] = []
        for taskID in tasks {
            let folder = "\(mediaDirectoryPath)/\(taskID)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
                var status = stat()
                guard stat("\(folder)/\(name)", &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { continue }
                objects.append(StoredObject(
                    file: ArtifactFileName(taskID: taskID, fileName: name), bytes: Int64(status.st_size),
                    modifiedAt: Date(timeIntervalSince1970: TimeInterval(status.st_mtim.tv_sec))))
            }
        }
        return objects
    }

    // MARK: Deleting

    /// Unlinks the file; the task's folder goes with its last file (also when a crash came
    /// between the two: rmdir fails harmlessly while other files remain).
    public func delete(taskID: String, fileName: String) async throws(ArtifactStoreError) -> ArtifactDeletion {
        try Self.checkNames(taskID, fileName)
        // Plain string paths: Foundation's URL appending would stat the disk once more per file.
        let folder = "\(mediaDirectoryPath)/\(taskID)"
        let outcome: ArtifactDeletion
        if unlink("\(folder)/\(fileName)") == 0 {
            outcome = .deleted
        } else if errno == ENOENT {
            outcome = .alreadyGone
        } else {
            throw .failed("unlink: errno \(errno)")
        }
        _ = rmdir(folder)
        return outcome
    }

    public func deleteTask(_ taskID: String) async throws(ArtifactStoreError) -> ArtifactDeletion {
        try Self.checkNames(taskID)
        let folder = "\(mediaDirectoryPath)/\(taskID)"
        guard FileManager.default.fileExists(atPath: folder) else { return .alreadyGone }
        do {
            try FileManager.default.removeItem(atPath: folder)
            return .deleted
        } catch {
            throw .failed("cannot remove \(taskID): \(error)")
        }
    }

    // MARK: Readiness

    /// A real write is tried (permission bits say nothing to root) and the free space is compared
    /// with `minimumFreeBytes`.
    public func readiness(minimumFreeBytes: Int64) async -> StorageReadiness {
        let probe = temporaryDirectory.appendingPathComponent(".ready-\(UUID().uuidString)")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return .notWritable(errno: errno) }
        let written = write(descriptor, "ok", 2)
        close(descriptor)
        unlink(probe.path)
        guard written == 2 else { return .notWritable(errno: errno) }
        var stats = statvfs()
        guard statvfs(mediaDirectoryPath, &stats) == 0 else { return .unreadable(errno: errno) }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        return free >= minimumFreeBytes ? .ready : .lowOnSpace(free: free, needed: minimumFreeBytes)
    }

    // MARK: Names

    /// Refuses anything but plain names, so no caller reaches outside the media folder.
    private static func checkNames(_ names: String...) throws(ArtifactStoreError) {
        for name in names where name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            throw .invalidName(name)
        }
    }
}
