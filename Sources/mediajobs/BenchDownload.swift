import ArgumentParser
import AsyncHTTPClient
import Foundation
import MediaJobs

/// Hidden benchmark helper: runs ``ArtifactDownloader`` exactly as `serve` sets it up and prints
/// one JSON line with the wall time, the bytes stored and the process's peak RSS (`bench/run` reads it).
struct BenchDownload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-download",
        abstract: "Benchmark the artifact downloader (used by bench/run).",
        shouldDisplay: false
    )

    @Option(help: "URL to download; '{i}' is replaced by the download's index (0..<count).") var url: String
    @Option(help: "Number of downloads.") var count = 1
    @Option(help: "Downloads running at once (serve's download stage runs this many).") var concurrency = PipelineSettings().downloadConcurrency
    @Option(help: "Data directory the files are stored in (media/ and tmp/ below it).") var dataDir: String
    @Option(help: "Largest file accepted.") var maxArtifactSize = "2GiB"

    func run() async throws {
        guard let maxBytes = ByteCount(parsing: maxArtifactSize) else { throw ValidationError("invalid --max-artifact-size '\(maxArtifactSize)'") }
        guard count >= 1, concurrency >= 1 else { throw ValidationError("--count and --concurrency must be at least 1") }
        let storage = LocalArtifactStore(dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true))
        try storage.prepare()

        // The same client `serve` uses.
        let httpClient = HTTPClients.make(configuration: ServiceConfiguration(), retryConnectionEstablishment: true)

        let downloader = ArtifactDownloader(
            httpClient: httpClient, storage: storage,
            urlGuard: OutboundURLGuard(policy: AddressPolicy(allowPrivateNetworks: true)),
            limits: .init(maxBytes: maxBytes.bytes, timeout: ServiceConfiguration().downloadTimeout))

        let startRSS = Self.status("VmRSS")
        let started = ContinuousClock.now
        let (bytes, failures) = try await withThrowingTaskGroup(of: (Int64, String?).self) { group in
            var next = 0
            var bytes: Int64 = 0
            var failures: [String] = []
            func launch(_ index: Int) {
                let source = url.replacingOccurrences(of: "{i}", with: "\(index)")
                group.addTask {
                    do throws(DownloadError) {
                        let file = try await downloader.download(source, taskID: "suno_bench\(index)", index: 0, kind: .music)
                        return (file.bytes, nil)
                    } catch {
                        return (0, "\(source): \(error)")
                    }
                }
            }
            while next < min(concurrency, count) {
                launch(next)
                next += 1
            }
            while let (stored, failure) = try await group.next() {
                bytes += stored
                if let failure { failures.append(failure) }
                if next < count {
                    launch(next)
                    next += 1
                }
            }
            return (bytes, failures)
        }
        let seconds = (ContinuousClock.now - started).timeInterval
        try await httpClient.shutdown()
        let report: [String: JSONValue] = [
            "downloads": .number(Double(count)),
            "failures": .array(failures.prefix(5).map(JSONValue.string)),
            "failed": .number(Double(failures.count)),
            "bytes": .number(Double(bytes)),
            "seconds": .number(seconds),
            "start_rss_kb": .number(Double(startRSS)),
            "peak_rss_kb": .number(Double(Self.status("VmHWM"))),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
        if !failures.isEmpty { throw ExitCode.failure }
    }

    /// A `kB` field of /proc/self/status (`VmRSS`, `VmHWM`), 0 where there is none.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
