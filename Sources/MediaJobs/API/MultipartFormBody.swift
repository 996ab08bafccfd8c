import Foundation
import MultipartKit
import NIOCore

/// A `multipart/form-data` body read into its text fields (what the OpenAI SDKs send to `POST /v1/videos`).
///
/// The body is read as it arrives, through vapor/multipart-kit's incremental parser, under the same
/// size cap as JSON bodies. Reading stops at the first file part: a client that sends a file (the
/// SDK's `input_reference`, often megabytes) hears why it is refused instead of a 413 for the file's
/// size, and the file is never held in memory.
struct MultipartFormBody {
    /// The text fields by name; the first part of a name wins. Only the parts before ``filePart``.
    var fields: [String: String]
    /// The name of the first part that carries a file; reading stopped where it began.
    var filePart: String?

    /// Whether a Content-Type names `multipart/form-data`.
    static func isFormData(contentType: String) -> Bool {
        contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "multipart/form-data"
    }

    /// The `boundary` parameter of a Content-Type (1 to 70 characters, as RFC 2046 allows); nil when missing or unusable.
    static func boundary(contentType: String) -> String? {
        guard let value = parameter("boundary", of: contentType), !value.isEmpty, value.utf8.count <= 70 else { return nil }
        return value
    }

    /// Reads `body` chunk by chunk until the form ends or a file part begins.
    ///
    /// - Parameters:
    ///   - maxBytes: the size cap; a body over it is a 413 unless a file part began within it.
    ///   - declaredLength: the request's `Content-Length`. The connection handler passes a form
    ///     declared over the cap on to the router only up to the cap and ends it there
    ///     (``HotRouteHandler``), so such a body that ends without a file part is a 413 too, not an
    ///     incomplete form.
    ///   - fileNames: part names that mean a file even without `filename=` in their `Content-Disposition`.
    /// - Throws: ``APIError`` 400 for a body that is not a complete form, 413 for one over the cap.
    static func read<Body: AsyncSequence>(
        _ body: Body, boundary: String, maxBytes: Int, declaredLength: Int?, fileNames: Set<String> = []
    ) async throws -> MultipartFormBody where Body.Element == ByteBuffer {
        let reader = Reader(boundary: boundary, fileNames: fileNames)
        var received = 0
        for try await chunk in body {
            // Only the bytes within the cap are parsed: a file part that begins there is still a 400.
            let allowed = chunk.getSlice(at: chunk.readerIndex, length: min(chunk.readableBytes, max(0, maxBytes - received))) ?? ByteBuffer()
            received += chunk.readableBytes
            if let file = try reader.feed(allowed) {
                return MultipartFormBody(fields: reader.fields, filePart: file)
            }
            guard received <= maxBytes else { throw APIError.bodyTooLarge }
        }
        if let declaredLength, declaredLength > maxBytes { throw APIError.bodyTooLarge }
        return try reader.finish()
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

extension MultipartFormBody {
    /// Feeds multipart-kit's parser one chunk at a time and keeps the text fields it finds.
    ///
    /// A class because the parser's callbacks write into it; it lives within one request's read.
    final class Reader {
        private let parser: MultipartParser
        private let fileNames: Set<String>
        /// `--boundary--`: without it the body was cut short or uses another boundary.
        private let closing: [UInt8]
        /// The last bytes fed, so a closing delimiter split across two chunks is found.
        private var tail: [UInt8] = []
        private var closed = false
        private(set) var fields: [String: String] = [:]
        private var parts = 0
        /// The part being read: its `Content-Disposition` name, and its bytes.
        private var name: String?
        private var body = ByteBuffer()
        private var file: String?
        /// What the callbacks found wrong; thrown once the chunk is parsed.
        private var problem: APIError?

        init(boundary: String, fileNames: Set<String>) {
            parser = MultipartParser(boundary: boundary)
            self.fileNames = fileNames
            closing = Array("--\(boundary)--".utf8)
            parser.onHeader = { [unowned self] name, value in self.header(name, value) }
            parser.onBody = { [unowned self] chunk in if self.file == nil { self.body.writeBuffer(&chunk) } }
            parser.onPartComplete = { [unowned self] in self.partComplete() }
        }

        /// Parses `chunk`; the name of a file part once one has begun (read no further then).
        func feed(_ chunk: ByteBuffer) throws -> String? {
            noteClosing(in: chunk)
            do {
                try parser.execute(chunk)
            } catch {
                throw APIError.invalidRequest("the multipart body is malformed", code: "invalid_multipart")
            }
            if let file { return file }
            if let problem { throw problem }
            return nil
        }

        /// The form, once the whole body was fed without a file part.
        func finish() throws -> MultipartFormBody {
            guard closed else {
                throw APIError.invalidRequest(
                    "the multipart body is incomplete or does not use the boundary its Content-Type names", code: "invalid_multipart")
            }
            guard parts > 0 else { throw APIError.invalidRequest("the multipart body has no parts", code: "invalid_multipart") }
            return MultipartFormBody(fields: fields, filePart: nil)
        }

        private func noteClosing(in chunk: ByteBuffer) {
            guard !closed else { return }
            let bytes = chunk.readableBytesView
            let seam = tail + bytes.prefix(closing.count - 1)
            closed = seam.firstRange(of: closing) != nil || bytes.firstRange(of: closing) != nil
            tail = Array((tail + bytes.suffix(closing.count - 1)).suffix(closing.count - 1))
        }

        /// A part's header: its `Content-Disposition` says whether it is a file, before any of its bytes.
        private func header(_ headerName: String, _ value: String) {
            guard file == nil, problem == nil, headerName.lowercased() == "content-disposition" else { return }
            let partName = MultipartFormBody.parameter("name", of: value)
            if MultipartFormBody.parameter("filename", of: value) != nil || partName.map(fileNames.contains) == true {
                file = partName ?? "file"
            } else {
                name = partName
            }
        }

        private func partComplete() {
            defer {
                name = nil
                body = ByteBuffer()
            }
            guard file == nil, problem == nil else { return }
            parts += 1
            guard let name else {
                problem = .invalidRequest("every part of a multipart/form-data body needs a Content-Disposition with a name", code: "invalid_multipart")
                return
            }
            guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
                problem = .invalidValue(name, "'\(name)' must be UTF-8 text")
                return
            }
            if fields[name] == nil { fields[name] = text }
        }
    }
}
