import Crypto
import Foundation

/// The client API keys the server accepts, kept only as SHA-256 digests.
///
/// A key's digest is also the `owner` stored with its tasks, so the database never holds a key
/// in clear and a key sees only the tasks it created.
public struct APIKeyRing: Sendable {
    private let owners: Set<String>

    public init(keys: [String]) {
        owners = Set(keys.map(Self.owner(of:)))
    }

    /// No keys configured: the API is open (loopback only, unless the operator insists).
    public var isOpen: Bool { owners.isEmpty }

    /// The owner id of a presented key, if the key is one of ours.
    public func owner(presenting key: String) -> String? {
        let owner = Self.owner(of: key)
        // Set lookup on a digest: timing depends on the digest, never on how much of the key matched.
        return owners.contains(owner) ? owner : nil
    }

    /// Hex SHA-256 of a key.
    public static func owner(of key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads keys from `--api-keys-file`: one per line; blank lines and `#` comments ignored.
    public static func keys(fromFile path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// `Authorization: Bearer <token>` parsing shared by client and admin authentication.
public enum BearerToken {
    public static func parse(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
