import Crypto
import Foundation

/// A Standard Webhooks signing secret: `whsec_` + base64 of the raw key bytes.
public struct WebhookSecret: Sendable, Equatable, CustomStringConvertible {
    public static let prefix = "whsec_"
    /// The raw HMAC key.
    public let key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    /// Parses `whsec_<base64>` (the prefix is optional, as in the reference libraries).
    public init?(parsing text: String) {
        let encoded = text.hasPrefix(Self.prefix) ? String(text.dropFirst(Self.prefix.count)) : text
        guard let data = Data(base64Encoded: encoded), data.count >= 16 else { return nil }
        key = Array(data)
    }

    /// A fresh random 32-byte secret.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        return WebhookSecret(key: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The `whsec_…` text consumers configure.
    public var encoded: String { Self.prefix + Data(key).base64EncodedString() }

    /// Never print the secret by accident (logs, errors); use ``encoded`` deliberately.
    public var description: String { "whsec_…(redacted)" }

    /// Loads the secret stored at `file`, or creates one there (mode 0600).
    /// Returns the secret and whether it was created just now.
    public static func loadOrCreate(at file: URL) throws -> (secret: WebhookSecret, created: Bool) {
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            guard let secret = WebhookSecret(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw StartupError.configuration("\(file.path) does not hold a whsec_ secret")
            }
            return (secret, false)
        }
        let secret = generate()
        let temporary = file.appendingPathExtension("tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data((secret.encoded + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StartupError.configuration("cannot write \(temporary.path)")
        }
        guard rename(temporary.path, file.path) == 0 else { throw StartupError.configuration("cannot create \(file.path): errno \(errno)") }
        return (secret, true)
    }
}

/// Signs webhook requests the Standard Webhooks way.
public struct WebhookSigner: Sendable {
    /// The current secret first, then older ones still accepted during a rotation.
    public let secrets: [WebhookSecret]

    public init(secrets: [WebhookSecret]) {
        self.secrets = secrets
    }

    /// `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>` for every secret, space-separated.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        return secrets.map { secret in
            let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret.key))
            return "v1," + Data(mac).base64EncodedString()
        }.joined(separator: " ")
    }
}
