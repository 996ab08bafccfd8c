import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Builds JSON responses with the project's encoder settings.
enum JSONResponse {
    static let contentType = "application/json; charset=utf-8"

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        // Unsorted keys: sorting costs on every answer, and clients read JSON by key anyway.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = contentType
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// The same for the hand-written answers of the hot paths.
    static func make(_ value: some JSONWritable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = contentType
        return Response(status: status, headers: fields, body: .init(byteBuffer: JSONWriter.buffer(value)))
    }
}

/// `{"code": 200, "message": "success", "data": …}`, the Suno envelope.
struct SunoEnvelopeResponse<Payload: JSONWritable>: JSONWritable {
    var data: Payload

    func write(to json: inout JSONWriter) {
        json.object { json in
            json.field("code", 200)
            json.field("message", "success")
            json.field("data", data)
        }
    }
}

/// `data` of a Suno submit answer.
struct SunoSubmitted: JSONWritable {
    var taskID: String

    func write(to json: inout JSONWriter) {
        json.object { json in json.field("task_id", taskID) }
    }
}

extension Array: JSONWritable where Element: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.array(self) { json, element in element.write(to: &json) }
    }
}

extension HTTPField.Name {
    /// `Idempotency-Key`, as Stripe and the IETF draft spell it.
    static var idempotencyKey: Self { Self("Idempotency-Key")! }
    /// Set on an answer replayed for a repeated `Idempotency-Key`.
    static var idempotentReplayed: Self { Self("Idempotent-Replayed")! }
}

extension AcceptOutcome {
    /// `Idempotent-Replayed: true` on an answer for a task an earlier request created.
    var replayHeaders: HTTPFields {
        if case .replayed = self { return [.idempotentReplayed: "true"] }
        return [:]
    }
}
