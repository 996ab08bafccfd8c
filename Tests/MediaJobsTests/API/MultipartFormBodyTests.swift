import NIOCore
import Testing

@testable import MediaJobs

/// Reading `multipart/form-data` bodies, as the OpenAI SDKs send `POST /v1/videos`.
@Suite struct MultipartFormBodyTests {
    static func form(_ parts: [(String, String, filename: String?)], boundary: String = "XyZ123", closed: Bool = true) -> ByteBuffer {
        var text = ""
        for (name, value, filename) in parts {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { text += "; filename=\"\(filename)\"\r\nContent-Type: image/png" }
            text += "\r\n\r\n\(value)\r\n"
        }
        if closed { text += "--\(boundary)--\r\n" }
        return ByteBuffer(string: text)
    }

    @Test func readsTextFields() throws {
        let body = try MultipartFormBody(Self.form([("prompt", "a cat\r\non a mat", nil), ("seconds", "4", nil), ("size", "720x1280", nil)]), boundary: "XyZ123")
        #expect(body.fields == ["prompt": "a cat\r\non a mat", "seconds": "4", "size": "720x1280"])
        #expect(body.fileFields.isEmpty)
    }

    @Test func namesFileParts() throws {
        let body = try MultipartFormBody(Self.form([("prompt", "p", nil), ("input_reference", "\u{89}PNG", filename: "ref.png")]), boundary: "XyZ123")
        #expect(body.fileFields == ["input_reference"])
        #expect(body.fields == ["prompt": "p"])
    }

    @Test func refusesBrokenBodies() {
        // Another boundary than the header's, a body cut short, an empty body.
        #expect(throws: APIError.self) { try MultipartFormBody(Self.form([("prompt", "p", nil)], boundary: "other"), boundary: "XyZ123") }
        #expect(throws: APIError.self) { try MultipartFormBody(Self.form([("prompt", "p", nil)], closed: false), boundary: "XyZ123") }
        #expect(throws: APIError.self) { try MultipartFormBody(ByteBuffer(), boundary: "XyZ123") }
        // A part without a name.
        let nameless = ByteBuffer(string: "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n")
        #expect(throws: APIError.self) { try MultipartFormBody(nameless, boundary: "b") }
    }

    @Test func readsTheContentType() {
        #expect(MultipartFormBody.isFormData(contentType: "multipart/form-data; boundary=abc"))
        #expect(MultipartFormBody.isFormData(contentType: "Multipart/Form-Data;boundary=\"abc\""))
        #expect(!MultipartFormBody.isFormData(contentType: "application/json"))
        #expect(MultipartFormBody.boundary(contentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartFormBody.boundary(contentType: "multipart/form-data; boundary=\"a b\"") == "a b")
        #expect(MultipartFormBody.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartFormBody.boundary(contentType: "multipart/form-data; boundary=") == nil)
        #expect(MultipartFormBody.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "a", count: 71)) == nil)
    }
}
