/// The access key pair (and session token) requests to object storage are signed with.
///
/// The secret and the token never print: `description` shows the access key id only, and the
/// values are read where a signature is computed.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: Redacted
    /// Temporary credentials (STS) come with a token that travels with every request.
    public var sessionToken: Redacted?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = Redacted(secretAccessKey)
        self.sessionToken = sessionToken.map(Redacted.init)
    }

    /// The standard `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` variables;
    /// nil when the key id or the secret is missing.
    public static func fromEnvironment(_ environment: [String: String]) -> S3Credentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    public var description: String { "access key \(accessKeyID)" }
}
