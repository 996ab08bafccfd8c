import Foundation
import Logging

/// Where the webhook signing secrets come from.
enum WebhookSigning {
    /// The configured secrets, or, when none is configured, one generated once and kept where every
    /// instance finds it: in `shared` (several instances on one database) or else in the data
    /// directory (single node).
    static func signer(
        configuration: ServiceConfiguration, dataDirectory: URL, shared: (any SharedSettingStore)?, logger: Logger
    ) async throws -> WebhookSigner {
        var secrets = try configuration.webhookSecrets()
        if configuration.webhookSecret == nil {
            let secret: WebhookSecret
            if let shared {
                let (value, created) = try await shared.sharedSetting("webhook_secret", proposing: WebhookSecret.generate().encoded)
                guard let stored = WebhookSecret(parsing: value) else {
                    throw StartupError.configuration("the webhook secret kept in the database is not a whsec_ secret; set --webhook-secret")
                }
                secret = stored
                if created { announce(secret, keptIn: "the database", logger: logger) }
            } else {
                let file = dataDirectory.appendingPathComponent("webhook-secret")
                let (stored, created) = try WebhookSecret.loadOrCreate(at: file)
                secret = stored
                if created { announce(secret, keptIn: file.path, logger: logger) }
            }
            secrets.insert(secret, at: 0)
        }
        return WebhookSigner(secrets: secrets)
    }

    /// Printed this once so the operator can hand it to webhook consumers; it stays where it is kept.
    private static func announce(_ secret: WebhookSecret, keptIn place: String, logger: Logger) {
        let line = "Generated webhook signing secret (stored in \(place)): \(secret.encoded)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        logger.notice("generated a webhook signing secret", metadata: ["stored.in": "\(place)"])
    }
}
