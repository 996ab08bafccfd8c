import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Builds JSON responses with the project's encoder settings.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try JSONCoding.encoder().encode(value)
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
