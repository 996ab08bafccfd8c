import AsyncHTTPClient
import CFileSync
import Crypto
import Foundation
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Copies a file from an upstream URL into storage: streamed to a temp file, size-capped,
/// hashed, type-checked by its magic numbers, then handed to the ``ArtifactStore``, which makes
/// it durable under its final name.
public struct ArtifactDownloader: Sendable {
    /// Limits of one download.
    public struct Limits: Sendable {
        public var maxBytes: Int64
        /// The whole transfer must finish within this, so a slow drip cannot hold a slot forever.
        public var timeout: Duration
        public var maxRedirects: Int

        public init(maxBytes: Int64 = 512 * 1024 * 1024, timeout: Duration = .seconds(600), maxRedirects: Int = 5) {
            self.maxBytes = maxBytes
            self.timeout = timeout
            self.maxRedirects = maxRedirects
        }
    }

    /// What was stored.
    public struct StoredFile: Sendable, Equatable {
        public var media: DetectedMedia
        public var bytes: Int64
        public var sha256: String
        public var fileName: String
    }

    private let httpClient: HTTPClient
    private let storage: any ArtifactStore
    private let urlGuard: OutboundURLGuard
    private let limits: Limits
    /// Counts stored downloads (`mediajobs_download_*`), when given.
    private let metrics: ServiceMetrics?

    /// `httpClient` must not follow redirects itself: each hop is checked here.
    public init(httpClient: HTTPClient, storage: any ArtifactStore, urlGuard: OutboundURLGuard, limits: Limits, metrics: ServiceMetrics? = nil) {
        self.httpClient = httpClient
        self.storage = storage
        self.urlGuard = urlGuard
        self.limits = limits
        self.metrics = metrics
    }

    /// Downloads `url` as artifact `index` of a task of `kind`; the media must be of class
    /// `expected` (by default the class of the kind's first output).
    public func download(_ url: String, taskID: String, index: Int, kind: TaskKind, expected: MediaClass? = nil) async throws(DownloadError) -> StoredFile {
        let expected = expected ?? MediaClass.expected(kind: kind, outputIndex: 0)
        let temporary = storage.temporaryFile()
        do {
            let (media, bytes, digest) = try await withDeadline(limits.timeout) {
                try await self.fetch(url, into: temporary, expected: expected)
            }
            let fileName = "\(index).\(media.fileExtension)"
            let staged = StagedFile(temporaryFile: temporary, bytes: bytes, sha256: digest, contentType: media.contentType)
            do throws(ArtifactStoreError) {
                try await storage.store(staged, taskID: taskID, fileName: fileName)
            } catch {
                throw DownloadError.storage(error.description)
            }
            metrics?.artifactDownloaded(kind: kind, bytes: bytes)
            return StoredFile(media: media, bytes: bytes, sha256: digest, fileName: fileName)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? DownloadError { throw error }
            if error is DeadlineExceeded { throw .timedOut }
            throw .storage(String(describing: error))
        }
    }

    private func fetch(_ startURL: String, into temporary: URL, expected: MediaClass) async throws -> (DetectedMedia, Int64, String) {
        var url = startURL
        var redirects = 0
        while true {
            let target: OutboundURLGuard.PinnedTarget
            do {
                target = try await urlGuard.pinnedTarget(url)
            } catch {
                throw DownloadError.refused(error.description)
            }
            var request = HTTPClientRequest(url: target.url)
            request.method = .GET
            if let host = target.hostHeader { request.headers.replaceOrAdd(name: "Host", value: host) }
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: .seconds(30))
            } catch {
                throw DownloadError.transport(String(describing: error))
            }
            let status = Int(response.status.code)
            if (300..<400).contains(status), let location = response.headers.first(name: "location") {
                redirects += 1
                guard redirects <= limits.maxRedirects else { throw DownloadError.tooManyRedirects }
                guard let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString else {
                    throw DownloadError.refused("redirect to an invalid location")
                }
                url = next
                continue
            }
            guard (200..<300).contains(status) else { throw DownloadError.httpStatus(status) }
            let declaredLength = response.headers.first(name: "content-length").flatMap { Int64($0) }
            if let declaredLength, declaredLength > limits.maxBytes { throw DownloadError.tooLarge(limit: limits.maxBytes) }
            let declaredType = response.headers.first(name: "content-type").flatMap(DetectedMedia.init(contentType:))
            let (prefix, bytes, digest) = try await write(response.body, to: temporary)
            if let declaredLength, declaredLength != bytes {
                throw DownloadError.lengthMismatch(declared: declaredLength, received: bytes)
            }
            guard let media = MediaSniffer.detect(prefix) else { throw DownloadError.unrecognizedMedia }
            if let declaredType, declaredType != media { throw DownloadError.contentTypeMismatch(declared: declaredType.contentType, actual: media.contentType) }
            guard expected.admits(media) else { throw DownloadError.wrongKind(actual: media.contentType, expected: expected) }
            return (media, bytes, digest)
        }
    }

    /// Streams `body` into a new file, hashing as it goes; returns the first bytes, the count and the hex digest.
    private func write(_ body: HTTPClientResponse.Body, to temporary: URL) async throws -> ([UInt8], Int64, String) {
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DownloadError.storage("cannot create temp file: errno \(errno)") }
        var closed = false
        defer { if !closed { close(descriptor) } }
        var hasher = SHA256()
        var count: Int64 = 0
        var writtenBack: Int64 = 0
        var prefix: [UInt8] = []
        for try await chunk in body {
            count += Int64(chunk.readableBytes)
            guard count <= limits.maxBytes else { throw DownloadError.tooLarge(limit: limits.maxBytes) }
            if prefix.count < MediaSniffer.prefixLength {
                prefix += chunk.readableBytesView.prefix(MediaSniffer.prefixLength - prefix.count)
            }
            try chunk.withUnsafeReadableBytes { raw in
                hasher.update(bufferPointer: raw)
                var offset = 0
                while offset < raw.count {
                    let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw DownloadError.storage("write failed: errno \(errno)")
                    }
                    offset += written
                }
            }
            // The disk writes while the rest arrives, instead of all of it in the fsync of
            // ``LocalArtifactStore/store(_:taskID:fileName:)`` (for 1 GiB that fsync alone took as
            // long as the transfer; BENCHMARKS.md, figure 3). A hint only: useless but harmless to
            // a store that uploads the file instead.
            if count - writtenBack >= Self.writebackStep {
                _ = mediajobs_start_writeback(descriptor, writtenBack, count - writtenBack)
                writtenBack = count
            }
        }
        closed = true
        guard close(descriptor) == 0 else { throw DownloadError.storage("close failed: errno \(errno)") }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return (prefix, count, digest)
    }

    /// Bytes between two starts of writeback during a download.
    static let writebackStep: Int64 = 8 << 20
}

/// Why a download did not store a file.
public enum DownloadError: Error, Equatable, Sendable, CustomStringConvertible {
    case refused(String)
    case transport(String)
    case httpStatus(Int)
    case tooManyRedirects
    case tooLarge(limit: Int64)
    case lengthMismatch(declared: Int64, received: Int64)
    case unrecognizedMedia
    case contentTypeMismatch(declared: String, actual: String)
    case wrongKind(actual: String, expected: MediaClass)
    case timedOut
    case storage(String)

    /// Whether the same download may succeed later (network trouble, provider errors, disk full).
    public var isRetryable: Bool {
        switch self {
        case .transport, .timedOut, .storage, .lengthMismatch: true
        case .httpStatus(let status): status == 429 || status >= 500
        case .refused, .tooManyRedirects, .tooLarge, .unrecognizedMedia, .contentTypeMismatch, .wrongKind: false
        }
    }

    public var description: String {
        switch self {
        case .refused(let reason): "artifact URL refused: \(reason)"
        case .transport: "artifact download failed: the file server could not be reached"
        case .httpStatus(let status): "artifact download failed: the file server answered \(status)"
        case .tooManyRedirects: "artifact download failed: too many redirects"
        case .tooLarge(let limit): "artifact is larger than the \(ByteCount(bytes: limit)) limit"
        case .lengthMismatch(let declared, let received): "artifact download was cut short (\(received) of \(declared) bytes)"
        case .unrecognizedMedia: "artifact is not a recognised media file"
        case .contentTypeMismatch(let declared, let actual): "artifact declared as \(declared) but its bytes are \(actual)"
        case .wrongKind(let actual, let expected): "artifact is \(actual), not the \(expected.rawValue) this task needs"
        case .timedOut: "artifact download took too long"
        case .storage: "artifact could not be written to storage"
        }
    }
}

extension ArtifactDownloader {
    /// Whether an artifact recorded earlier is in storage with its recorded size (false when
    /// storage cannot tell: the file is then downloaded again).
    public func hasStoredFile(_ artifact: TaskArtifact) async -> Bool {
        guard artifact.prunedAt == nil, let files = try? await storage.list(taskID: artifact.taskID) else { return false }
        return files.contains(StoredArtifactFile(fileName: artifact.fileName, bytes: artifact.bytes))
    }
}
