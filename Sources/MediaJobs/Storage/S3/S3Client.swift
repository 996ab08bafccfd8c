import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A small S3 client on AsyncHTTPClient: the calls an artifact store needs, signed with
/// ``SigV4Signer``, each attempt under a deadline, retried with backoff on throttling, server
/// errors and lost connections, S3's XML errors turned into ``S3Error``s that read well in a log.
///
/// The operations are in `S3Client+Objects.swift` and `S3Client+Multipart.swift`.
public struct S3Client: Sendable {
    public let endpoint: S3Endpoint
    public let signer: SigV4Signer
    public let settings: S3ClientSettings
    let http: HTTPClient
    let logger: Logger

    /// `http` is shared with the rest of the service (its owner shuts it down) and must not follow redirects.
    public init(endpoint: S3Endpoint, credentials: S3Credentials, http: HTTPClient, settings: S3ClientSettings = .init(), logger: Logger) {
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: endpoint.region)
        self.http = http
        self.settings = settings
        self.logger = logger
    }

    /// A URL that fetches the object with a plain `GET` for `seconds` after `date`; no I/O.
    public func presignedGetURL(key: String, expires seconds: Int, date: Date = Date()) -> String {
        let request = SigV4Request(method: "GET", host: endpoint.host, path: endpoint.path(key: key))
        return signer.presignedURL(for: request, scheme: endpoint.scheme, expires: seconds, date: date)
    }

    // MARK: Sending

    /// One S3 call: what is signed and sent, and which non-2xx statuses the caller handles itself.
    struct Call: Sendable {
        var operation: String
        var method: HTTPMethod
        /// The object key; empty for calls on the bucket.
        var key: String = ""
        var query: [(name: String, value: String)] = []
        /// Headers sent and signed.
        var headers: [(name: String, value: String)] = []
        var payloadHash = SigV4Signer.emptyPayloadHash
        /// Makes a fresh body for each attempt.
        var body: (@Sendable () -> HTTPClientRequest.Body)?
        var bodyBytes: Int64 = 0
        /// Statuses answered to the caller instead of thrown (e.g. 404 of a `HEAD`).
        var accepted: Set<Int> = []
        /// Tries instead of ``S3ClientSettings/maxAttempts``.
        var attempts: Int?

        /// `bucket/key` (or the bucket), as errors name it.
        func target(_ endpoint: S3Endpoint) -> String {
            key.isEmpty ? endpoint.bucket : "\(endpoint.bucket)/\(key)"
        }
    }

    /// Sends `call`, retrying what may succeed on another try; the answer's status is 2xx or in `call.accepted`.
    func send(_ call: Call) async throws(S3Error) -> HTTPClientResponse {
        var attempt = 0
        while true {
            attempt += 1
            do throws(S3Error) {
                return try await sendOnce(call)
            } catch {
                guard error.isRetryable, attempt < (call.attempts ?? settings.maxAttempts), !Task.isCancelled else { throw error }
                let delay = settings.backoff.delay(attempt: attempt)
                logger.warning(
                    "S3 call failed; trying again",
                    metadata: ["s3.operation": "\(call.operation)", "s3.target": "\(call.target(endpoint))", "error": "\(error)", "retry.in": "\(delay)"])
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw S3Error.timedOut(operation: call.operation, target: call.target(endpoint))
                }
            }
        }
    }

    /// One attempt of `call`, signed now.
    func sendOnce(_ call: Call) async throws(S3Error) -> HTTPClientResponse {
        let signing = SigV4Request(method: call.method.rawValue, host: endpoint.host, path: endpoint.path(key: call.key), query: call.query, headers: call.headers)
        let query = signing.canonicalQuery
        var request = HTTPClientRequest(url: "\(endpoint.scheme)://\(endpoint.host)\(signing.encodedPath)\(query.isEmpty ? "" : "?\(query)")")
        request.method = call.method
        // The signed host, sent as signed (the client would otherwise derive its own).
        request.headers.add(name: "host", value: endpoint.host)
        for (name, value) in call.headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.signedHeaders(for: signing, payloadHash: call.payloadHash, date: Date()) {
            request.headers.add(name: name, value: value)
        }
        if let body = call.body { request.body = body() }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .init(settings.timeout(sending: call.bodyBytes)), logger: logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timedOut(operation: call.operation, target: call.target(endpoint))
        } catch let error as S3Error {
            // A body stream's own failure (the file could not be read).
            throw error
        } catch {
            throw .transport(operation: call.operation, target: call.target(endpoint), reason: "\(error)")
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || call.accepted.contains(status) { return response }
        throw await serviceError(call, response: response)
    }

    /// The error an answer's XML body describes (`Code`, `Message`), or its status when it has none (`HEAD`).
    func serviceError(_ call: Call, response: HTTPClientResponse) async -> S3Error {
        let body = try? await response.body.collect(upTo: 64 * 1024)
        let xml = body.map { String(buffer: $0) } ?? ""
        let code = S3XML.value("Code", in: xml) ?? response.status.reasonPhrase.replacingOccurrences(of: " ", with: "")
        return .service(
            operation: call.operation, target: call.target(endpoint), status: Int(response.status.code), code: code,
            message: S3XML.value("Message", in: xml) ?? "")
    }

    /// The whole body of a small XML answer.
    func xmlBody(_ response: HTTPClientResponse, operation: String) async throws(S3Error) -> String {
        do {
            return String(buffer: try await response.body.collect(upTo: 16 << 20))
        } catch {
            throw .invalidResponse(operation: operation, reason: "body not read: \(error)")
        }
    }
}
