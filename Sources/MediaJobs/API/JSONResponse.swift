import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Builds JSON responses with the project's encoder settings.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        // Unsorted keys: sorting costs on every answer, and clients read JSON by key anyway.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

/// `{"code": 200, "message": "success", "data": …}`, the Suno envelope.
struct SunoEnvelopeResponse<Payload: Encodable>: Encodable {
    var code = 200
    var message = "success"
    var data: Payload
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
