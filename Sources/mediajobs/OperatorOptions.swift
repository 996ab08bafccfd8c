import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import MediaJobs

/// Options every operator command shares: which data directory (or database), and how to print.
struct OperatorOptions: ParsableArguments {
    @Option(help: "Where the database and media live. [env: MEDIAJOBS_DATA_DIR] (default: ./storage)") var dataDir: String?
    @Option(help: "The PostgreSQL database of the servers, as given to serve: postgres://user:password@host:port/database. [env: MEDIAJOBS_DATABASE_URL]")
    var databaseURL: String?
    @Option(help: "The servers' S3 bucket, as given to serve: s3://bucket[/prefix]; credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. [env: MEDIAJOBS_STORAGE_URL] (default: the data dir)")
    var storageURL: String?
    @Option(help: "S3-compatible server, as given to serve. [env: MEDIAJOBS_S3_ENDPOINT]") var s3Endpoint: String?
    @Option(help: "Region of the bucket. [env: MEDIAJOBS_S3_REGION, else AWS_REGION] (default: us-east-1)") var s3Region: String?
    @Option(help: "Base of the file URLs printed for tasks. [env: MEDIAJOBS_PUBLIC_URL] (default: http://<MEDIAJOBS_HOST>:<MEDIAJOBS_PORT>)")
    var publicURL: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical. [env: MEDIAJOBS_LOG_LEVEL] (default: warning)") var logLevel: String?
    @Option(help: "text or json (one JSON object per line). [env: MEDIAJOBS_LOG_FORMAT] (default: text)") var logFormat: String?

    /// Opens the servers' database (PostgreSQL, or the SQLite database the data directory must
    /// already hold) with logging set up.
    func open() async throws -> OperatorConsole {
        let logger = try bootstrapLogging(level: logLevel, format: logFormat, defaultLevel: .warning)
        var configuration = ServiceConfiguration()
        configuration.host = Setting.text(nil, "MEDIAJOBS_HOST") ?? configuration.host
        configuration.port = Setting.text(nil, "MEDIAJOBS_PORT").flatMap(Int.init) ?? configuration.port
        configuration.publicURL = Setting.text(publicURL, "MEDIAJOBS_PUBLIC_URL")
        let directory = URL(fileURLWithPath: Setting.text(dataDir, "MEDIAJOBS_DATA_DIR") ?? "storage", isDirectory: true)
        let storage = try openStorage(dataDirectory: directory, logger: logger)
        do {
            // Global endpoints come from the same variable `serve` reads, so an operator's cancel notifies them too.
            let endpoints = Setting.list("MEDIAJOBS_WEBHOOK_URLS").compactMap(WebhookEndpoint.init(parsing:))
            if let text = Setting.text(databaseURL, "MEDIAJOBS_DATABASE_URL") {
                let url: PostgresDatabaseURL
                do {
                    url = try PostgresDatabaseURL(text)
                } catch {
                    throw CommandFailure("--database-url: \(error)")
                }
                return try await OperatorConsole.open(
                    database: url, dataDirectory: directory, publicURL: configuration.effectivePublicURL, webhookEndpoints: endpoints, storage: storage,
                    logger: logger)
            }
            return try OperatorConsole.open(
                dataDirectory: directory, publicURL: configuration.effectivePublicURL, webhookEndpoints: endpoints, storage: storage, logger: logger)
        } catch let error as OperatorError {
            throw CommandFailure(error.description)
        } catch let error as StartupError {
            throw CommandFailure(error.description)
        }
    }
}

extension OperatorOptions {
    /// The servers' S3 bucket when `--storage-url` names one (prune and retry then delete objects
    /// there); nil for the data directory. On AsyncHTTPClient's shared client: a command's
    /// process has nothing to shut down at its end.
    func openStorage(dataDirectory: URL, logger: Logger) throws -> (any ArtifactStore)? {
        guard let settings = try S3StorageSettings.fromCommandLine(storageURL: storageURL, endpoint: s3Endpoint, region: s3Region) else { return nil }
        do {
            return try S3ArtifactStore(settings: settings, http: HTTPClient.shared, dataDirectory: dataDirectory, logger: logger)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The webhook deliveries of the data directory.
    func openWebhooks() async throws -> any WebhookDeliveryStore {
        try await open().webhooks
    }
}

/// A command that could not do what was asked; ArgumentParser prints the message and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Writes to standard error (progress, notes) so standard output stays the command's result.
func printError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
