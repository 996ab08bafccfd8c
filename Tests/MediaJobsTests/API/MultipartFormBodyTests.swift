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

    /// `buffer` as a request body arrives: chunks of `size` bytes.
    static func chunks(_ buffer: ByteBuffer, size: Int) -> AsyncStream<ByteBuffer> {
        var rest = buffer
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        while let chunk = rest.readSlice(length: min(size, rest.readableBytes)), chunk.readableBytes > 0 {
            continuation.yield(chunk)
        }
        continuation.finish()
        return stream
    }

    /// A whole body read in one chunk, well within the cap.
    static func read(_ buffer: ByteBuffer, boundary: String = "XyZ123", fileNames: Set<String> = []) async throws -> MultipartFormBody {
        try await MultipartFormBody.read(
            chunks(buffer, size: max(1, buffer.readableBytes)), boundary: boundary, maxBytes: 1 << 20, declaredLength: buffer.readableBytes,
            fileNames: fileNames)
    }

    static func status(of error: any Error) -> Int? {
        (error as? APIError).map { Int($0.status.code) }
    }

    @Test func readsTextFields() async throws {
        let body = try await Self.read(Self.form([("prompt", "a cat\r\non a mat", nil), ("seconds", "4", nil), ("size", "720x1280", nil)]))
        #expect(body.fields == ["prompt": "a cat\r\non a mat", "seconds": "4", "size": "720x1280"])
        #expect(body.filePart == nil)
    }

    @Test func stopsAtTheFirstFilePart() async throws {
        let form = Self.form([("prompt", "p", nil), ("input_reference", "\u{89}PNG", filename: "ref.png"), ("size", "720x1280", nil)])
        let body = try await Self.read(form)
        #expect(body.filePart == "input_reference")
        #expect(body.fields == ["prompt": "p"])
        // A part of a name that means a file is one even without `filename=`.
        let named = try await Self.read(Self.form([("input_reference", "x", nil)]), fileNames: ["input_reference"])
        #expect(named.filePart == "input_reference")
        // Any part with a filename is a file, whatever its name.
        #expect(try await Self.read(Self.form([("image", "x", filename: "a.png")])).filePart == "image")
    }

    @Test(arguments: [1, 2, 7, 13, 64, 4096]) func readsTheSameInChunksOfAnySize(size: Int) async throws {
        // The closing delimiter and the headers fall across chunk edges for the small sizes.
        let form = Self.form([("prompt", "a cat\r\non a mat", nil), ("seconds", "4", nil), ("metadata", #"{"k":1}"#, nil)])
        let body = try await MultipartFormBody.read(Self.chunks(form, size: size), boundary: "XyZ123", maxBytes: 1000, declaredLength: form.readableBytes)
        #expect(body.fields == ["prompt": "a cat\r\non a mat", "seconds": "4", "metadata": #"{"k":1}"#])
        #expect(body.filePart == nil)
        let cut = form.getSlice(at: 0, length: form.readableBytes - 4)!
        await #expect(throws: APIError.self) {
            try await MultipartFormBody.read(Self.chunks(cut, size: size), boundary: "XyZ123", maxBytes: 1000, declaredLength: nil)
        }
    }

    @Test func aFileAnswersBeforeItsBytesAreRead() async throws {
        // The body fails after the file part's headers: reading must have stopped before.
        let head = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\np\r\n--b\r\nContent-Disposition: form-data; name=\"input_reference\"; filename=\"r.png\"\r\n")
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        continuation.yield(head)
        continuation.finish(throwing: CancellationError())
        let body = try await MultipartFormBody.read(stream, boundary: "b", maxBytes: 1_000_000, declaredLength: 5_000_000, fileNames: ["input_reference"])
        #expect(body.filePart == "input_reference")
        #expect(body.fields == ["prompt": "p"])
    }

    @Test func theSizeCapHoldsForFormsWithoutAFile() async throws {
        let big = Self.form([("prompt", String(repeating: "x", count: 5000), nil)])
        do {
            _ = try await MultipartFormBody.read(Self.chunks(big, size: 1024), boundary: "XyZ123", maxBytes: 4096, declaredLength: nil)
            Issue.record("a form over the cap must be refused")
        } catch {
            #expect(Self.status(of: error) == 413)
        }
        // Declared over the cap and passed on without its body (the connection handler's cut): 413, not "incomplete".
        do {
            _ = try await MultipartFormBody.read(Self.chunks(ByteBuffer(), size: 1), boundary: "XyZ123", maxBytes: 4096, declaredLength: 5000)
            Issue.record("a body declared over the cap must be refused")
        } catch {
            #expect(Self.status(of: error) == 413)
        }
        // A file that begins within the cap is named, however big the body; one that begins past it is not seen.
        let file = Self.form([("prompt", "p", nil), ("input_reference", String(repeating: "\u{1}", count: 10_000), filename: "r.png")])
        let named = try await MultipartFormBody.read(Self.chunks(file, size: 1024), boundary: "XyZ123", maxBytes: 4096, declaredLength: file.readableBytes)
        #expect(named.filePart == "input_reference")
        let late = Self.form([("prompt", String(repeating: "x", count: 5000), nil), ("input_reference", "x", filename: "r.png")])
        do {
            _ = try await MultipartFormBody.read(Self.chunks(late, size: 1024), boundary: "XyZ123", maxBytes: 4096, declaredLength: nil)
            Issue.record("a file part past the cap is not looked for")
        } catch {
            #expect(Self.status(of: error) == 413)
        }
    }

    @Test func refusesBrokenBodies() async {
        // Another boundary than the header's, a body cut short, an empty body.
        await #expect(throws: APIError.self) { try await Self.read(Self.form([("prompt", "p", nil)], boundary: "other")) }
        await #expect(throws: APIError.self) { try await Self.read(Self.form([("prompt", "p", nil)], closed: false)) }
        await #expect(throws: APIError.self) { try await Self.read(ByteBuffer()) }
        // A part without a name.
        let nameless = ByteBuffer(string: "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n")
        await #expect(throws: APIError.self) { try await Self.read(nameless, boundary: "b") }
        // A field that is not UTF-8 text.
        var binary = ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n")
        binary.writeBytes([0xFF, 0xFE])
        binary.writeString("\r\n--b--\r\n")
        await #expect(throws: APIError.self) { try await Self.read(binary, boundary: "b") }
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
