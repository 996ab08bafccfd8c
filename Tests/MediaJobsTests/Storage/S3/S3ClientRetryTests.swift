import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@testable import MediaJobs

/// ``S3Client``'s retries against a scripted server: throttling and server errors are tried again
/// (with backoff) until they pass or the attempts run out; client errors are not; S3's XML error
/// bodies become readable errors.
@Suite struct S3ClientRetryTests {
    /// How many calls the scripted server has answered.
    final class Calls: Sendable {
        private let counter = Mutex(0)

        /// Counts one call; its number.
        func next() -> Int { counter.withLock { $0 += 1; return $0 } }
        var count: Int { counter.withLock { $0 } }
    }

    /// Counts calls and answers from `script` by call number (1-based): a status and an S3 error code.
    static func withScriptedServer(
        _ script: @escaping @Sendable (Int) -> (HTTPResponse.Status, String?), _ body: @Sendable (S3Client, Calls) async throws -> Void
    ) async throws {
        let calls = Calls()
        let router = Router()
        router.on("/media", method: .head) { _, _ -> Response in
            let (status, _) = script(calls.next())
            return Response(status: status)
        }
        router.get("/media") { _, _ -> Response in
            let (status, code) = script(calls.next())
            guard let code else { return Response(status: status, body: .init(byteBuffer: .init(string: "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"))) }
            let xml = "<?xml version=\"1.0\"?><Error><Code>\(code)</Code><Message>scripted \(code)</Message><RequestId>1</RequestId></Error>"
            return Response(status: status, headers: [.contentType: "application/xml"], body: .init(byteBuffer: .init(string: xml)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        var scripted = S3ClientSettings()
        scripted.maxAttempts = 4
        scripted.backoff = RetryBackoff(base: .milliseconds(1), cap: .milliseconds(5))
        let settings = scripted
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await app.test(.live) { testClient in
                let endpoint = try S3Endpoint(bucket: "media", region: "us-east-1", endpoint: "http://127.0.0.1:\(try #require(testClient.port))")
                let client = S3Client(
                    endpoint: endpoint, credentials: S3Credentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret"), http: http, settings: settings,
                    logger: Logger(label: "s3-retry-test"))
                try await body(client, calls)
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func slowDownIsRetriedUntilItPasses() async throws {
        try await Self.withScriptedServer({ call in call <= 2 ? (.serviceUnavailable, "SlowDown") : (.ok, nil) }) { client, calls in
            let page = try await client.listObjectsPage(prefix: "")
            #expect(page.objects.isEmpty)
            #expect(calls.count == 3)
        }
    }

    @Test func serverErrorsGiveUpAfterTheAttemptsWithAReadableError() async throws {
        try await Self.withScriptedServer({ _ in (.internalServerError, "InternalError") }) { client, calls in
            do throws(S3Error) {
                _ = try await client.listObjectsPage(prefix: "")
                Issue.record("a failing server succeeded")
            } catch {
                #expect(error.description == "S3 ListObjectsV2 media: 500 InternalError: scripted InternalError")
            }
            #expect(calls.count == 4)
        }
    }

    @Test func clientErrorsAreNotRetried() async throws {
        try await Self.withScriptedServer({ _ in (.forbidden, "AccessDenied") }) { client, calls in
            await #expect(throws: S3Error.self) { _ = try await client.listObjectsPage(prefix: "") }
            #expect(calls.count == 1)
            // A HEAD has no body: its status names the error.
            do throws(S3Error) {
                try await client.headBucket()
                Issue.record("a refused HEAD succeeded")
            } catch {
                #expect(error.status == 403)
                #expect(error.description.hasPrefix("S3 HeadBucket media: 403 Forbidden"), "\(error)")
            }
            #expect(calls.count == 2)
        }
    }
}
