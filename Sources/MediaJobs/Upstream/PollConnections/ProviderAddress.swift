import Foundation

/// Where the provider answers, read once from its base URL: what a connection to it needs.
struct ProviderAddress: Sendable, Equatable {
    /// `https`: the connection speaks TLS.
    var tls: Bool
    /// The host to connect to and to name in TLS's SNI: a name or an address, without brackets.
    var host: String
    var port: Int
    /// The base URL's path without its trailing slash (`""`, `/api`); request paths are appended.
    var pathPrefix: String
    /// The `Host` header: the host, bracketed if it is an IPv6 address, with the port unless it is
    /// the scheme's own.
    var hostHeader: String

    /// The name TLS sends as SNI and checks the certificate against: none for an address literal
    /// (the certificate is then checked against the address).
    var tlsServerName: String? {
        IPAddress(parsing: host) == nil ? host : nil
    }

    enum Invalid: Error, CustomStringConvertible {
        case notAURL(String)
        case scheme(String)
        var description: String {
            switch self {
            case .notAURL(let url): "the provider's base URL is not a URL: \(url)"
            case .scheme(let url): "the provider's base URL is neither http nor https: \(url)"
            }
        }
    }

    init(baseURL: String) throws(Invalid) {
        guard let components = URLComponents(string: baseURL), var host = components.host, !host.isEmpty else {
            throw .notAURL(baseURL)
        }
        switch components.scheme?.lowercased() {
        case "http": tls = false
        case "https": tls = true
        default: throw .scheme(baseURL)
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        let defaultPort = tls ? 443 : 80
        port = components.port ?? defaultPort
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        pathPrefix = path
        let named = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? named : "\(named):\(port)"
    }
}
