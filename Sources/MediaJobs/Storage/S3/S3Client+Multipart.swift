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
    /// The file's SHA-256 must be `sha256` (the bytes that were downloaded and checked), and every
    /// request is signed with the hash of the bytes it carries, so S3 refuses bytes that differ
    /// from what was read. A small file is hashed once before its `PUT`. A large one is hashed
    /// whole beside its parts (each part hashes its own range just before it is sent), and the
    /// upload is completed only if the whole matches: the check costs no time of its own. Memory
    /// stays at a few buffers whatever the size. A multipart upload that fails, or whose file
    /// turns out not to match, is aborted, so nothing is left behind to be billed.
    public func uploadFile(_ file: URL, key: String, bytes: Int64, sha256: String, contentType: String) async throws(S3Error) {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .file("cannot open \(file.lastPathComponent): errno \(errno)") }
        defer { close(descriptor) }
        let partSize = settings.partSize(for: bytes)
        if bytes <= partSize {
            let actual = try await Self.sha256(descriptor: descriptor, offset: 0, length: bytes)
            guard actual == sha256 else { throw .checksumMismatch(expected: sha256, actual: actual) }
            try await putObject(key: key, descriptor: descriptor, bytes: bytes, sha256: sha256, contentType: contentType)
        } else {
            try await multipartUpload(key: key, descriptor: descriptor, bytes: bytes, partSize: partSize, sha256: sha256, contentType: contentType)
        }
    }

    /// The SHA-256 (hex) of `length` bytes of the file from `offset`, read in ``FileChunks`` buffers.
    static func sha256(descriptor: Int32, offset: Int64, length: Int64) async throws(S3Error) -> String {
        var hash = SHA256()
        do {
            for try await chunk in FileChunks(descriptor: descriptor, offset: offset, length: length) {
                chunk.withUnsafeReadableBytes { hash.update(bufferPointer: $0) }
            }
        } catch let error as S3Error {
            throw error
        } catch {
            throw .file("read failed: \(error)")
        }
        return SigV4Signer.hex(hash.finalize())
    }

    /// Create, parts (a few at once) beside the whole file's hash, complete if the hash is
    /// `sha256`; abort on any failure.
    func multipartUpload(key: String, descriptor: Int32, bytes: Int64, partSize: Int64, sha256: String, contentType: String) async throws(S3Error) {
        let created = try await send(
            Call(operation: "CreateMultipartUpload", method: .POST, key: key, query: [("uploads", "")], headers: [("content-type", contentType)]))
        let createdXML = try await xmlBody(created, operation: "CreateMultipartUpload")
        guard let uploadID = S3XML.value("UploadId", in: createdXML) else {
            throw .invalidResponse(operation: "CreateMultipartUpload", reason: "no UploadId")
        }
        let whole = Task { try await Self.sha256(descriptor: descriptor, offset: 0, length: bytes) }
        do throws(S3Error) {
            let eTags = try await uploadParts(key: key, uploadID: uploadID, descriptor: descriptor, bytes: bytes, partSize: partSize)
            let actual = try await Self.value(of: whole)
            guard actual == sha256 else { throw .checksumMismatch(expected: sha256, actual: actual) }
            try await completeMultipartUpload(key: key, uploadID: uploadID, eTags: eTags)
        } catch {
            whole.cancel()
            // The descriptor is closed when this returns: the hash must not read past it.
            _ = try? await whole.value
            await abortMultipartUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    /// A hash computed in its own task, with its error as the client's.
    private static func value(of hash: Task<String, any Error>) async throws(S3Error) -> String {
        do {
            return try await hash.value
        } catch let error as S3Error {
            throw error
        } catch {
            throw .file("read failed: \(error)")
        }
    }

    /// Uploads every part, at most ``S3ClientSettings/partConcurrency`` at once, each signed with
    /// the hash of its range; their ETags in part order.
    func uploadParts(key: String, uploadID: String, descriptor: Int32, bytes: Int64, partSize: Int64) async throws(S3Error) -> [String] {
        let client = self
        let partCount = Int((bytes + partSize - 1) / partSize)
        do {
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var eTags = [String](repeating: "", count: partCount)
                var next = 0
                func addPart() {
                    let index = next
                    next += 1
                    let offset = Int64(index) * partSize
                    let length = min(partSize, bytes - offset)
                    group.addTask {
                        let hash = try await S3Client.sha256(descriptor: descriptor, offset: offset, length: length)
                        let eTag = try await client.uploadPart(
                            key: key, uploadID: uploadID, number: index + 1, descriptor: descriptor, offset: offset, length: length, sha256: hash)
                        return (index, eTag)
                    }
                }
                while next < min(max(settings.partConcurrency, 1), partCount) { addPart() }
                while let (index, eTag) = try await group.next() {
                    eTags[index] = eTag
                    if next < partCount { addPart() }
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
