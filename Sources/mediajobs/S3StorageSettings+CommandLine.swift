import ArgumentParser
import Foundation
import MediaJobs

extension S3StorageSettings {
    /// `--storage-url s3://…` and the `--s3-*` options (each with its `MEDIAJOBS_*` fallback), as
    /// `serve` and the operator commands read them; nil keeps artifacts in the data directory.
    /// Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    static func fromCommandLine(
        storageURL: String?, endpoint: String?, region: String?, serve: String? = nil, presignTTL: String? = nil
    ) throws -> S3StorageSettings? {
        guard let url = Setting.text(storageURL, "MEDIAJOBS_STORAGE_URL") else { return nil }
        guard var settings = S3StorageSettings(url: url) else {
            throw ValidationError("--storage-url must be s3://<bucket>[/<prefix>] with a valid bucket name, got '\(url)'")
        }
        settings.endpoint = Setting.text(endpoint, "MEDIAJOBS_S3_ENDPOINT")
        settings.region = Setting.text(region, "MEDIAJOBS_S3_REGION") ?? Setting.text(nil, "AWS_REGION") ?? settings.region
        settings.serveMode = try Setting.parse(serve, "MEDIAJOBS_S3_SERVE", option: "--s3-serve", default: settings.serveMode) { ServeMode(rawValue: $0) }
        settings.presignTTL = try Setting.duration(presignTTL, "MEDIAJOBS_S3_PRESIGN_TTL", option: "--s3-presign-ttl", default: settings.presignTTL)
        settings.credentials = S3Credentials.fromEnvironment(ProcessInfo.processInfo.environment)
        return settings
    }
}
