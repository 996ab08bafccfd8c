import Foundation

/// `--storage-url s3://bucket[/prefix]` and its companions: where artifacts go when they live in
/// object storage, and how `/files` hands them out.
public struct S3StorageSettings: Sendable, Equatable {
    /// How `/files` gives out an object's bytes.
    public enum ServeMode: String, Sendable, Equatable, CaseIterable {
        /// A 307 to a presigned `GET` (the client fetches from the store itself).
        case redirect
        /// The bytes streamed through this server.
        case proxy
    }

    public var bucket: String
    /// Key prefix without leading or trailing `/`; empty puts task folders at the bucket's root.
    public var prefix: String
    /// `http(s)://host[:port]` of an S3-compatible server; nil for AWS.
    public var endpoint: String?
    public var region = "us-east-1"
    public var serveMode = ServeMode.redirect
    /// How long a presigned URL stays valid.
    public var presignTTL: Duration = .seconds(15 * 60)
    /// Read from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; nil when unset.
    public var credentials: S3Credentials?
    public var client = S3ClientSettings()

    /// Parses `s3://bucket[/prefix]`; nil when it is not one.
    public init?(url: String) {
        guard url.hasPrefix("s3://") else { return nil }
        let rest = url.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let bucket = String(parts[0])
        guard Self.isValidBucketName(bucket) else { return nil }
        let prefix = parts.count > 1 ? parts[1].split(separator: "/").joined(separator: "/") : ""
        guard !prefix.contains("\0") else { return nil }
        self.bucket = bucket
        self.prefix = prefix
    }

    /// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, `.` and `-`, starting
    /// and ending with a letter or digit.
    static func isValidBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last,
            first.isLetter || first.isNumber, last.isLetter || last.isNumber
        else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "." || $0 == "-" }
    }

    /// The `Cache-Control: max-age` of a `/files` redirect: shorter than the URL's validity, so a
    /// cached redirect never leads to an expired URL (a tenth of it, at least 30 s, is kept back).
    public var redirectMaxAge: Int {
        let ttl = Int(presignTTL.components.seconds)
        return max(0, ttl - max(ttl / 10, 30))
    }

    /// `s3://bucket/prefix`, for logs.
    public var storageURL: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}
