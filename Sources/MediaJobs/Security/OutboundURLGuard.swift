import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Decides whether MediaJobs may fetch a URL it was handed (artifact URLs, webhook endpoints).
///
/// Only `http`/`https`; the host's addresses must all be publicly routable unless the operator
/// allows private networks or CIDRs. The configured upstream's own host is trusted: a provider
/// (or the built-in simulator) on a private address serves its files from there.
public struct OutboundURLGuard: Sendable {
    public var policy: AddressPolicy
    /// Lower-cased host names (or literal addresses) always allowed.
    public var trustedHosts: Set<String>

    public init(policy: AddressPolicy = AddressPolicy(), trustedHosts: Set<String> = []) {
        self.policy = policy
        self.trustedHosts = Set(trustedHosts.map { $0.lowercased() })
    }

    /// Why a URL may not be fetched.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case malformed(String)
        case unsupportedScheme(String)
        case unresolvable(String)
        case forbiddenAddress(host: String, address: String, addressClass: AddressClass)

        public var description: String {
            switch self {
            case .malformed: "the URL is not a valid absolute URL"
            case .unsupportedScheme(let scheme): "only http and https URLs are allowed, not '\(scheme)'"
            case .unresolvable(let host): "the host '\(host)' does not resolve"
            case .forbiddenAddress(let host, _, let addressClass):
                "the host '\(host)' resolves to a \(addressClass.rawValue) address, which is not allowed"
            }
        }
    }

    /// Checks scheme and host syntax only (no DNS): for validating input at submit time.
    public func checkSyntax(_ text: String) throws(Refusal) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { throw .malformed(text) }
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(scheme) }
        guard let host = url.host, !host.isEmpty else { throw .malformed(text) }
        return url
    }

    /// Checks the URL and every address its host resolves to; returns the addresses that were checked.
    @discardableResult
    public func check(_ text: String) async throws(Refusal) -> [IPAddress] {
        let url = try checkSyntax(text)
        let host = (url.host ?? "").lowercased()
        let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses: [IPAddress]
        if let literal = IPAddress(parsing: bareHost) {
            addresses = [literal]
        } else {
            addresses = Self.resolve(bareHost)
            guard !addresses.isEmpty else { throw .unresolvable(bareHost) }
        }
        if trustedHosts.contains(bareHost) { return addresses }
        for address in addresses where !policy.permits(address) {
            throw .forbiddenAddress(host: bareHost, address: address.description, addressClass: address.addressClass)
        }
        return addresses
    }

    /// A request target that connects to an address that was checked, so a second DNS answer
    /// (rebinding) cannot send the connection elsewhere.
    ///
    /// For `http` the URL's host is replaced by the checked address and the original host goes in
    /// the `Host` header. `https` keeps the name, which TLS needs for SNI and certificate checks;
    /// a rebinding attacker would also need a valid certificate for the name.
    public struct PinnedTarget: Sendable, Equatable {
        public var url: String
        public var hostHeader: String?
    }

    /// Checks `text` and returns where to connect.
    public func pinnedTarget(_ text: String) async throws(Refusal) -> PinnedTarget {
        let addresses = try await check(text)
        guard let url = URL(string: text), url.scheme?.lowercased() == "http", let host = url.host,
            IPAddress(parsing: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) == nil,
            // IPv4 first: services bound to 127.0.0.1 are far more common than ones on [::1].
            let address = addresses.first(where: \.isIPv4) ?? addresses.first, var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        else { return PinnedTarget(url: text, hostHeader: nil) }
        components.host = address.isIPv4 ? address.description : "[\(address.description)]"
        guard let pinned = components.string else { return PinnedTarget(url: text, hostHeader: nil) }
        return PinnedTarget(url: pinned, hostHeader: url.port.map { "\(host):\($0)" } ?? host)
    }

    /// The host's addresses via the system resolver (numeric results only).
    static func resolve(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0,
                let address = IPAddress(parsing: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            {
                addresses.append(address)
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
