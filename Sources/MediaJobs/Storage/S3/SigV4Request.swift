/// What SigV4 signs of one request: method, host, path, query and the headers chosen for signing,
/// all unencoded (the signer encodes them as S3 expects).
public struct SigV4Request: Sendable, Equatable {
    public var method: String
    /// The `Host` header's value: the name, with `:port` when it is not the scheme's default.
    public var host: String
    /// The path as it is meant, unencoded, starting with `/` (`/bucket/my key.mp3`).
    public var path: String
    /// Query parameters, unencoded, in any order; an empty value is a bare `name=`.
    public var query: [(name: String, value: String)]
    /// Headers to sign besides `host` and the `x-amz-*` ones the signer adds (e.g. `range`,
    /// `content-type`); names in any case.
    public var headers: [(name: String, value: String)]

    public init(method: String, host: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = []) {
        self.method = method
        self.host = host
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// The query string as sent (and as signed): encoded, sorted by name then value.
    public var canonicalQuery: String {
        query.map { (AWSPercentEncoding.query($0.name), AWSPercentEncoding.query($0.value)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The path as sent (and as signed): every byte but unreserved ones and `/` percent-encoded.
    public var encodedPath: String { AWSPercentEncoding.path(path) }

    public static func == (lhs: SigV4Request, rhs: SigV4Request) -> Bool {
        lhs.method == rhs.method && lhs.host == rhs.host && lhs.path == rhs.path
            && lhs.query.elementsEqual(rhs.query, by: ==) && lhs.headers.elementsEqual(rhs.headers, by: ==)
    }
}
