import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// The HTTP API end to end against the in-process simulator.
@Suite struct LiveAPITests {
    @Test func musicJobCompletesWithStoredWAVFiles() async throws {
        try await LiveService.run { client, _ in
            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"lo-fi rain","title":"Rain","style":"lo-fi","make_instrumental":true}"#)
            #expect(submitted.status == .ok)
            let envelope = try submitted.jsonObject()
            #expect(envelope["code"] as? Int == 200)
            #expect(envelope["message"] as? String == "success")
            let id = try #require(value(envelope, "data.task_id") as? String)
            #expect(id.hasPrefix("suno_"))

            let fetched = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }
            let tracks = try #require(value(fetched, "data.tracks") as? [[String: Any]])
            #expect(tracks.count == 2)
            for track in tracks {
                let audioURL = try #require(track["audio_url"] as? String)
                let file = try #require(track["file"] as? [String: Any])
                #expect(audioURL.hasPrefix(LiveService.publicURL + "/files/\(id)/"))
                #expect(file["url"] as? String == audioURL)
                #expect(file["content_type"] as? String == "audio/wav")
                #expect(track["title"] as? String == "Rain")
                #expect(track["style"] as? String == "lo-fi")

                let download = try await client.get(filePath(audioURL))
                #expect(download.status == .ok)
                #expect(download.headers[.contentType] == "audio/wav")
                let bytes = download.bytes
                #expect(bytes.count == file["bytes"] as? Int)
                #expect(SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined() == file["sha256"] as? String)
                let wav = try #require(WAVHeader(bytes))
                #expect(wav.channels == 1)
                #expect(abs(Double(wav.frames) / Double(wav.sampleRate) - (track["duration"] as? Double ?? 0)) < 0.01)
            }
            let task = try await client.get("/v1/tasks/\(id)").jsonObject()
            #expect(task["status"] as? String == "completed")
            #expect(task["kind"] as? String == "music")
            // Two tracks and their two covers, kept like the audio.
            #expect((task["artifacts"] as? [[String: Any]])?.map { $0["content_type"] as? String } == ["audio/wav", "audio/wav", "image/png", "image/png"])
        }
    }

    @Test func imageGenerationAnswersLikeOpenAI() async throws {
        try await LiveService.run { client, _ in
            let response = try await client.post("/v1/images/generations", json: #"{"model":"nano-banana-2","prompt":"a snow leopard","n":2,"size":"128x96"}"#)
            #expect(response.status == .ok)
            let json = try response.jsonObject()
            #expect(json["created"] is Int)
            let items = try #require(json["data"] as? [[String: Any]])
            #expect(items.count == 2)
            for item in items {
                let url = try #require(item["url"] as? String)
                let image = try await client.get(filePath(url))
                #expect(image.headers[.contentType] == "image/png")
                let png = try #require(PNGHeader(image.bytes))
                #expect(png.width == 128 && png.height == 96)
            }
        }
    }

    @Test func imageGenerationReturnsBase64WhenAsked() async throws {
        try await LiveService.run { client, _ in
            let json = try await client.post("/v1/images/generations", json: #"{"prompt":"a cat","size":"64x64","response_format":"b64_json"}"#).jsonObject()
            let items = try #require(json["data"] as? [[String: Any]])
            let encoded = try #require(items.first?["b64_json"] as? String)
            let bytes = [UInt8](try #require(Data(base64Encoded: encoded)))
            #expect(PNGHeader(bytes)?.width == 64)
        }
    }

    @Test func asynchronousImageGenerationReturnsATask() async throws {
        try await LiveService.run { client, _ in
            let accepted = try await client.post("/v1/images/generations", json: #"{"prompt":"a fox","image_size":"1K"}"#, headers: [HTTPField.Name("Prefer")!: "respond-async"])
            #expect(accepted.status == .accepted)
            let task = try accepted.jsonObject()
            let id = try #require(task["id"] as? String)
            #expect(id.hasPrefix("img_"))
            #expect(task["object"] as? String == "image.generation.task")
            #expect(accepted.headers[.location] == "/v1/images/generations/\(id)")
            let done = try await client.poll("/v1/images/generations/\(id)") { $0["status"] as? String == "completed" }
            let url = try #require((done["data"] as? [[String: Any]])?.first?["url"] as? String)
            let png = try #require(PNGHeader(try await client.get(filePath(url)).bytes))
            #expect(png.width == 1024 && png.height == 1024)
        }
    }

    @Test func filesSupportRangesAndConditionalRequests() async throws {
        try await LiveService.run { client, _ in
            let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"drums"}"#).jsonObject(), "data.task_id") as? String)
            let fetched = try await client.poll("/suno/fetch/\(id)") { value($0, "data.status") as? String == "completed" }
            let url = try #require((value(fetched, "data.tracks") as? [[String: Any]])?.first?["audio_url"] as? String)
            let full = try await client.get(filePath(url))
            let etag = try #require(full.headers[.eTag])
            #expect(full.headers[.acceptRanges] == "bytes")
            #expect(full.headers[.cacheControl]?.contains("max-age") == true)

            let partial = try await client.get(filePath(url), headers: [.range: "bytes=0-43"])
            #expect(partial.status == .partialContent)
            #expect(partial.bytes == Array(full.bytes.prefix(44)))
            #expect(partial.headers[.contentRange] == "bytes 0-43/\(full.bytes.count)")

            let suffix = try await client.get(filePath(url), headers: [.range: "bytes=-5"])
            #expect(suffix.status == .partialContent)
            #expect(suffix.bytes == Array(full.bytes.suffix(5)))
            let pastEnd = try await client.get(filePath(url), headers: [.range: "bytes=\(full.bytes.count)-"])
            #expect(pastEnd.status == .rangeNotSatisfiable)
            #expect(pastEnd.headers[.contentRange] == "bytes */\(full.bytes.count)")

            let cached = try await client.get(filePath(url), headers: [.ifNoneMatch: etag])
            #expect(cached.status == .notModified)

            let missing = try await client.get("/files/\(id)/9.wav")
            #expect(missing.status == .notFound)
            #expect(value(try missing.jsonObject(), "error.type") as? String == "not_found_error")
            #expect(try await client.get("/files/\(id)/../../mediajobs.sqlite").status != .ok)
        }
    }

    @Test func cancelStopsATaskOnce() async throws {
        try await LiveService.run(configure: { $0.simulator.latency = .seconds(30) }) { client, _ in
            let id = try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"slow"}"#).jsonObject(), "data.task_id") as? String)
            let canceled = try await client.post("/v1/tasks/\(id)/cancel", json: "")
            #expect(canceled.status == .ok)
            #expect(try canceled.jsonObject()["status"] as? String == "canceled")
            let again = try await client.post("/v1/tasks/\(id)/cancel", json: "")
            #expect(again.status == .conflict)
            #expect(value(try again.jsonObject(), "error.type") as? String == "conflict_error")
            #expect(try await client.get("/v1/tasks/\(id)").jsonObject()["status"] as? String == "canceled")
        }
    }

    @Test func batchFetchReturnsKnownMusicTasksInOrder() async throws {
        try await LiveService.run { client, _ in
            var ids: [String] = []
            for prompt in ["one", "two"] {
                ids.append(try #require(value(try await client.post("/suno/submit/music", json: #"{"prompt":"\#(prompt)"}"#).jsonObject(), "data.task_id") as? String))
            }
            let body = #"{"ids":["\#(ids[1])","suno_unknown","\#(ids[0])"]}"#
            let json = try await client.post("/suno/fetch", json: body).jsonObject()
            let data = try #require(json["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["task_id"] as? String } == [ids[1], ids[0]])
        }
    }

    @Test func taskListPagesThroughEveryTaskOnce() async throws {
        try await LiveService.run(configure: { $0.simulator.latency = .seconds(30) }) { client, _ in
            var submitted: [String] = []
            for index in 0..<5 {
                let json = try await client.post("/suno/submit/music", json: #"{"prompt":"p\#(index)"}"#).jsonObject()
                submitted.append(try #require(value(json, "data.task_id") as? String))
            }
            var seen: [String] = []
            var uri = "/v1/tasks?kind=music&limit=2"
            while true {
                let page = try await client.get(uri).jsonObject()
                #expect(page["object"] as? String == "list")
                seen += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                guard page["has_more"] as? Bool == true, let cursor = page["next_cursor"] as? String else { break }
                uri = "/v1/tasks?kind=music&limit=2&after=\(cursor)"
            }
            #expect(seen == submitted.reversed())
        }
    }

    @Test func healthAndReadiness() async throws {
        try await LiveService.run { client, _ in
            #expect(try await client.get("/healthz").status == .ok)
            let ready = try await client.get("/readyz")
            #expect(ready.status == .ok)
            #expect(try ready.jsonObject()["status"] as? String == "ready")
        }
    }
}
