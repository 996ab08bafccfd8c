import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

extension S3Client {
    /// Uploads a local file as `key`: one `PUT` up to the part size, a multipart upload above it.
    ///
    /// The file is read once first to hash it: its SHA-256 must be `sha256` (the bytes that were
    /// downloaded and checked), and each part is then signed with its own hash, so S3 refuses bytes
    /// that differ from what was read. Memory stays at a few buffers whatever the size. A multipart
    /// upload that fails is aborted, so no parts are left behind to be billed.
    public func uploadFile(_ file: URL, key: String, bytes: Int64, sha256: String, contentType: String) async throws(S3Error) {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .file("cannot open \(file.lastPathComponent): errno \(errno)") }
        defer { close(descriptor) }
        let partSize = settings.partSize(for: bytes)
        let hashes = try await Self.hashParts(descriptor: descriptor, bytes: bytes, partSize: partSize)
        guard hashes.whole == sha256 else { throw .checksumMismatch(expected: sha256, actual: hashes.whole) }
        if hashes.parts.count <= 1 {
            try await putObject(key: key, descriptor: descriptor, bytes: bytes, sha256: sha256, contentType: contentType)
        } else {
            try await multipartUpload(key: key, descriptor: descriptor, bytes: bytes, partSize: partSize, partHashes: hashes.parts, contentType: contentType)
        }
    }

    /// The SHA-256 of the whole file and of each part, read in ``FileChunks`` buffers.
    static func hashParts(descriptor: Int32, bytes: Int64, partSize: Int64) async throws(S3Error) -> (whole: String, parts: [String]) {
        var whole = SHA256()
        var parts: [String] = []
        var offset: Int64 = 0
        do {
            repeat {
                let length = min(partSize, bytes - offset)
                var part = SHA256()
                for try await chunk in FileChunks(descriptor: descriptor, offset: offset, length: length) {
                    chunk.withUnsafeReadableBytes { raw in
                        whole.update(bufferPointer: raw)
                        part.update(bufferPointer: raw)
                    }
                }
                parts.append(SigV4Signer.hex(part.finalize()))
                offset += length
            } while offset < bytes
        } catch let error as S3Error {
            throw error
        } catch {
            throw .file("read failed: \(error)")
        }
        return (SigV4Signer.hex(whole.finalize()), parts)
    }

    /// Create, parts (a few at once), complete; abort on any failure.
    func multipartUpload(key: String, descriptor: Int32, bytes: Int64, partSize: Int64, partHashes: [String], contentType: String) async throws(S3Error) {
        let created = try await send(
            Call(operation: "CreateMultipartUpload", method: .POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType)]))
        let createdXML = try await xmlBody(created, operation: "CreateMultipartUpload")
        guard let uploadID = S3XML.value("UploadId", in: createdXML) else {
            throw .invalidResponse(operation: "CreateMultipartUpload", reason: "no UploadId")
        }
        do throws(S3Error) {
            let eTags = try await uploadParts(key: key, uploadID: uploadID, descriptor: descriptor, bytes: bytes, partSize: partSize, partHashes: partHashes)
            try await completeMultipartUpload(key: key, uploadID: uploadID, eTags: eTags)
        } catch {
            await abortMultipartUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// Uploads every part, at most ``S3ClientSettings/partConcurrency`` at once; their ETags in part order.
    func uploadParts(key: String, uploadID: String, descriptor: Int32, bytes: Int64, partSize: Int64, partHashes: [String]) async throws(S3Error) -> [String] {
        let client = self
        do {
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var eTags = [String](repeating: "", count: partHashes.count)
                var next = 0
                func addPart() {
                    let index = next
                    next += 1
                    let offset = Int64(index) * partSize
                    let length = min(partSize, bytes - offset)
                    group.addTask {
                        let eTag = try await client.uploadPart(
                            key: key, uploadID: uploadID, number: index + 1, descriptor: descriptor, offset: offset, length: length, sha256: partHashes[index])
                        return (index, eTag)
                    }
                }
                while next < min(max(settings.partConcurrency, 1), partHashes.count) { addPart() }
                while let (index, eTag) = try await group.next() {
                    eTags[index] = eTag
                    if next < partHashes.count { addPart() }
                }
                return eTags
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw .transport(operation: "UploadPart", target: "\(endpoint.bucket)/\(key)", reason: "\(error)")
        }
    }

    /// One part; its ETag.
    func uploadPart(key: String, uploadID: String, number: Int, descriptor: Int32, offset: Int64, length: Int64, sha256: String) async throws(S3Error) -> String {
        let response = try await send(
            Call(
                operation: "UploadPart", method: .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)], payloadHash: sha256,
                body: { .stream(FileChunks(descriptor: descriptor, offset: offset, length: length), length: .known(length)) }, bodyBytes: length))
        guard let eTag = response.headers.first(name: "etag") else { throw .invalidResponse(operation: "UploadPart", reason: "no ETag for part \(number)") }
        return eTag
    }

    /// Joins the parts. S3 may answer 200 and still fail (an `<Error>` body), so the body is read.
    func completeMultipartUpload(key: String, uploadID: String, eTags: [String]) async throws(S3Error) {
        let parts = eTags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }.joined()
        let body = Data("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(parts)</CompleteMultipartUpload>".utf8)
        let response = try await send(
            Call(
                operation: "CompleteMultipartUpload", method: .POST, key: key, query: [("uploadId", uploadID)], headers: [("content-type", "application/xml")],
                payloadHash: SigV4Signer.hex(SHA256.hash(data: body)), body: { .bytes(ByteBuffer(bytes: body)) }, bodyBytes: Int64(body.count)))
        let xml = try await xmlBody(response, operation: "CompleteMultipartUpload")
        if S3XML.blocks("Error", in: xml).first != nil {
            throw .service(
                operation: "CompleteMultipartUpload", target: "\(endpoint.bucket)/\(key)", status: 200, code: S3XML.value("Code", in: xml) ?? "Error",
                message: S3XML.value("Message", in: xml) ?? "")
        }
    }

    /// Best effort: an abort that fails is logged (a bucket lifecycle rule or the sweep cleans up).
    func abortMultipartUpload(key: String, uploadID: String) async {
        do throws(S3Error) {
            _ = try await send(Call(operation: "AbortMultipartUpload", method: .DELETE, key: key, query: [("uploadId", uploadID)], accepted: [404]))
        } catch {
            logger.error("S3 multipart upload not aborted", metadata: ["s3.target": "\(endpoint.bucket)/\(key)", "error": "\(error)"])
        }
    }
}
