import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import MediaJobs

/// Runs the whole service (HTTP, workers, in-process simulator) on loopback for one test.
enum LiveService {
    static let publicURL = "http://mediajobs.test"

    /// Fast settings: the simulator finishes in 100 ms with 1 s tracks, workers poll every 50 ms.
    static func configuration(dataDirectory: URL) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.port = 0
        configuration.dataDirectory = dataDirectory
        configuration.publicURL = publicURL
        configuration.simulator.latency = .milliseconds(100)
        configuration.simulator.trackDuration = .seconds(1)
        configuration.pipeline.pollInterval = .milliseconds(50)
        configuration.pipeline.maxPollInterval = .milliseconds(200)
        configuration.pipeline.idleTick = .milliseconds(100)
        configuration.pipeline.retryBackoff = RetryBackoff(base: .milliseconds(50), cap: .milliseconds(200))
        configuration.imageWait = .seconds(20)
        return configuration
    }

    /// The one harness of the live Swift tests: a fresh data directory, the configuration above
    /// changed by `configure`, the service built as `serve` builds it, and `body` as its client.
    static func run(
        metrics: ServiceMetrics = ServiceMetrics(),
        configure: (inout ServiceConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, ServiceConfiguration) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mediajobs-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = configuration(dataDirectory: directory)
        configure(&configuration)
        var logger = Logger(label: "mediajobs-test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: configuration, metrics: metrics, logger: logger)
        let frozen = configuration
        try await app.test(.live) { client in try await body(client, frozen) }
    }
}

extension TestClientProtocol {
    /// Sends a JSON body (given as text so tests can send malformed JSON too).
    func post(_ uri: String, json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: json))
    }

    func get(_ uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .get, headers: headers)
    }

    /// GETs `uri` until `done` holds for its JSON, or fails after `timeout`.
    func poll(_ uri: String, headers: HTTPFields = [:], timeout: Duration = .seconds(60), until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let json = try await get(uri, headers: headers).jsonObject()
            if done(json) { return json }
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out polling \(uri); last answer: \(json)")
                return json
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}

extension TestResponse {
    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(buffer: body))
        return try #require(value as? [String: Any], "not a JSON object: \(String(buffer: body))")
    }

    var bytes: [UInt8] { Array(body.readableBytesView) }
}

/// The path part of one of our public file URLs.
func filePath(_ url: String) -> String {
    String(url.dropFirst(LiveService.publicURL.count))
}

/// Reads a `[String: Any]` path like `data.tracks`.
func value(_ json: [String: Any], _ path: String) -> Any? {
    var current: Any? = json
    for key in path.split(separator: ".") {
        current = (current as? [String: Any])?[String(key)]
    }
    return current
}
