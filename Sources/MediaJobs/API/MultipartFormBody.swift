import Foundation
import MultipartKit
import NIOCore

/// A `multipart/form-data` body read into its text fields (what the OpenAI SDKs send to `POST /v1/videos`).
///
/// The body is collected under the same size cap as JSON bodies first, so a form costs no more
/// memory than a JSON document; vapor/multipart-kit's parser then splits it into parts.
struct MultipartFormBody {
    /// The text fields by name; the first part of a name wins.
    var fields: [String: String]
    /// Names of the parts that carried a file (`filename=` in their `Content-Disposition`).
    var fileFields: [String]

    /// Whether a Content-Type names `multipart/form-data`.
    static func isFormData(contentType: String) -> Bool {
        contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "multipart/form-data"
    }

    /// The `boundary` parameter of a Content-Type (1 to 70 characters, as RFC 2046 allows); nil when missing or unusable.
    static func boundary(contentType: String) -> String? {
        guard let value = parameter("boundary", of: contentType), !value.isEmpty, value.utf8.count <= 70 else { return nil }
        return value
    }

    /// Splits `buffer` at `boundary`; a 400 naming the problem for a body that is not a complete form.
    init(_ buffer: ByteBuffer, boundary: String) throws {
        // The closing delimiter must be there: without it the body was cut short or uses another boundary.
        let closing = Array("--\(boundary)--".utf8)
        guard buffer.readableBytesView.firstRange(of: closing) != nil else {
            throw APIError.invalidRequest(
                "the multipart body is incomplete or does not use the boundary its Content-Type names", code: "invalid_multipart")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [(headers: [(String, String)], body: ByteBuffer)] = []
        var headers: [(String, String)] = []
        var body = ByteBuffer()
        parser.onHeader = { name, value in headers.append((name, value)) }
        parser.onBody = { chunk in body.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append((headers, body))
            headers = []
            body = ByteBuffer()
        }
        do {
            try parser.execute(buffer)
        } catch {
            throw APIError.invalidRequest("the multipart body is malformed", code: "invalid_multipart")
        }
        var fields: [String: String] = [:]
        var files: [String] = []
        for part in parts {
            guard let disposition = part.headers.first(where: { $0.0.lowercased() == "content-disposition" })?.1,
                let name = Self.parameter("name", of: disposition)
            else {
                throw APIError.invalidRequest("every part of a multipart/form-data body needs a Content-Disposition with a name", code: "invalid_multipart")
            }
            if Self.parameter("filename", of: disposition) != nil {
                files.append(name)
                continue
            }
            guard let text = String(validating: part.body.readableBytesView, as: UTF8.self) else {
                throw APIError.invalidValue(name, "'\(name)' must be UTF-8 text")
            }
            if fields[name] == nil { fields[name] = text }
        }
        guard !parts.isEmpty else {
            throw APIError.invalidRequest("the multipart body has no parts", code: "invalid_multipart")
        }
        self.fields = fields
        self.fileFields = files
    }

    /// A parameter of a `Content-Disposition` value (`form-data; name="prompt"`), unquoted.
    static func parameter(_ wanted: String, of disposition: String) -> String? {
        for item in disposition.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == wanted else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}
