import ArgumentParser
import Foundation
import Logging
import MediaJobs

/// Hidden benchmark helper: stores one file `count` times through the S3 artifact store exactly
/// as `serve` builds it (signing, single PUT or multipart, sha256 check) and prints one JSON line
/// with the wall time and the bytes stored (`bench/run` compares it with boto3 on the same file).
struct BenchUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-upload", abstract: "Benchmark uploads to S3 storage (used by bench/run).", shouldDisplay: false)

    @Option(help: "The file to upload.") var file: String
    @Option(help: "Its sha256 (hex), as the downloader would have computed it.") var sha256: String
    @Option(help: "Uploads, one after the other.") var count = 1
    @Option(help: "Where the staged copies live (tmp/ below it).") var dataDir: String
    @Option(help: "s3://bucket[/prefix]") var storageURL: String
    @Option(help: "S3-compatible server.") var s3Endpoint: String?
    @Option(help: "Parts of one upload in flight at once (default: the store's).") var partConcurrency: Int?
    @Option(help: "Multipart part size in bytes (default: the store's).") var partSize: Int64?

    func run() async throws {
        guard var settings = try S3StorageSettings.fromCommandLine(storageURL: storageURL, endpoint: s3Endpoint, region: nil) else {
            throw ValidationError("--storage-url is required")
        }
        if let partConcurrency { settings.client.partConcurrency = partConcurrency }
        if let partSize { settings.client.partSize = partSize }
        var configuration = ServiceConfiguration()
        configuration.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true)
        let http = HTTPClients.make(configuration: configuration, retryConnectionEstablishment: false)
        let storage = try S3ArtifactStore(settings: settings, http: http, dataDirectory: configuration.dataDirectory, logger: Logger(label: "bench"))
        try storage.prepare()
        let source = URL(fileURLWithPath: file)
        let bytes = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
        var elapsed: Duration = .zero
        for index in 0..<count {
            // Staged as a download leaves it (a hard link costs no copy); only the store is timed.
            let staged = storage.temporaryFile()
            try FileManager.default.linkItem(at: source, to: staged)
            let started = ContinuousClock.now
            try await storage.store(
                StagedFile(temporaryFile: staged, bytes: bytes, sha256: sha256, contentType: "audio/wav"), taskID: "suno_upload\(index)", fileName: "0.wav")
            elapsed += started.duration(to: .now)
        }
        try await http.shutdown()
        print("{\"seconds\": \(elapsed.timeInterval), \"bytes\": \(bytes * Int64(count)), \"count\": \(count)}")
    }
}
