import Foundation
import Testing

@testable import MediaJobs

@Suite struct WebhookSignerTests {
    /// The Standard Webhooks reference vector (also what the official Python library computes).
    @Test func matchesTheStandardWebhooksVector() throws {
        let secret = try #require(WebhookSecret(parsing: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSigner(secrets: [secret]).signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func rotationSignsWithEverySecret() {
        let current = WebhookSecret.generate()
        let previous = WebhookSecret.generate()
        let both = WebhookSigner(secrets: [current, previous]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3])
        let parts = both.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == WebhookSigner(secrets: [current]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3]))
        #expect(parts[1] == WebhookSigner(secrets: [previous]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3]))
    }

    @Test func secretsRoundTripAndNeverPrint() throws {
        let secret = WebhookSecret.generate()
        #expect(WebhookSecret(parsing: secret.encoded) == secret)
        #expect(!"\(secret)".contains(secret.encoded))
        #expect(WebhookSecret(parsing: "whsec_c2hvcnQ=") == nil)  // too short to be a key
        #expect(WebhookSecret(parsing: "whsec_!!!") == nil)
    }

    @Test func generatedSecretIsKeptInTheDataDirectory() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let (first, created) = try WebhookSecret.loadOrCreate(at: file)
        let (second, createdAgain) = try WebhookSecret.loadOrCreate(at: file)
        #expect(created && !createdAgain)
        #expect(first == second)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
