import Foundation

/// Where a bucket is reached and how its object URLs look.
///
/// With an explicit endpoint (MinIO, moto, any S3-compatible server) the bucket goes in the path
/// (`http://127.0.0.1:9000/<bucket>/<key>`), which needs no DNS per bucket; on AWS the bucket is
/// the host (`https://<bucket>.s3.<region>.amazonaws.com/<key>`).
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    public var region: String
    /// `http` or `https`.
    public var scheme: String
    /// The `Host` header's value, with `:port` when it is not the scheme's default.
    public var host: String
    /// Whether the bucket is the first path segment instead of part of the host.
    public var pathStyle: Bool

    /// `endpoint` is an `http(s)://host[:port]` URL, or nil for AWS itself.
    public init(bucket: String, region: String, endpoint: String?) throws(S3Error) {
        self.bucket = bucket
        self.region = region
        guard let endpoint else {
            scheme = "https"
            host = "\(bucket).s3.\(region).amazonaws.com"
            pathStyle = false
            return
        }
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let name = url.host, !name.isEmpty,
            url.path.isEmpty || url.path == "/", url.query == nil
        else {
            throw .configuration("the S3 endpoint must be http(s)://host[:port], got '\(endpoint)'")
        }
        self.scheme = scheme
        let bracketed = name.contains(":") && !name.hasPrefix("[") ? "[\(name)]" : name
        let defaultPort = scheme == "https" ? 443 : 80
        host = url.port.map { $0 == defaultPort ? bracketed : "\(bracketed):\($0)" } ?? bracketed
        pathStyle = true
    }

    /// The unencoded request path of an object (`key` empty: the bucket itself).
    public func path(key: String) -> String {
        pathStyle ? (key.isEmpty ? "/\(bucket)" : "/\(bucket)/\(key)") : "/\(key)"
    }

    /// Endpoint and bucket, as errors and logs name them.
    public var description: String { "\(scheme)://\(host) bucket \(bucket)" }
}
