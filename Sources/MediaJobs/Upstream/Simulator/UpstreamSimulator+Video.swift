import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// The provider's video API: `POST /v1/videos`, `GET /v1/videos/{task_id}`, and the MP4 files it links to.
extension UpstreamSimulator {
    /// A submitted video: when it was asked for and how long it takes, how it ends, and what to render.
    struct VideoTask: Sendable {
        var timing: SimulatorTaskTiming
        var fails: Bool
        var width: Int
        var height: Int
        var seconds: Int
    }

    /// `POST /v1/videos`: checks the body and answers `{"id","object":"video","status":"queued"}`.
    @Sendable func submitVideo(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let input: SimulatorVideoRequest
        do {
            input = try SimulatorVideoRequest(json: Data(buffer: body))
        } catch {
            return Self.openAIError(status: .badRequest, message: error.message, type: "invalid_request_error", code: error.code)
        }
        let id = "task_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        counters.videoSubmits.add(1, ordering: .relaxed)
        // The render time does not depend on the asked length or size: every video takes its drawn duration.
        let timing = SimulatorTaskTiming(createdAt: now(), duration: durations.next())
        let task = VideoTask(timing: timing, fails: faults.nextTaskFails(), width: input.width, height: input.height, seconds: input.seconds)
        videoTasks.withLock { $0[id] = task }
        return Self.json(["id": .string(id), "object": .string("video"), "status": .string("queued")])
    }

    /// `GET /v1/videos/{task_id}`: `{"code":"success","data":{"status","progress":"NN%","fail_reason","data":{"output"}}}`.
    ///
    /// Statuses: `QUEUED` (the first tenth of the task's duration), `IN_PROGRESS`, then `SUCCESS` or
    /// `FAILURE`. On success `data.output` is the MP4 and `data.thumbnail` its first frame as a
    /// PNG (the provider documents only `output`; a client must not depend on the poster).
    @Sendable func fetchVideo(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        counters.videoFetches.add(1, ordering: .relaxed)
        let now = self.now()
        let fetched = videoTasks.withLock { tasks -> (task: VideoTask, elapsed: Duration)? in
            guard let elapsed = tasks[id]?.timing.fetch(at: now), let task = tasks[id] else { return nil }
            return (task, elapsed)
        }
        guard case let (task, elapsed)? = fetched else {
            return Self.openAIError(status: .notFound, message: "no video task '\(id)'", type: "not_found_error", code: "task_not_found")
        }
        var data: [String: JSONValue] = ["task_id": .string(id), "fail_reason": .string("")]
        if !task.timing.isFinished(after: elapsed) {
            let percent = min(99, task.timing.percent(after: elapsed))
            data["status"] = .string(percent < 10 ? "QUEUED" : "IN_PROGRESS")
            if settings.reportsProgress { data["progress"] = .string("\(percent)%") }
        } else if task.fails {
            data["status"] = .string("FAILURE")
            data["progress"] = .string("100%")
            data["fail_reason"] = .string("the simulated model could not render this video")
        } else {
            let base = Self.baseURL(of: request)
            let name = VideoMediaName(taskID: id, width: task.width, height: task.height, seconds: task.seconds, variant: .video)
            var poster = name
            poster.variant = .thumbnail
            data["status"] = .string("SUCCESS")
            data["progress"] = .string("100%")
            data["data"] = .object([
                "output": .string("\(base)/media/video/\(name.fileName)"),
                "thumbnail": .string("\(base)/media/video/\(poster.fileName)"),
            ])
        }
        return Self.json(["code": .string("success"), "data": .object(data)])
    }

    /// `GET /media/video/{name}`: the MP4 or its poster, rendered once (off the event loops) and cached; single `Range`s served.
    @Sendable func video(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let media = VideoMediaName(parsing: name) else { throw HTTPError(.notFound) }
        counters.mediaDownloads.add(1, ordering: .relaxed)
        let bytes = await videoFiles.file(named: media.fileName) {
            // Seconds of CPU in a debug build: on NIO's blocking pool, not a cooperative thread.
            (try? await NIOThreadPool.singleton.runIfActive { media.render() }) ?? []
        }
        guard !bytes.isEmpty else { throw HTTPError(.notFound) }
        return Self.rangedMedia(bytes, contentType: media.variant.contentType, range: request.headers[.range])
    }

    /// The whole of `bytes`, or the one range asked for (`206`), or `416` for a range past the end.
    static func rangedMedia(_ bytes: [UInt8], contentType: String, range: String?) -> Response {
        var headers: HTTPFields = [.contentType: contentType, .acceptRanges: "bytes"]
        switch range.map({ ByteRange.resolve($0, size: Int64(bytes.count)) }) ?? .ignore {
        case .ignore:
            headers[.contentLength] = "\(bytes.count)"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .satisfiable(let first, let last):
            headers[.contentLength] = "\(last - first + 1)"
            headers[.contentRange] = "bytes \(first)-\(last)/\(bytes.count)"
            let slice = bytes[Int(first)...Int(last)]
            return Response(status: .partialContent, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: slice)))
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(bytes.count)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
        }
    }
}
