import Crypto
import Foundation
import Synchronization

/// AWS Signature Version 4 for S3: `Authorization` headers and presigned URLs.
///
/// Follows the S3 flavour of the algorithm: the path is encoded once (not normalised, not
/// double-encoded), the payload hash is the body's SHA-256 or `UNSIGNED-PAYLOAD` and is sent as
/// `x-amz-content-sha256`. The day's signing key (four HMACs) is kept, so a presigned URL costs one
/// SHA-256 and one HMAC: `/files` redirects compute one per answer on the event loop.
public final class SigV4Signer: Sendable {
    /// The payload hash of a body that is not signed (presigned URLs, streamed bodies over TLS).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of no bytes, the payload hash of requests without a body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// Longest validity S3 accepts for a presigned URL: seven days.
    public static let maximumPresignSeconds = 604_800

    public let credentials: S3Credentials
    public let region: String
    public let service: String
    /// The signing key of the last day used: (day, key bytes).
    private let cachedKey = Mutex<(day: String, key: [UInt8])?>(nil)

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to `request` so S3 accepts it: `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with temporary credentials) and `authorization`.
    public func signedHeaders(for request: SigV4Request, payloadHash: String, date: Date) -> [(name: String, value: String)] {
        let amzDate = AmzDate(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
        var added: [(name: String, value: String)] = [("x-amz-date", amzDate.timestamp), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken?.value { added.append(("x-amz-security-token", token)) }
        let headers = Self.canonicalHeaders(request.headers + added + [("host", request.host)])
        let signature = self.signature(
            method: request.method, encodedPath: request.encodedPath, canonicalQuery: request.canonicalQuery, headers: headers,
            payloadHash: payloadHash, date: amzDate)
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(amzDate.day)), SignedHeaders=\(headers.names), Signature=\(signature)"
        return added + [("authorization", authorization)]
    }

    /// A URL anyone can `GET` (or send `request.method` to) until `expires` seconds after `date`,
    /// signed over the host only, with an unsigned payload. `scheme` is `http` or `https`.
    public func presignedURL(for request: SigV4Request, scheme: String, expires: Int, date: Date) -> String {
        let amzDate = AmzDate(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
        var signing = request
        signing.headers = []
        signing.query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(amzDate.day))"),
            ("X-Amz-Date", amzDate.timestamp),
            ("X-Amz-Expires", String(min(max(expires, 1), Self.maximumPresignSeconds))),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken?.value { signing.query.append(("X-Amz-Security-Token", token)) }
        let query = signing.canonicalQuery
        let encodedPath = signing.encodedPath
        let signature = self.signature(
            method: request.method, encodedPath: encodedPath, canonicalQuery: query, headers: Self.canonicalHeaders([("host", request.host)]),
            payloadHash: Self.unsignedPayload, date: amzDate)
        return "\(scheme)://\(request.host)\(encodedPath)?\(query)&X-Amz-Signature=\(signature)"
    }

    // MARK: The algorithm

    /// The canonical request, hashed into the string to sign, HMAC'd with the day's key.
    func signature(method: String, encodedPath: String, canonicalQuery: String, headers: CanonicalHeaders, payloadHash: String, date: AmzDate) -> String {
        let canonicalRequest = "\(method)\n\(encodedPath)\n\(canonicalQuery)\n\(headers.block)\n\(headers.names)\n\(payloadHash)"
        let stringToSign = "AWS4-HMAC-SHA256\n\(date.timestamp)\n\(scope(date.day))\n\(Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))))"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: date.day))
        return Self.hex(mac)
    }

    /// `<day>/<region>/<service>/aws4_request`.
    func scope(_ day: String) -> String {
        "\(day)/\(region)/\(service)/aws4_request"
    }

    /// HMAC chain of the secret over the day, region, service and `aws4_request`; kept per day.
    func signingKey(day: String) -> SymmetricKey {
        let cached: [UInt8]? = cachedKey.withLock { state in
            guard let state, state.day == day else { return nil }
            return state.key
        }
        if let cached { return SymmetricKey(data: cached) }
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey.value)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let bytes = key.withUnsafeBytes { Array($0) }
        cachedKey.withLock { $0 = (day, bytes) }
        return key
    }

    /// Signed headers as SigV4 lists them: lower-case names sorted, values trimmed with inner runs
    /// of spaces collapsed, repeated names joined with commas.
    struct CanonicalHeaders {
        /// `name:value\n` per header.
        var block: String
        /// `name;name;…`.
        var names: String
    }

    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> CanonicalHeaders {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            merged[name.lowercased(), default: []].append(value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " "))
        }
        let names = merged.keys.sorted()
        let block = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        return CanonicalHeaders(block: block, names: names.joined(separator: ";"))
    }

    /// Lower-case hex of a digest or MAC.
    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        for byte in bytes {
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
