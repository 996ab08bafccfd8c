import Foundation
import Logging

/// Where the webhook signing secrets come from.
enum WebhookSigning {
    /// The configured secrets, or, when none is configured, one generated once and kept in the data
    /// directory (single node: every instance of a shared database must be given the secret instead).
    static func signer(configuration: ServiceConfiguration, dataDirectory: URL, logger: Logger) throws -> WebhookSigner {
        var secrets = try configuration.webhookSecrets()
        if configuration.webhookSecret == nil {
            let file = dataDirectory.appendingPathComponent("webhook-secret")
            let (secret, created) = try WebhookSecret.loadOrCreate(at: file)
            if created {
                // Printed this once so the operator can hand it to webhook consumers; it stays in the file.
                let line = "Generated webhook signing secret (stored in \(file.path)): \(secret.encoded)\n"
                FileHandle.standardOutput.write(Data(line.utf8))
                logger.notice("generated a webhook signing secret", metadata: ["file": "\(file.path)"])
            }
            secrets.insert(secret, at: 0)
        }
        return WebhookSigner(secrets: secrets)
    }
}
