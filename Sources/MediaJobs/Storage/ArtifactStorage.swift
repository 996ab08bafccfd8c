import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where stored media lives on disk and which URL serves it.
///
/// Layout under the data directory: `media/<task id>/<index>.<ext>` for artifacts (deterministic,
/// so a re-download overwrites instead of duplicating) and `tmp/` for downloads in progress, on
/// the same filesystem so the final rename is atomic.
public struct ArtifactStorage: Sendable {
    public let dataDirectory: URL
    /// Base of the URLs clients get, e.g. `http://127.0.0.1:8080` (no trailing slash).
    public let publicBaseURL: String

    /// `mediaDirectory.path`, kept so ``filePath(taskID:fileName:)`` builds no URL.
    private let mediaDirectoryPath: String

    public init(dataDirectory: URL, publicBaseURL: String) {
        self.dataDirectory = dataDirectory.standardizedFileURL
        self.publicBaseURL = publicBaseURL.hasSuffix("/") ? String(publicBaseURL.dropLast()) : publicBaseURL
        self.mediaDirectoryPath = self.dataDirectory.appendingPathComponent("media", isDirectory: true).path
    }

    public var mediaDirectory: URL { dataDirectory.appendingPathComponent("media", isDirectory: true) }
    public var temporaryDirectory: URL { dataDirectory.appendingPathComponent("tmp", isDirectory: true) }
    public var databasePath: String { dataDirectory.appendingPathComponent("mediajobs.sqlite").path }

    /// Creates the folders if they are missing.
    public func prepare() throws {
        for directory in [dataDirectory, mediaDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    /// Removes downloads that a crash left half-written; they never had an artifact row.
    @discardableResult
    public func removeLeftoverTemporaryFiles() -> Int {
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path)) ?? []
        for name in leftovers {
            try? FileManager.default.removeItem(at: temporaryDirectory.appendingPathComponent(name))
        }
        return leftovers.count
    }

    /// The final location of an artifact.
    public func fileURL(taskID: String, fileName: String) -> URL {
        mediaDirectory.appendingPathComponent(taskID, isDirectory: true).appendingPathComponent(fileName)
    }

    /// `fileURL(taskID:fileName:).path`, built as a string: Foundation's `appendingPathComponent`
    /// asks the file system whether each component is a folder, and this runs for every `/files` response.
    public func filePath(taskID: String, fileName: String) -> String {
        "\(mediaDirectoryPath)/\(taskID)/\(fileName)"
    }

    /// The stable URL clients download an artifact from.
    public func publicURL(for artifact: TaskArtifact) -> String {
        "\(publicBaseURL)/files/\(artifact.relativePath)"
    }

    /// A fresh temp file path for one download.
    public func temporaryFile() -> URL {
        temporaryDirectory.appendingPathComponent("\(UUID().uuidString.lowercased()).partial")
    }

    /// "ok", or why downloads cannot be stored now: a real write is tried (permission bits say
    /// nothing to root) and the free space is compared with `minimumFreeBytes`.
    public func writability(minimumFreeBytes: Int64) -> String {
        let probe = temporaryDirectory.appendingPathComponent(".ready-\(UUID().uuidString)")
        let descriptor = open(probe.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return "not writable (errno \(errno))" }
        let written = write(descriptor, "ok", 2)
        close(descriptor)
        unlink(probe.path)
        guard written == 2 else { return "not writable (errno \(errno))" }
        var stats = statvfs()
        guard statvfs(mediaDirectory.path, &stats) == 0 else { return "not readable (errno \(errno))" }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        return free >= minimumFreeBytes ? "ok" : "low on space (\(ByteCount(bytes: free)) free, \(ByteCount(bytes: minimumFreeBytes)) needed)"
    }
}
