import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

@testable import MediaJobs

/// The operator side end to end: admin auth, prune and retry over HTTP, automatic retention, `/metrics`.
@Suite struct LiveOperatorTests {
    static let adminKey = "admin-test-key"
    static let admin: HTTPFields = [.authorization: "Bearer \(adminKey)"]

    /// ``LiveService/run(metrics:configure:_:)`` with operator settings, handing the test the service's metrics.
    static func run(
        operators: OperatorSettings = OperatorSettings(adminKey: adminKey),
        configure: (inout ServiceConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, ServiceMetrics) async throws -> Void
    ) async throws {
        // A registry per test: nothing here touches the process-global MetricsSystem.
        let metrics = ServiceMetrics(registry: PrometheusCollectorRegistry())
        try await LiveService.run(metrics: metrics, configure: { configuration in
            configuration.operators = operators
            configure(&configuration)
        }) { client, _ in try await body(client, metrics) }
    }

    static func completedMusicTask(_ client: any TestClientProtocol) async throws -> String {
        let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"lo-fi"}"#).jsonObject(), "data.task_id") as? String)
        _ = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }
        return id
    }

    @Test func adminAPIIsOffWithoutAKey() async throws {
        try await Self.run(operators: OperatorSettings()) { client, _ in
            for response in [try await client.get("/admin/v1/stats", headers: Self.admin), try await client.post("/admin/v1/prune", json: "{}")] {
                #expect(response.status == .notFound)
                #expect(value(try response.jsonObject(), "error.type") as? String == "not_found_error")
            }
        }
    }

    @Test func adminAPINeedsTheKey() async throws {
        try await Self.run { client, _ in
            let missing = try await client.get("/admin/v1/stats")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(value(try missing.jsonObject(), "error.type") as? String == "authentication_error")
            let wrong = try await client.get("/admin/v1/stats", headers: [.authorization: "Bearer \(Self.adminKey)x"])
            #expect(wrong.status == .unauthorized)
            #expect(value(try wrong.jsonObject(), "error.code") as? String == "invalid_admin_key")
            let basic = try await client.get("/admin/v1/stats", headers: [.authorization: "Basic \(Self.adminKey)"])
            #expect(basic.status == .unauthorized)
            let ok = try await client.get("/admin/v1/stats", headers: Self.admin)
            #expect(ok.status == .ok)
            #expect(value(try ok.jsonObject(), "tasks.total") as? Int == 0)
        }
    }

    @Test func pruneThroughTheAdminAPI() async throws {
        try await Self.run { client, _ in
            let id = try await Self.completedMusicTask(client)
            let tracks = try #require(value(try await client.get("/suno/fetch/\(id)").jsonObject(), "data.tracks") as? [[String: Any]])
            let urls = tracks.compactMap { $0["audio_url"] as? String }
            #expect(urls.count == 2)

            let dry = try await client.post("/admin/v1/prune", json: #"{"older_than":"0s","dry_run":true}"#, headers: Self.admin)
            #expect(dry.status == .ok)
            let dryReport = try dry.jsonObject()
            #expect(value(dryReport, "artifacts.count") as? Int == 4, "two tracks and their covers")
            #expect(value(dryReport, "dry_run") as? Bool == true)
            for url in urls { #expect(try await client.get(filePath(url)).status == .ok, "a dry run deletes nothing") }

            let real = try await client.post("/admin/v1/prune", json: #"{"older_than":"0s"}"#, headers: Self.admin).jsonObject()
            for key in ["artifacts.count", "artifacts.bytes", "artifacts.oldest_created_at", "artifacts.newest_created_at"] {
                #expect(value(real, key) as? Int == value(dryReport, key) as? Int, "\(key): the real run removes what the dry run said")
            }
            #expect(value(real, "files_deleted") as? Int == 4)

            let fetched = try await client.get("/suno/fetch/\(id)").jsonObject()
            for track in try #require(value(fetched, "data.tracks") as? [[String: Any]]) {
                #expect(track["audio_url"] is NSNull)
                #expect(value(track, "file.expired") as? Bool == true)
                #expect(value(track, "file.url") is NSNull)
            }
            for url in urls {
                let gone = try await client.get(filePath(url))
                #expect(gone.status == .gone)
                #expect(value(try gone.jsonObject(), "error.code") as? String == "file_expired")
            }
            let again = try await client.post("/admin/v1/prune", json: #"{"older_than":"0s"}"#, headers: Self.admin).jsonObject()
            #expect(value(again, "artifacts.count") as? Int == 0, "prune is idempotent")

            let stats = try await client.get("/admin/v1/stats", headers: Self.admin).jsonObject()
            #expect(value(stats, "storage.files") as? Int == 0)
            #expect(value(stats, "pruned.expired_by_kind.music.files") as? Int == 4)
            #expect(value(stats, "pruned.removed_files") as? Int == 4)

            let bad = try await client.post("/admin/v1/prune", json: #"{"max_total_size":"lots"}"#, headers: Self.admin)
            #expect(bad.status == .badRequest)
            #expect(value(try bad.jsonObject(), "error.param") as? String == "max_total_size")
        }
    }

    @Test func retryThroughTheAdminAPI() async throws {
        try await Self.run(configure: { $0.simulator.failureRate = 1 }) { client, _ in
            let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"doomed"}"#).jsonObject(), "data.task_id") as? String)
            let failed = try await client.poll("/v1/tasks/\(id)") { $0["status"] as? String == "failed" }
            #expect(failed["fail_reason"] is String)

            let retried = try await client.post("/admin/v1/tasks/\(id)/retry", json: "", headers: Self.admin)
            #expect(retried.status == .ok)
            let task = try retried.jsonObject()
            #expect(task["status"] as? String == "queued")
            #expect(task["fail_reason"] is NSNull)
            #expect(task["finished_at"] is NSNull)
            #expect(task["attempts"] as? Int == 0)
            // The simulator fails everything, so the new run ends failed again: the task really ran again.
            let second = try await client.poll("/v1/tasks/\(id)") { $0["status"] as? String == "failed" }
            #expect((second["finished_at"] as? Int ?? 0) >= (failed["finished_at"] as? Int ?? 0))

            #expect(try await client.post("/admin/v1/tasks/suno_unknown/retry", json: "", headers: Self.admin).status == .notFound)
        }
    }

    @Test func retryOfATaskThatDidNotFailIsAConflict() async throws {
        try await Self.run(configure: { $0.simulator.latency = .seconds(30) }) { client, _ in
            let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"slow"}"#).jsonObject(), "data.task_id") as? String)
            #expect(try await client.post("/v1/tasks/\(id)/cancel", json: "").status == .ok)
            let conflict = try await client.post("/admin/v1/tasks/\(id)/retry", json: "", headers: Self.admin)
            #expect(conflict.status == .conflict)
            #expect(value(try conflict.jsonObject(), "error.code") as? String == "task_not_retryable")
        }
    }

    @Test func automaticRetentionPrunesOnItsOwn() async throws {
        let operators = OperatorSettings(adminKey: Self.adminKey, retention: PrunePolicy(maxAge: .zero), retentionInterval: .milliseconds(100))
        try await Self.run(operators: operators) { client, _ in
            let id = try await Self.completedMusicTask(client)
            let fetched = try await client.poll("/suno/fetch/\(id)") { json in
                (value(json, "data.tracks") as? [[String: Any]])?.allSatisfy { value($0, "file.expired") as? Bool == true } == true
            }
            #expect((value(fetched, "data.tracks") as? [Any])?.count == 2)
            // The counters move when a run ends, after its files are gone (the rows said "expired" before):
            // wait for them, then check that nothing more than the task's four files was counted.
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            var text = ""
            repeat {
                text = String(buffer: try await client.get("/metrics").body)
                if sample(text, "mediajobs_retention_removed_files_total", ["trigger": "schedule"]) ?? 0 >= 4 { break }
                try await Task.sleep(for: .milliseconds(25))
            } while ContinuousClock.now < deadline
            #expect(sample(text, "mediajobs_retention_runs_total", ["trigger": "schedule"]) ?? 0 >= 1)
            #expect(sample(text, "mediajobs_retention_removed_files_total", ["trigger": "schedule"]) == 4, "two tracks and their covers")
        }
    }

    @Test func metricsMoveWhenTasksRun() async throws {
        try await Self.run { client, _ in
            let before = String(buffer: try await client.get("/metrics").body)
            #expect(sample(before, "mediajobs_tasks", ["kind": "music", "status": "completed"]) == 0)
            let id = try await Self.completedMusicTask(client)
            _ = try await client.get("/v1/tasks/\(id)")
            let response = try await client.get("/metrics")
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "POST", "route": "/suno/submit/music", "status": "200"]) == 1)
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "GET", "route": "/v1/tasks/{id}", "status": "200"]) == 1)
            #expect(!text.contains("route=\"/v1/tasks/\(id)\""), "raw paths never become labels")
            #expect(sample(text, "mediajobs_http_request_duration_seconds_count", ["method": "POST", "route": "/suno/submit/music", "status": "200"]) == 1)
            #expect(sample(text, "mediajobs_tasks", ["kind": "music", "status": "completed"]) == 1)
            // Two tracks and their covers.
            #expect(sample(text, "mediajobs_storage_files", ["kind": "music"]) == 4)
            #expect(sample(text, "mediajobs_download_files_total", ["kind": "music"]) == 4)
            #expect(sample(text, "mediajobs_download_bytes_total", ["kind": "music"]) ?? 0 > 0)
            #expect(sample(text, "mediajobs_upstream_calls_total", ["operation": "submit", "kind": "music", "status": "2xx"]) == 1)
            #expect(sample(text, "mediajobs_upstream_calls_total", ["operation": "poll", "kind": "music", "status": "2xx"]) ?? 0 >= 1)
            #expect(text.contains("# TYPE mediajobs_http_requests_total counter"))
            #expect(text.contains("# TYPE mediajobs_tasks gauge"))
            _ = try await client.get("/nothing/here")
            let after = String(buffer: try await client.get("/metrics").body)
            #expect(sample(after, "mediajobs_http_requests_total", ["method": "GET", "route": "NotFound", "status": "404"]) == 1)
        }
    }
}

/// The value of the sample `name{labels}` in Prometheus text (labels in any order), or nil when absent.
func sample(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let (series, number) = (line.split(separator: " ").dropLast().joined(separator: " "), line.split(separator: " ").last.map(String.init) ?? "")
        let metric = series.prefix { $0 != "{" }
        guard metric == name else { continue }
        var found: [String: String] = [:]
        if let open = series.firstIndex(of: "{"), let close = series.lastIndex(of: "}") {
            for pair in series[series.index(after: open)..<close].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                found[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
        }
        if found == labels { return Double(number) }
    }
    return nil
}
