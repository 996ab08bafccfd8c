import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

/// `GET`/`HEAD /files/...` through a live server: the bodies go out with sendfile(2), so only
/// the real HTTP pipeline shows whether they arrive whole, framed and without the private marker.
/// Every test runs twice: answered on the event loop (the default) and through the router.
@Suite struct FilesTests {
    static let marker = HTTPField.Name(SendfileMarker.headerName)!

    /// One completed music task with 30 s tracks (1.3 MB files: many socket buffers' worth).
    /// Hands `body` the task's first file URL path and where that file lives on disk.
    static func withStoredTrack(
        onEventLoop: Bool, _ body: @Sendable (any TestClientProtocol, _ path: String, _ file: URL) async throws -> Void
    ) async throws {
        let configure: (inout ServiceConfiguration) -> Void = {
            $0.simulator.trackDuration = .seconds(30)
            $0.answerHotRoutesOnEventLoop = onEventLoop
        }
        try await LiveService.run(configure: configure) { client, configuration in
            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"long drums"}"#).jsonObject()
            let id = try #require(value(submitted, "data.task_id") as? String)
            let fetched = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }
            let url = try #require((value(fetched, "data.tracks") as? [[String: Any]])?.first?["audio_url"] as? String)
            let path = filePath(url)
            let storage = LocalArtifactStore(dataDirectory: configuration.dataDirectory)
            let file = storage.fileURL(taskID: id, fileName: String(try #require(path.split(separator: "/").last)))
            try await body(client, path, file)
        }
    }

    @Test(arguments: [true, false]) func getSendsExactlyTheStoredBytes(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, file in
            let stored = [UInt8](try Data(contentsOf: file))
            #expect(stored.count > 1_000_000)
            let response = try await client.get(path)
            #expect(response.status == .ok)
            #expect(response.bytes == stored)
            #expect(response.headers[.contentLength] == String(stored.count))
            #expect(response.headers[.contentType] == "audio/wav")
            #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(response.headers[.lastModified]?.hasSuffix(" GMT") == true)
            #expect(response.headers[Self.marker] == nil)
            #expect(response.headers[.server] == "MediaJobs")
            #expect(response.headers[.date]?.hasSuffix(" GMT") == true)
            // The same connection carries on: the file's bytes were framed by Content-Length.
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test(arguments: [true, false]) func rangesAnswer206WithTheSelectedBytes(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, file in
            let stored = [UInt8](try Data(contentsOf: file))
            let middle = try await client.get(path, headers: [.range: "bytes=500000-500099"])
            #expect(middle.status == .partialContent)
            #expect(middle.bytes == Array(stored[500_000...500_099]))
            #expect(middle.headers[.contentRange] == "bytes 500000-500099/\(stored.count)")
            #expect(middle.headers[.contentLength] == "100")
            #expect(middle.headers[Self.marker] == nil)

            let tail = try await client.get(path, headers: [.range: "bytes=1000000-"])
            #expect(tail.status == .partialContent)
            #expect(tail.bytes == Array(stored[1_000_000...]))

            // A range for another version of the file (If-Range no longer matches): the whole file.
            let stale = try await client.get(path, headers: [.range: "bytes=0-9", .ifRange: "\"not-this-one\""])
            #expect(stale.status == .ok)
            #expect(stale.bytes.count == stored.count)
            let current = try #require(stale.headers[.eTag])
            let fresh = try await client.get(path, headers: [.range: "bytes=0-9", .ifRange: current])
            #expect(fresh.status == .partialContent)
            #expect(fresh.bytes == Array(stored[0...9]))
        }
    }

    @Test(arguments: [true, false]) func headSendsTheHeadersOnly(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, file in
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
            let head = try await client.execute(uri: path, method: .head)
            #expect(head.status == .ok)
            #expect(head.headers[.contentLength] == String(size))
            #expect(head.headers[.eTag] != nil)
            #expect(head.headers[.acceptRanges] == "bytes")
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[Self.marker] == nil)
            let partial = try await client.execute(uri: path, method: .head, headers: [.range: "bytes=0-9"])
            #expect(partial.status == .partialContent)
            #expect(partial.headers[.contentLength] == "10")
            #expect(partial.body.readableBytes == 0)
            #expect(try await client.get(path).bytes.count == size)
        }
    }

    @Test(arguments: [true, false]) func conditionalRequestsAnswer304(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, _ in
            let full = try await client.get(path)
            let eTag = try #require(full.headers[.eTag])
            let lastModified = try #require(full.headers[.lastModified])
            for headers: HTTPFields in [
                [.ifNoneMatch: eTag], [.ifNoneMatch: "W/\(eTag)"], [.ifNoneMatch: "\"other\", \(eTag)"], [.ifNoneMatch: "*"],
                [.ifModifiedSince: lastModified],
            ] {
                let cached = try await client.get(path, headers: headers)
                #expect(cached.status == .notModified, "\(headers)")
                #expect(cached.body.readableBytes == 0)
                #expect(cached.headers[.eTag] == eTag)
                #expect(cached.headers[Self.marker] == nil)
            }
            let changed = try await client.get(path, headers: [.ifNoneMatch: "\"other\""])
            #expect(changed.status == .ok)
            #expect(changed.bytes == full.bytes)
        }
    }

    @Test(arguments: [true, false]) func aMarkerSentByAClientChangesNothing(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, file in
            let stored = [UInt8](try Data(contentsOf: file))
            let planted: HTTPFields = [Self.marker: "0-99 /etc/passwd"]
            let response = try await client.get(path, headers: planted)
            #expect(response.status == .ok)
            #expect(response.bytes == stored)
            #expect(response.headers[Self.marker] == nil)
            let health = try await client.get("/healthz", headers: planted)
            #expect(health.status == .ok)
            #expect(health.headers[Self.marker] == nil)
            #expect(try health.jsonObject()["status"] != nil)
            let unknown = try await client.get("/nowhere", headers: planted)
            #expect(unknown.status == .notFound)
            #expect(value(try unknown.jsonObject(), "error.type") as? String == "not_found_error")
        }
    }

    @Test(arguments: [true, false]) func aFileGoneFromDiskAnswersAnErrorEnvelope(onEventLoop: Bool) async throws {
        try await Self.withStoredTrack(onEventLoop: onEventLoop) { client, path, file in
            let stored = try Data(contentsOf: file)
            // Shorter than its row says (damaged by hand): a 500, never a response short of its length.
            try stored.prefix(1000).write(to: file)
            let short = try await client.get(path)
            #expect(short.status == .internalServerError)
            #expect(value(try short.jsonObject(), "error.type") as? String == "server_error")
            #expect(short.headers[Self.marker] == nil)

            try FileManager.default.removeItem(at: file)
            let missing = try await client.get(path)
            #expect(missing.status == .notFound)
            #expect(value(try missing.jsonObject(), "error.code") as? String == "file_not_found")
            #expect(missing.headers[Self.marker] == nil)
            // Both answers were framed correctly: the connection still works.
            #expect(try await client.get("/healthz").status == .ok)
        }
    }

    @Test(arguments: [true, false]) func bothPathsCountUnderTheRouteTemplate(onEventLoop: Bool) async throws {
        try await LiveOperatorTests.run(configure: { $0.answerHotRoutesOnEventLoop = onEventLoop }) { client, _ in
            let id = try await LiveOperatorTests.completedMusicTask(client)
            #expect(try await client.get("/files/\(id)/0.wav").status == .ok)
            #expect(try await client.execute(uri: "/files/\(id)/0.wav", method: .head).status == .ok)
            #expect(try await client.get("/files/\(id)/7.wav").status == .notFound)
            let text = String(buffer: try await client.get("/metrics").body)
            let route = "/files/{task}/{file}"
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "GET", "route": route, "status": "200"]) == 1)
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "HEAD", "route": route, "status": "200"]) == 1)
            #expect(sample(text, "mediajobs_http_requests_total", ["method": "GET", "route": route, "status": "404"]) == 1)
            #expect(!text.contains("route=\"/files/\(id)"), "raw paths never become labels")
        }
    }
}
