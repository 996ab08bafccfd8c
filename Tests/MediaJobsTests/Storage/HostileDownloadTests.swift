import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// The downloader against a file server that misbehaves on purpose (loopback only).
@Suite struct HostileDownloadTests {
    static let wav = WAVEncoder.melody(seed: 7, seconds: 0.5)
    static let png = PNGEncoder.image(width: 8, height: 8, seed: 1)

    static func hostileServer() -> Router<BasicRequestContext> {
        let router = Router()
        @Sendable func bytes(_ bytes: [UInt8], _ type: String) -> Response {
            Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("ok.wav") { _, _ in bytes(wav, "audio/wav") }
        router.get("mislabelled.png") { _, _ in bytes(wav, "image/png") }
        router.get("page.html") { _, _ in bytes(Array("<html>not audio</html>".utf8), "text/html") }
        router.get("picture.png") { _, _ in bytes(png, "image/png") }
        router.get("huge.wav") { _, _ in bytes(wav + [UInt8](repeating: 0, count: 300_000), "audio/wav") }
        router.get("huge-chunked.wav") { _, _ in
            Response(status: .ok, headers: [.contentType: "audio/wav"], body: ResponseBody { writer in
                for _ in 0..<40 { try await writer.write(ByteBuffer(bytes: [UInt8](repeating: 1, count: 10_000))) }
                try await writer.finish(nil)
            })
        }
        router.get("lying-length.wav") { _, _ in
            Response(status: .ok, headers: [.contentType: "audio/wav", .contentLength: "\(wav.count * 4)"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: wav))
                // Stalls far longer than the downloader's 2 s timeout, so a late timer on a loaded machine still fires
                // first; a byte now and then ends the stall as soon as the client has left (the write throws).
                for _ in 0..<100 {
                    try await Task.sleep(for: .milliseconds(100))
                    try await writer.write(ByteBuffer(bytes: [0]))
                }
                try await writer.finish(nil)
            })
        }
        router.get("drip.wav") { _, _ in
            Response(status: .ok, headers: [.contentType: "audio/wav"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: Array(wav.prefix(44))))
                // 10 s of drip, far beyond the downloader's 2 s timeout (see `lying-length.wav`).
                for _ in 0..<100 {
                    try await Task.sleep(for: .milliseconds(100))
                    try await writer.write(ByteBuffer(bytes: [0, 0]))
                }
                try await writer.finish(nil)
            })
        }
        router.get("gone.wav") { _, _ in Response(status: .gone) }
        router.get("flaky.wav") { _, _ in Response(status: .serviceUnavailable) }
        router.get("redirect") { _, _ in Response(status: .found, headers: [.location: "/ok.wav"]) }
        router.get("loop") { _, _ in Response(status: .found, headers: [.location: "/loop"]) }
        router.get("to-localhost") { request, _ in
            let port = request.head.authority?.split(separator: ":").last ?? "80"
            return Response(status: .found, headers: [.location: "http://localhost:\(port)/ok.wav"])
        }
        return router
    }

    /// Runs `body` with a downloader that trusts only `127.0.0.1` (the "provider") and caps files at 200 kB.
    static func withDownloader(timeout: Duration = .seconds(5), _ body: @Sendable (ArtifactDownloader, Int, LocalArtifactStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let storage = LocalArtifactStore(dataDirectory: directory)
        try storage.prepare()
        let app = Application(router: hostileServer(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let client = HTTPClients.make(configuration: ServiceConfiguration(), retryConnectionEstablishment: true)
        try await app.test(.live) { testClient in
            let downloader = ArtifactDownloader(
                httpClient: client, storage: storage, urlGuard: OutboundURLGuard(trustedHosts: ["127.0.0.1"]),
                limits: .init(maxBytes: 200_000, timeout: timeout))
            try await body(downloader, try #require(testClient.port), storage)
        }
        try await client.shutdown()
    }

    static func outcome(_ downloader: ArtifactDownloader, _ url: String, kind: TaskKind = .music) async -> Result<ArtifactDownloader.StoredFile, DownloadError> {
        do throws(DownloadError) {
            return .success(try await downloader.download(url, taskID: "suno_test", index: 0, kind: kind))
        } catch {
            return .failure(error)
        }
    }

    static func temporaryFiles(_ storage: LocalArtifactStore) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: storage.temporaryDirectory.path)) ?? []
    }

    @Test func aGoodFileIsStoredWithItsHash() async throws {
        try await Self.withDownloader { downloader, port, storage in
            let stored = try await downloader.download("http://127.0.0.1:\(port)/redirect", taskID: "suno_test", index: 3, kind: .music)
            #expect(stored.fileName == "3.wav")
            #expect(stored.bytes == Int64(Self.wav.count))
            let onDisk = try Data(contentsOf: storage.fileURL(taskID: "suno_test", fileName: "3.wav"))
            #expect([UInt8](onDisk) == Self.wav)
            #expect(Self.temporaryFiles(storage).isEmpty)
        }
    }

    @Test func hostileAnswersAbortAndLeaveNoTempFile() async throws {
        // Refusals: a generous timeout, so a loaded machine cannot turn one of them into a timeout.
        try await Self.withDownloader(timeout: .seconds(60)) { downloader, port, storage in
            await Self.expectFailures(downloader, base: "http://127.0.0.1:\(port)", storage: storage, [
                ("mislabelled.png", { if case .contentTypeMismatch = $0 { true } else { false } }),
                ("page.html", { $0 == .unrecognizedMedia }),
                ("picture.png", { if case .wrongKind = $0 { true } else { false } }),
                ("huge.wav", { $0 == .tooLarge(limit: 200_000) }),
                ("huge-chunked.wav", { $0 == .tooLarge(limit: 200_000) }),
                ("gone.wav", { $0 == .httpStatus(410) }),
                ("loop", { $0 == .tooManyRedirects }),
            ])
        }
        // Stalls: cut by a 2 s timeout while the server stalls for 10 s.
        try await Self.withDownloader(timeout: .seconds(2)) { downloader, port, storage in
            await Self.expectFailures(downloader, base: "http://127.0.0.1:\(port)", storage: storage, [
                ("lying-length.wav", { $0 == .timedOut }),
                ("drip.wav", { $0 == .timedOut }),
            ])
        }
        // Which failures are worth retrying later.
        #expect(DownloadError.timedOut.isRetryable)
        #expect(DownloadError.httpStatus(503).isRetryable)
        #expect(!DownloadError.httpStatus(410).isRetryable)
        #expect(!DownloadError.tooLarge(limit: 1).isRetryable)
    }

    /// Downloads each path as music and expects it refused as `matches` says, with no temp file left.
    static func expectFailures(
        _ downloader: ArtifactDownloader, base: String, storage: LocalArtifactStore, _ cases: [(String, (DownloadError) -> Bool)]
    ) async {
        for (path, matches) in cases {
            let result = await Self.outcome(downloader, "\(base)/\(path)", kind: .music)
            guard case .failure(let error) = result else {
                Issue.record("\(path) was stored")
                continue
            }
            #expect(matches(error), "\(path): \(error)")
            #expect(!error.description.isEmpty)
            #expect(Self.temporaryFiles(storage).isEmpty, "\(path) left a temp file")
        }
    }

    /// Every spelling of loopback is refused before any connection, and so is a redirect to it.
    @Test(arguments: ["localhost", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::1]", "[::ffff:127.0.0.1]"])
    func loopbackSpellingsAreRefused(_ host: String) async throws {
        try await Self.withDownloader { downloader, port, storage in
            let result = await Self.outcome(downloader, "http://\(host):\(port)/ok.wav")
            guard case .failure(.refused(let reason)) = result else {
                Issue.record("\(host) was not refused: \(result)")
                return
            }
            #expect(reason.contains("loopback"))
        }
    }

    @Test func redirectsAreCheckedHopByHop() async throws {
        try await Self.withDownloader { downloader, port, _ in
            let result = await Self.outcome(downloader, "http://127.0.0.1:\(port)/to-localhost")
            guard case .failure(.refused) = result else {
                Issue.record("a redirect to a loopback name was followed: \(result)")
                return
            }
        }
    }

    @Test func onlyHTTPAndHTTPSAreFetched() async throws {
        try await Self.withDownloader { downloader, _, _ in
            for url in ["file:///etc/passwd", "ftp://127.0.0.1/x.wav", "gopher://127.0.0.1/", "not a url"] {
                guard case .failure(.refused) = await Self.outcome(downloader, url) else {
                    Issue.record("\(url) was not refused")
                    continue
                }
            }
        }
    }

    @Test func httpConnectionsArePinnedToTheCheckedAddress() async throws {
        let guardAll = OutboundURLGuard(policy: AddressPolicy(allowPrivateNetworks: true))
        let pinned = try await guardAll.pinnedTarget("http://localhost:8080/a.wav?x=1")
        #expect(pinned.url == "http://127.0.0.1:8080/a.wav?x=1")
        #expect(pinned.hostHeader == "localhost:8080")
        let literal = try await guardAll.pinnedTarget("http://127.0.0.1:8080/a.wav")
        #expect(literal.hostHeader == nil)
    }
}
