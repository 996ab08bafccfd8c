import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// What `HEAD` says of an object.
public struct S3ObjectHead: Sendable, Equatable {
    public var bytes: Int64
    public var eTag: String?
    public var contentType: String?
}

/// One object of a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    public var key: String
    public var bytes: Int64
    /// As S3 writes it (ISO 8601), nil when absent.
    public var lastModified: String?
}

/// One page of `ListObjectsV2`.
public struct S3ListPage: Sendable, Equatable {
    public var objects: [S3ObjectSummary]
    /// Where the next page starts; nil on the last page.
    public var continuationToken: String?
}

extension S3Client {
    /// Whether the bucket exists and these credentials reach it (`HEAD` bucket); `retrying: false`
    /// answers at once (readiness checks must not wait out a backoff).
    public func headBucket(retrying: Bool = true) async throws(S3Error) {
        _ = try await send(Call(operation: "HeadBucket", method: .HEAD, attempts: retrying ? nil : 1))
    }

    /// The object's size, ETag and type; nil when there is none.
    public func headObject(key: String) async throws(S3Error) -> S3ObjectHead? {
        let response = try await send(Call(operation: "HeadObject", method: .HEAD, key: key, accepted: [404]))
        guard response.status != .notFound else { return nil }
        return S3ObjectHead(
            bytes: response.headers.first(name: "content-length").flatMap { Int64($0) } ?? 0, eTag: response.headers.first(name: "etag"),
            contentType: response.headers.first(name: "content-type"))
    }

    /// The object's bytes, or `range` of them (`bytes=0-9`); the answer (200, 206, or 304/412/416
    /// for conditional and range requests S3 turned down) with its body still to be read.
    public func getObject(key: String, range: String? = nil, ifMatch: String? = nil) async throws(S3Error) -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("range", range)) }
        if let ifMatch { headers.append(("if-match", ifMatch)) }
        return try await send(Call(operation: "GetObject", method: .GET, key: key, headers: headers, accepted: [304, 412, 416]))
    }

    /// Uploads `bytes` bytes of the open file `descriptor` (from its start) in one `PUT`, signed
    /// with the bytes' SHA-256 (S3 refuses a body that does not match it).
    func putObject(key: String, descriptor: Int32, bytes: Int64, sha256: String, contentType: String) async throws(S3Error) {
        _ = try await send(
            Call(
                operation: "PutObject", method: .PUT, key: key, headers: [("content-type", contentType)], payloadHash: sha256,
                body: { .stream(FileChunks(descriptor: descriptor, offset: 0, length: bytes), length: .known(bytes)) }, bodyBytes: bytes))
    }

    /// Deletes `keys` with `DeleteObjects`, `batchSize` (at most 1,000) per call; absent keys count
    /// as deleted. Throws the first key's failure once every batch was tried.
    public func deleteObjects(_ keys: [String], batchSize: Int = deleteBatchSize) async throws(S3Error) {
        let failures = await deleteObjectsReportingFailures(keys, batchSize: batchSize)
        if let first = keys.lazy.compactMap({ failures[$0] }).first { throw first }
    }

    /// ``deleteObjects(_:batchSize:)`` that reports instead of throwing: the keys that could not be
    /// deleted, with why (a batch whose call failed counts for each of its keys).
    public func deleteObjectsReportingFailures(_ keys: [String], batchSize: Int = deleteBatchSize) async -> [String: S3Error] {
        let batchSize = min(max(batchSize, 1), Self.deleteBatchSize)
        var failures: [String: S3Error] = [:]
        var start = 0
        while start < keys.count {
            let batch = Array(keys[start..<min(start + batchSize, keys.count)])
            start += batch.count
            do throws(S3Error) {
                for (key, error) in try await deleteBatch(batch) { failures[key] = error }
            } catch {
                for key in batch { failures[key] = error }
            }
        }
        return failures
    }

    /// One `DeleteObjects` call in quiet mode: S3 then lists only the keys it failed on.
    private func deleteBatch(_ batch: [String]) async throws(S3Error) -> [(String, S3Error)] {
        let objects = batch.map { "<Object><Key>\(S3XML.escape($0))</Key></Object>" }.joined()
        let body = Data("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\(objects)</Delete>".utf8)
        // S3 insists on a Content-MD5 (or a checksum) for this call.
        let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
        let response = try await send(
            Call(
                operation: "DeleteObjects", method: .POST, query: [("delete", "")],
                headers: [("content-md5", md5), ("content-type", "application/xml")], payloadHash: SigV4Signer.hex(SHA256.hash(data: body)),
                body: { .bytes(ByteBuffer(bytes: body)) }, bodyBytes: Int64(body.count)))
        let xml = try await xmlBody(response, operation: "DeleteObjects")
        return S3XML.blocks("Error", in: xml).map { failure in
            let key = S3XML.value("Key", in: failure) ?? "?"
            return (
                key,
                .service(
                    operation: "DeleteObjects", target: "\(endpoint.bucket)/\(key)", status: 200, code: S3XML.value("Code", in: failure) ?? "Error",
                    message: S3XML.value("Message", in: failure) ?? "")
            )
        }
    }

    /// S3's limit of keys per `DeleteObjects` call.
    public static let deleteBatchSize = 1000

    /// One page of the objects whose keys start with `prefix` (`ListObjectsV2`), in key order.
    public func listObjectsPage(prefix: String, continuationToken: String? = nil, maxKeys: Int = 1000) async throws(S3Error) -> S3ListPage {
        // Keys come URL-encoded: a key may hold characters XML 1.0 cannot carry.
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix), ("encoding-type", "url"), ("max-keys", String(maxKeys))]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try await send(Call(operation: "ListObjectsV2", method: .GET, query: query))
        let xml = try await xmlBody(response, operation: "ListObjectsV2")
        var objects: [S3ObjectSummary] = []
        for entry in S3XML.blocks("Contents", in: xml) {
            guard let encoded = S3XML.value("Key", in: entry), let key = AWSPercentEncoding.decode(encoded) else {
                throw .invalidResponse(operation: "ListObjectsV2", reason: "an entry without a readable key")
            }
            objects.append(S3ObjectSummary(key: key, bytes: S3XML.value("Size", in: entry).flatMap { Int64($0) } ?? 0, lastModified: S3XML.value("LastModified", in: entry)))
        }
        let truncated = S3XML.value("IsTruncated", in: xml) == "true"
        let next = truncated ? S3XML.value("NextContinuationToken", in: xml) : nil
        if truncated, next == nil { throw .invalidResponse(operation: "ListObjectsV2", reason: "a truncated page without a continuation token") }
        return S3ListPage(objects: objects, continuationToken: next)
    }

    /// Every object whose key starts with `prefix`, page after page.
    public func listObjects(prefix: String, pageSize: Int = 1000) async throws(S3Error) -> [S3ObjectSummary] {
        var objects: [S3ObjectSummary] = []
        var token: String?
        repeat {
            let page = try await listObjectsPage(prefix: prefix, continuationToken: token, maxKeys: pageSize)
            objects += page.objects
            token = page.continuationToken
        } while token != nil
        return objects
    }
}
