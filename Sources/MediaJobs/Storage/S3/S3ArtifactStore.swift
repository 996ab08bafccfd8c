import AsyncHTTPClient
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Artifacts in an S3-compatible bucket, under `<prefix>/<task id>/<file name>`.
///
/// Downloads still land in the data directory's `tmp/` (checked there: size, sha256, type), are
/// uploaded, and only then is the artifact row committed: a crash in between leaves at most an
/// object no row names, never a row without its object. `/files` answers with a presigned `GET`
/// (``ArtifactServing/redirect(location:maxAge:)``), computed without I/O.
public struct S3ArtifactStore: ArtifactStore {
    public let client: S3Client
    public let settings: S3StorageSettings
    /// Where downloads in progress stage: the local store's temporary folder (per instance when
    /// several share the data directory), with its clean-up at start.
    private let staging: LocalArtifactStore
    private let logger: Logger
    private let presignedURLs: PresignedURLCache

    /// `instance` (the worker identity) when other instances share the data directory.
    public init(client: S3Client, settings: S3StorageSettings, dataDirectory: URL, instance: WorkerIdentity? = nil, logger: Logger) {
        self.client = client
        self.settings = settings
        self.staging = LocalArtifactStore(dataDirectory: dataDirectory, instance: instance)
        self.presignedURLs = PresignedURLCache(validity: Int(settings.presignTTL.components.seconds), maxAge: settings.redirectMaxAge)
        var logger = logger
        logger[metadataKey: "storage"] = "\(settings.storageURL)"
        self.logger = logger
    }

    /// A store for `settings` with its calls on `http`, checked as `serve` checks them (credentials,
    /// endpoint, presign time); the error names the bucket, never the secret.
    public init(settings: S3StorageSettings, http: HTTPClient, dataDirectory: URL, instance: WorkerIdentity? = nil, logger: Logger) throws(StartupError) {
        var configuration = ServiceConfiguration()
        configuration.s3Storage = settings
        guard let endpoint = try configuration.s3Endpoint(), let credentials = settings.credentials else {
            throw .configuration("no S3 storage configured")
        }
        let client = S3Client(endpoint: endpoint, credentials: credentials, http: http, settings: settings.client, logger: logger)
        self.init(client: client, settings: settings, dataDirectory: dataDirectory, instance: instance, logger: logger)
    }

    /// The folder of this instance's downloads in progress.
    public var temporaryDirectory: URL { staging.temporaryDirectory }

    /// Creates the temp folder if it is missing.
    public func prepare() throws {
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    /// The object key of an artifact.
    public func key(taskID: String, fileName: String) -> String {
        "\(taskPrefix(taskID))\(fileName)"
    }

    /// `<prefix>/<task id>/`: every object of one task starts with it.
    func taskPrefix(_ taskID: String) -> String {
        settings.prefix.isEmpty ? "\(taskID)/" : "\(settings.prefix)/\(taskID)/"
    }

    // MARK: Downloads in progress

    public func temporaryFile() -> URL {
        staging.temporaryFile()
    }

    public func removeLeftoverTemporaryFiles() async throws(ArtifactStoreError) -> Int {
        staging.removeLeftoverTemporaryFiles()
    }

    // MARK: Storing

    /// Uploads the temp file (checked against its sha256, with its content type), then removes it.
    public func store(_ file: StagedFile, taskID: String, fileName: String) async throws(ArtifactStoreError) {
        defer { unlink(file.temporaryFile.path) }
        try Self.checkNames(taskID, fileName)
        let key = key(taskID: taskID, fileName: fileName)
        do throws(S3Error) {
            try await client.uploadFile(file.temporaryFile, key: key, bytes: file.bytes, sha256: file.sha256, contentType: file.contentType)
        } catch {
            logger.error("artifact upload failed", metadata: ["task.id": "\(taskID)", "file": "\(fileName)", "error": "\(error)"])
            throw .failed(error.description)
        }
    }

    // MARK: Serving and reading

    /// A presigned `GET` valid for the configured time (reused for a while: ``PresignedURLCache``),
    /// or (proxy mode) the bytes streamed through ``stream(_:range:)``; no I/O (the event loop calls this).
    public func serving(_ artifact: TaskArtifact) -> ArtifactServing {
        guard settings.serveMode == .redirect else { return .proxy }
        let key = key(taskID: artifact.taskID, fileName: artifact.fileName)
        let expires = Int(settings.presignTTL.components.seconds)
        let location = presignedURLs.url(for: key) { client.presignedGetURL(key: key, expires: expires, date: $0) }
        return .redirect(location: location, maxAge: settings.redirectMaxAge)
    }

    public func read(_ artifact: TaskArtifact) async throws(ArtifactStoreError) -> Data {
        try Self.checkNames(artifact.taskID, artifact.fileName)
        do throws(S3Error) {
            let response = try await client.getObject(key: key(taskID: artifact.taskID, fileName: artifact.fileName))
            guard response.status == .ok else { throw S3Error.invalidResponse(operation: "GetObject", reason: "status \(response.status.code)") }
            do {
                let body = try await response.body.collect(upTo: Int(clamping: artifact.bytes) + 1)
                return Data(body.readableBytesView)
            } catch {
                throw S3Error.transport(operation: "GetObject", target: artifact.relativePath, reason: "\(error)")
            }
        } catch {
            throw .failed("cannot read \(artifact.relativePath): \(error)")
        }
    }

    /// `GET` with the range; the object's body as S3 sends it, pulled as the client reads.
    public func stream(_ artifact: TaskArtifact, range: ClosedRange<Int64>) async throws(ArtifactStoreError) -> ArtifactByteStream {
        try Self.checkNames(artifact.taskID, artifact.fileName)
        let whole = range.lowerBound == 0 && range.upperBound == artifact.bytes - 1
        do throws(S3Error) {
            // The ETag recorded is the content's sha256, not S3's: the range is asked of the key as stored.
            let response = try await client.getObject(
                key: key(taskID: artifact.taskID, fileName: artifact.fileName), range: whole ? nil : "bytes=\(range.lowerBound)-\(range.upperBound)")
            guard response.status == (whole ? .ok : .partialContent) else {
                throw S3Error.invalidResponse(operation: "GetObject", reason: "status \(response.status.code) for \(artifact.relativePath)")
            }
            return response.body
        } catch {
            logger.error("artifact not streamed", metadata: ["task.id": "\(artifact.taskID)", "file": "\(artifact.fileName)", "error": "\(error)"])
            throw .failed("cannot stream \(artifact.relativePath): \(error)")
        }
    }

    public func list(taskID: String) async throws(ArtifactStoreError) -> [StoredArtifactFile] {
        try Self.checkNames(taskID)
        let prefix = taskPrefix(taskID)
        do throws(S3Error) {
            return try await client.listObjects(prefix: prefix).compactMap { object in
                let name = String(object.key.dropFirst(prefix.count))
                return name.isEmpty || name.contains("/") ? nil : StoredArtifactFile(fileName: name, bytes: object.bytes)
            }
        } catch {
            throw .failed("cannot list \(taskID): \(error)")
        }
    }

    /// Every object under the prefix shaped `<task id>/<file name>`, its `LastModified` as S3 wrote it.
    public func listAll() async throws(ArtifactStoreError) -> [StoredObject] {
        let prefix = settings.prefix.isEmpty ? "" : "\(settings.prefix)/"
        let objects: [S3ObjectSummary]
        do throws(S3Error) {
            objects = try await client.listObjects(prefix: prefix)
        } catch {
            throw .failed("cannot list the bucket: \(error)")
        }
        let dates = ISO8601DateFormatter()
        dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plainDates = ISO8601DateFormatter()
        return objects.compactMap { object in
            let parts = object.key.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
            let modified = object.lastModified.flatMap { dates.date(from: $0) ?? plainDates.date(from: $0) }
            return StoredObject(file: ArtifactFileName(taskID: String(parts[0]), fileName: String(parts[1])), bytes: object.bytes, modifiedAt: modified)
        }
    }

    // MARK: Deleting

    /// `HEAD` tells whether it was there; `DeleteObjects` removes it.
    public func delete(taskID: String, fileName: String) async throws(ArtifactStoreError) -> ArtifactDeletion {
        try Self.checkNames(taskID, fileName)
        let key = key(taskID: taskID, fileName: fileName)
        do throws(S3Error) {
            guard try await client.headObject(key: key) != nil else { return .alreadyGone }
            try await client.deleteObjects([key])
            return .deleted
        } catch {
            throw .failed("cannot delete \(taskID)/\(fileName): \(error)")
        }
    }

    /// A prune batch in `DeleteObjects` calls of up to 1,000 keys. S3 does not say whether a key
    /// existed, so every key it accepted counts as deleted.
    public func delete(_ files: [ArtifactFileName]) async -> [Result<ArtifactDeletion, ArtifactStoreError>] {
        var outcomes = [Result<ArtifactDeletion, ArtifactStoreError>](repeating: .success(.deleted), count: files.count)
        var keys: [(index: Int, key: String)] = []
        for (index, file) in files.enumerated() {
            do throws(ArtifactStoreError) {
                try Self.checkNames(file.taskID, file.fileName)
                keys.append((index, key(taskID: file.taskID, fileName: file.fileName)))
            } catch {
                outcomes[index] = .failure(error)
            }
        }
        let failures = await client.deleteObjectsReportingFailures(keys.map(\.key))
        for (index, key) in keys {
            if let failure = failures[key] { outcomes[index] = .failure(.failed("cannot delete \(key): \(failure)")) }
        }
        return outcomes
    }

    /// Lists the task's objects and deletes them in batches of 1,000.
    public func deleteTask(_ taskID: String) async throws(ArtifactStoreError) -> ArtifactDeletion {
        try Self.checkNames(taskID)
        do throws(S3Error) {
            let keys = try await client.listObjects(prefix: taskPrefix(taskID)).map(\.key)
            guard !keys.isEmpty else { return .alreadyGone }
            try await client.deleteObjects(keys)
            return .deleted
        } catch {
            throw .failed("cannot delete \(taskID): \(error)")
        }
    }

    // MARK: Readiness

    /// `HEAD` on the bucket, tried once: the reason when it fails (wrong credentials, no bucket, no answer).
    public func readiness(minimumFreeBytes: Int64) async -> StorageReadiness {
        do throws(S3Error) {
            try await client.headBucket(retrying: false)
            return .ready
        } catch {
            return .unavailable(Self.readinessReason(error, endpoint: client.endpoint))
        }
    }

    /// What `/readyz` and the start-up log say when the bucket cannot be used.
    static func readinessReason(_ error: S3Error, endpoint: S3Endpoint) -> String {
        switch error {
        case .service(_, _, 403, _, _): "bucket \(endpoint.bucket) at \(endpoint.scheme)://\(endpoint.host) refused these credentials (403)"
        case .service(_, _, 404, _, _): "bucket \(endpoint.bucket) not found at \(endpoint.scheme)://\(endpoint.host)"
        case .service(_, _, let status, let code, _): "bucket \(endpoint.bucket) at \(endpoint.scheme)://\(endpoint.host) answered \(status) \(code)"
        case .transport, .timedOut: "no answer from \(endpoint.scheme)://\(endpoint.host) (bucket \(endpoint.bucket))"
        default: error.description
        }
    }

    // MARK: Names

    /// Plain names only, as the local store: no key can reach another task's objects.
    private static func checkNames(_ names: String...) throws(ArtifactStoreError) {
        for name in names where name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            throw .invalidName(name)
        }
    }
}
