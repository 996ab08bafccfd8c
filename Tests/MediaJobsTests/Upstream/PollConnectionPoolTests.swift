import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Testing

@testable import MediaJobs

/// The polls' own connections against a peer that answers byte for byte as each test scripts.
@Suite struct PollConnectionPoolTests {
    static func pool(port: Int, scheme: String = "http", path: String = "", tls: TLSConfiguration? = nil) -> PollConnectionPool {
        var settings = PollConnectionPool.Settings(maxAnswerBytes: 1024)
        settings.sweepInterval = .milliseconds(20)
        if let tls { settings.tls = tls }
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "Authorization", value: "Bearer sk-test")
        let base = LateValue<String>()
        base.set("\(scheme)://127.0.0.1:\(port)\(path)")
        return PollConnectionPool(baseURL: base, headers: headers, settings: settings, eventLoop: MultiThreadedEventLoopGroup.singleton.next())
    }

    static func outcome(_ pool: PollConnectionPool, _ path: String, timeout: Duration = .seconds(5)) async -> Result<String, PollConnectionPool.Failure> {
        do throws(PollConnectionPool.Failure) {
            let answer = try await pool.get(path, timeout: timeout)
            return .success("\(answer.status) \(String(buffer: answer.body))")
        } catch {
            return .failure(error)
        }
    }

    @Test func oneConnectionCarriesPollAfterPoll() async throws {
        let peer = try await ScriptedHTTPPeer { index, _ in
            // Alternately with a length and chunked: both end an answer on a kept-alive connection.
            let tail = "\":\(index)}"
            return index.isMultiple(of: 2)
                ? .json(#"{"n":\#(index)}"#)
                : .bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"n\r\n\(tail.utf8.count)\r\n\(tail)\r\n0\r\n\r\n", close: false)
        }
        let pool = Self.pool(port: peer.port, path: "/api/")
        for index in 0..<6 {
            #expect(await Self.outcome(pool, "/suno/fetch/t\(index)") == .success(#"200 {"n":\#(index)}"#))
        }
        #expect(peer.connections == 1)
        let first = try #require(peer.arrivals.first?.head)
        #expect(first.hasPrefix("GET /api/suno/fetch/t0 HTTP/1.1\r\n"), "\(first)")
        #expect(first.contains("Host: 127.0.0.1:\(peer.port)"), "\(first)")
        #expect(first.contains("Authorization: Bearer sk-test"), "\(first)")
        await pool.shutdown()
        await peer.stop()
    }

    @Test func anAnswerThatClosesItsConnectionIsTheLastOnIt() async throws {
        let peer = try await ScriptedHTTPPeer { index, _ in
            // With a length, then without one: the body ends where the connection does.
            index == 0 ? .json(#"{"n":0}"#, keepAlive: false) : .bytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"n\":\(index)}", close: true)
        }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a") == .success(#"200 {"n":0}"#))
        #expect(await Self.outcome(pool, "/b") == .success(#"200 {"n":1}"#))
        #expect(await Self.outcome(pool, "/c") == .success(#"200 {"n":2}"#))
        #expect(peer.connections == 3)
        await pool.shutdown()
        await peer.stop()
    }

    /// A provider may close a connection it kept alive just as the next request goes out: that
    /// request goes once more, on a new connection.
    @Test func aRequestOnAConnectionTheProviderClosedGoesOnceMore() async throws {
        let peer = try await ScriptedHTTPPeer { index, arrival in
            arrival.indexOnConnection == 1 ? .close : .json(#"{"n":\#(index)}"#)
        }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a") == .success(#"200 {"n":0}"#))
        #expect(await Self.outcome(pool, "/b") == .success(#"200 {"n":2}"#))
        #expect(peer.arrivals.map(\.connection) == [1, 1, 2])
        await pool.shutdown()
        await peer.stop()
    }

    /// Once a connection closed under it without a byte, a request fails rather than goes a third time.
    @Test func aRequestGoesAtMostTwice() async throws {
        let peer = try await ScriptedHTTPPeer { index, arrival in
            index == 0 ? .json("{}") : .close
        }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a") == .success("200 {}"))
        #expect(await Self.outcome(pool, "/b") == .failure(.closed(answerStarted: false)))
        #expect(peer.arrivals.count == 3)
        await pool.shutdown()
        await peer.stop()
    }

    /// An answer cut short is not repeated: the provider may have acted on it.
    @Test func anAnswerCutShortFails() async throws {
        let peer = try await ScriptedHTTPPeer { _, _ in
            .bytes("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\":", close: true)
        }
        let pool = Self.pool(port: peer.port)
        let outcome = await Self.outcome(pool, "/a")
        #expect(outcome == .failure(.closed(answerStarted: true)), "\(outcome)")
        #expect(peer.arrivals.count == 1)
        await pool.shutdown()
        await peer.stop()
    }

    @Test func noAnswerWithinTheTimeoutFailsAndFreesTheConnection() async throws {
        let peer = try await ScriptedHTTPPeer { index, _ in index == 0 ? .silence : .json("{}") }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a", timeout: .milliseconds(200)) == .failure(.timedOut(after: .milliseconds(200))))
        // The silent connection is closed; the next call gets a new one.
        #expect(await Self.outcome(pool, "/b") == .success("200 {}"))
        #expect(peer.connections == 2)
        await pool.shutdown()
        await peer.stop()
    }

    @Test func anAnswerOverTheLimitFails() async throws {
        let body = String(repeating: "x", count: 2000)
        let peer = try await ScriptedHTTPPeer { _, _ in .json(body) }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a") == .failure(.tooLarge(limit: 1024)))
        await pool.shutdown()
        await peer.stop()
    }

    @Test func afterShutdownCallsFail() async throws {
        let peer = try await ScriptedHTTPPeer { _, _ in .json("{}") }
        let pool = Self.pool(port: peer.port)
        #expect(await Self.outcome(pool, "/a") == .success("200 {}"))
        await pool.shutdown()
        #expect(await Self.outcome(pool, "/b") == .failure(.shutDown))
        await peer.stop()
    }

    @Test func aProviderThatIsNotThereIsAConnectionFailure() async throws {
        let pool = Self.pool(port: 1)
        guard case .failure(.connection) = await Self.outcome(pool, "/a") else { Issue.record("expected a connection failure"); return }
        await pool.shutdown()
    }

    /// Over TLS, with the peer's certificate trusted as a root (made for the test by `openssl`).
    @Test func pollsGoOverTLS() async throws {
        let (certificate, key) = try Self.selfSignedCertificate()
        let server = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let peer = try await ScriptedHTTPPeer(tls: server) { index, _ in .json(#"{"n":\#(index)}"#) }
        var client = TLSConfiguration.makeClientConfiguration()
        client.trustRoots = .certificates([certificate])
        let pool = Self.pool(port: peer.port, scheme: "https", tls: client)
        #expect(await Self.outcome(pool, "/a") == .success(#"200 {"n":0}"#))
        #expect(await Self.outcome(pool, "/b") == .success(#"200 {"n":1}"#))
        #expect(peer.connections == 1)
        await pool.shutdown()

        await peer.stop()

        // A provider that ends its connections without TLS's close_notify: an answer delimited by
        // the close is whole, one cut short is not.
        let ragged = try await ScriptedHTTPPeer(tls: server) { index, _ in
            index == 0
                ? .bytesThenRaggedClose("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"n\":0}")
                : .bytesThenRaggedClose("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"n\":")
        }
        let raggedPool = Self.pool(port: ragged.port, scheme: "https", tls: client)
        #expect(await Self.outcome(raggedPool, "/a") == .success(#"200 {"n":0}"#))
        #expect(await Self.outcome(raggedPool, "/b") == .failure(.closed(answerStarted: true)))
        await raggedPool.shutdown()

        // Without the certificate trusted, the connection is refused.
        let untrusting = Self.pool(port: ragged.port, scheme: "https")
        guard case .failure(.connection) = await Self.outcome(untrusting, "/c") else { Issue.record("an unknown certificate must be refused"); return }
        await untrusting.shutdown()
        await ragged.stop()
    }

    /// A certificate for 127.0.0.1 and its key.
    static func selfSignedCertificate() throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("poll-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = (directory.appendingPathComponent("cert.pem").path, directory.appendingPathComponent("key.pem").path)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl could not make a certificate")
        return (try NIOSSLCertificate(file: certificate, format: .pem), try NIOSSLPrivateKey(file: key, format: .pem))
    }

    static func parts(_ address: ProviderAddress) -> String {
        "\(address.tls ? "https" : "http") \(address.host) \(address.port) '\(address.pathPrefix)' \(address.hostHeader)"
    }

    @Test func baseURLsAreReadOnce() throws {
        let plain = try ProviderAddress(baseURL: "http://localhost:8080")
        #expect(Self.parts(plain) == "http localhost 8080 '' localhost:8080")
        let secure = try ProviderAddress(baseURL: "https://apitopmix.com/")
        #expect(Self.parts(secure) == "https apitopmix.com 443 '' apitopmix.com")
        let prefixed = try ProviderAddress(baseURL: "http://[::1]:9000/gateway/v2/")
        #expect(Self.parts(prefixed) == "http ::1 9000 '/gateway/v2' [::1]:9000")
        #expect(throws: ProviderAddress.Invalid.self) { try ProviderAddress(baseURL: "ftp://example.com") }
        #expect(throws: ProviderAddress.Invalid.self) { try ProviderAddress(baseURL: "not a url") }
    }
}
