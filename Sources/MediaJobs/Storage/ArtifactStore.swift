import Foundation
import NIOCore

/// Where artifacts are kept: one folder (or key prefix) per task, `<task id>/<file name>`, names
/// chosen by the caller and deterministic, so storing again overwrites instead of duplicating.
///
/// The downloader, `/files`, the pruner and task deletion see storage only through this protocol.
/// ``LocalArtifactStore`` (the data directory) is the implementation today; an object store fits
/// the same operations (a finished temp file uploaded under its key, checked by its sha256; a
/// redirect to a presigned URL for serving).
///
/// Names are plain: no `/`, not `.` or `..`, not empty. Implementations refuse others with
/// ``ArtifactStoreError/invalidName(_:)``, so no caller can reach outside the store.
public protocol ArtifactStore: Sendable {
    /// A fresh local path for one download in progress; the caller creates and writes the file,
    /// then hands it to ``store(_:taskID:fileName:)``.
    func temporaryFile() -> URL

    /// Removes downloads in progress that a crash left behind (they never had an artifact row);
    /// returns how many. Called at start-up, before any download begins.
    func removeLeftoverTemporaryFiles() async throws(ArtifactStoreError) -> Int

    /// Makes a finished temporary file the artifact `<taskID>/<fileName>`, replacing any earlier one.
    ///
    /// Durable when this returns: the caller commits the artifact row only afterwards, so a row
    /// never names bytes a crash could lose. The temporary file is gone afterwards, stored or not.
    func store(_ file: StagedFile, taskID: String, fileName: String) async throws(ArtifactStoreError)

    /// Where a `GET /files` answer takes the bytes of `artifact` from.
    ///
    /// Synchronous and without I/O: the event loop calls it for every file it answers. `artifact`
    /// comes from a stored row, whose names ``store(_:taskID:fileName:)`` checked.
    func serving(_ artifact: TaskArtifact) -> ArtifactServing

    /// The whole stored file (for `b64_json` answers: images are small).
    func read(_ artifact: TaskArtifact) async throws(ArtifactStoreError) -> Data

    /// The task's stored files, in no particular order; empty when it has none.
    func list(taskID: String) async throws(ArtifactStoreError) -> [StoredArtifactFile]

    /// Deletes one stored file.
    func delete(taskID: String, fileName: String) async throws(ArtifactStoreError) -> ArtifactDeletion

    /// Deletes every stored file of a task (the task record is being deleted).
    func deleteTask(_ taskID: String) async throws(ArtifactStoreError) -> ArtifactDeletion

    /// Deletes several stored files (a prune batch): one outcome per file, in order. A store with a
    /// batch operation (S3's `DeleteObjects`) makes one call; the default deletes them one by one.
    func delete(_ files: [ArtifactFileName]) async -> [Result<ArtifactDeletion, ArtifactStoreError>]

    /// Whether downloads can be stored now (for `/readyz`); `minimumFreeBytes` is the free space
    /// below which local files count as not ready.
    func readiness(minimumFreeBytes: Int64) async -> StorageReadiness

    /// Every stored object of every task, with when it was last written (for `storage sweep`,
    /// which removes the ones no artifact row names).
    func listAll() async throws(ArtifactStoreError) -> [StoredObject]

    /// The bytes `range` (inclusive) of a stored file as they arrive, for ``ArtifactServing/proxy``
    /// answers; read as the client takes them, so memory stays flat whatever the size.
    func stream(_ artifact: TaskArtifact, range: ClosedRange<Int64>) async throws(ArtifactStoreError) -> ArtifactByteStream
}

/// Bytes of a stored file on their way to a client.
public typealias ArtifactByteStream = any AsyncSequence<ByteBuffer, any Error> & Sendable

extension ArtifactStore {
    /// One ``delete(taskID:fileName:)`` after the other.
    public func delete(_ files: [ArtifactFileName]) async -> [Result<ArtifactDeletion, ArtifactStoreError>] {
        var outcomes: [Result<ArtifactDeletion, ArtifactStoreError>] = []
        outcomes.reserveCapacity(files.count)
        for file in files {
            do throws(ArtifactStoreError) {
                outcomes.append(.success(try await delete(taskID: file.taskID, fileName: file.fileName)))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }

    /// Stores that never answer ``ArtifactServing/proxy`` have nothing to stream.
    public func stream(_ artifact: TaskArtifact, range: ClosedRange<Int64>) async throws(ArtifactStoreError) -> ArtifactByteStream {
        throw .failed("this storage serves \(artifact.relativePath) without streaming it")
    }
}

/// A finished download in a temporary file (from ``ArtifactStore/temporaryFile()``), with what
/// is known of its bytes: an object store sends the type and checks the hash on upload.
public struct StagedFile: Sendable, Equatable {
    public var temporaryFile: URL
    public var bytes: Int64
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String
    public var contentType: String

    public init(temporaryFile: URL, bytes: Int64, sha256: String, contentType: String) {
        self.temporaryFile = temporaryFile
        self.bytes = bytes
        self.sha256 = sha256
        self.contentType = contentType
    }
}

/// How a `/files` answer gets the bytes of an artifact; ``FilesController`` and ``FilesFastPath``
/// answer every case.
///
public enum ArtifactServing: Sendable, Equatable {
    /// A file on this machine's disk, sent with `sendfile(2)`. Its size is the artifact row's: the
    /// answer's framing comes from the row, and the sender checks the file still holds that much.
    case localFile(path: String)
    /// A URL the client fetches the bytes from itself (e.g. a presigned object URL): a 307 answer,
    /// cacheable by the client alone for `maxAge` seconds when given (less than the URL stays valid).
    case redirect(location: String, maxAge: Int? = nil)
    /// Streamed through this server from ``ArtifactStore/stream(_:range:)`` (an object store's
    /// `proxy` mode): the head comes from the row as for a local file, `Range` is passed on.
    case proxy
}

/// One stored file, named by its task and file name.
public struct ArtifactFileName: Sendable, Hashable {
    public var taskID: String
    public var fileName: String

    public init(taskID: String, fileName: String) {
        self.taskID = taskID
        self.fileName = fileName
    }
}

/// One file a store holds for a task.
/// One stored object as a full listing sees it.
public struct StoredObject: Sendable, Equatable {
    public var file: ArtifactFileName
    public var bytes: Int64
    /// When it was last written; nil when the backend does not say.
    public var modifiedAt: Date?

    public init(file: ArtifactFileName, bytes: Int64, modifiedAt: Date?) {
        self.file = file
        self.bytes = bytes
        self.modifiedAt = modifiedAt
    }
}

public struct StoredArtifactFile: Sendable, Equatable {
    public var fileName: String
    public var bytes: Int64

    public init(fileName: String, bytes: Int64) {
        self.fileName = fileName
        self.bytes = bytes
    }
}

/// What a deletion found.
public enum ArtifactDeletion: Sendable, Equatable {
    case deleted
    /// Nothing was there (deleted earlier, e.g. by a run a crash interrupted).
    case alreadyGone
}

/// Whether artifact storage can take downloads now.
public enum StorageReadiness: Sendable, Equatable, CustomStringConvertible {
    case ready
    /// A real write was tried and failed.
    case notWritable(errno: Int32)
    /// The free space could not be read.
    case unreadable(errno: Int32)
    case lowOnSpace(free: Int64, needed: Int64)
    /// Remote storage cannot be used now; why (no answer, credentials refused, no bucket).
    case unavailable(String)

    /// What `/readyz` shows: `ok`, or why not.
    public var description: String {
        switch self {
        case .ready: "ok"
        case .notWritable(let code): "not writable (errno \(code))"
        case .unreadable(let code): "not readable (errno \(code))"
        case .lowOnSpace(let free, let needed): "low on space (\(ByteCount(bytes: free)) free, \(ByteCount(bytes: needed)) needed)"
        case .unavailable(let reason): reason
        }
    }
}

/// Why artifact storage could not do what was asked.
public enum ArtifactStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A task id or file name that is not a plain name: refused before touching anything.
    case invalidName(String)
    /// The backend failed: the operation and the reason (an errno, the backend's message).
    case failed(String)

    public var description: String {
        switch self {
        case .invalidName(let name): "refusing the storage name '\(name)': not a plain name"
        case .failed(let reason): reason
        }
    }
}
