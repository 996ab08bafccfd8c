import AsyncHTTPClient
import Foundation
import Logging
import NIOHTTP1

@testable import MediaJobs

/// The S3 API server of the tests (moto with signature checking on, started by
/// `scripts/s3-test-server`), and fresh buckets on it.
///
/// Without its variables the tests fail with how to start it: they are never skipped.
enum S3TestServer {
    struct NotRunning: Error, CustomStringConvertible {
        var description: String {
            "MEDIAJOBS_TEST_S3_ENDPOINT, MEDIAJOBS_TEST_S3_ACCESS_KEY_ID and MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY are not set: "
                + "run scripts/test, or `source scripts/s3-test-server` (after creating .build/venv) before `swift test`"
        }
    }

    /// The server's endpoint and the key pair it knows.
    static func connection() throws -> (endpoint: String, credentials: S3Credentials) {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["MEDIAJOBS_TEST_S3_ENDPOINT"], let id = environment["MEDIAJOBS_TEST_S3_ACCESS_KEY_ID"],
            let secret = environment["MEDIAJOBS_TEST_S3_SECRET_ACCESS_KEY"]
        else { throw NotRunning() }
        return (endpoint, S3Credentials(accessKeyID: id, secretAccessKey: secret))
    }

    /// Runs `body` with a client of a new, empty bucket; the HTTP client is shut down afterwards.
    static func withBucket(
        settings: S3ClientSettings = .init(), secret: String? = nil, _ body: (S3Client) async throws -> Void
    ) async throws {
        let (endpoint, credentials) = try connection()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let bucket = "mj-\(UUID().uuidString.lowercased().prefix(13))"
            let s3Endpoint = try S3Endpoint(bucket: bucket, region: "us-east-1", endpoint: endpoint)
            let owner = S3Client(endpoint: s3Endpoint, credentials: credentials, http: http, settings: settings, logger: Logger(label: "s3-test"))
            _ = try await owner.send(S3Client.Call(operation: "CreateBucket", method: .PUT))
            let signing = secret.map { S3Credentials(accessKeyID: credentials.accessKeyID, secretAccessKey: $0) } ?? credentials
            try await body(S3Client(endpoint: s3Endpoint, credentials: signing, http: http, settings: settings, logger: Logger(label: "s3-test")))
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// A file of `count` seeded bytes in the temp folder, and its hex SHA-256.
    static func file(bytes count: Int, seed: UInt64) throws -> (URL, [UInt8]) {
        var generator = SeededBytes(state: seed)
        let bytes = (0..<count).map { _ in generator.next() }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("s3-test-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return (url, bytes)
    }

    /// xorshift64*: the same bytes for the same seed.
    struct SeededBytes {
        var state: UInt64

        mutating func next() -> UInt8 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return UInt8(truncatingIfNeeded: (state &* 2_685_821_657_736_338_717) >> 56)
        }
    }
}
