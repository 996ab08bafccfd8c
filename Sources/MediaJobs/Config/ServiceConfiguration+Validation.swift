import Foundation

extension ServiceConfiguration {
    /// Checks what can be checked without I/O, so `serve`, the tests and any embedder get the same
    /// errors before anything is opened or started.
    public func validate() throws(StartupError) {
        try checkExposure()
        _ = try upstreamBaseURL()
        _ = try webhookSecrets()
        _ = try s3Endpoint()
        try checkLeases()
    }

    /// A lease must leave room for renewals every third of it; a webhook delivery's lease (not
    /// renewed) must outlast one attempt.
    func checkLeases() throws(StartupError) {
        guard pipeline.lease >= .seconds(3) else {
            throw .configuration("--lease-duration must be at least 3s, got \(pipeline.lease.humanReadable)")
        }
        guard webhooks.lease > webhooks.timeout else {
            throw .configuration("a webhook delivery's lease (\(webhooks.lease.humanReadable)) must be longer than an attempt's timeout (\(webhooks.timeout.humanReadable))")
        }
    }

    /// The bucket's endpoint when artifacts go to S3, after checking the settings that must hold
    /// for it (credentials present, endpoint URL, presign time); nil with local storage. Errors
    /// name the endpoint and bucket, never the secret.
    func s3Endpoint() throws(StartupError) -> S3Endpoint? {
        guard let s3 = s3Storage else { return nil }
        guard s3.credentials != nil else {
            throw .configuration("--storage-url \(s3.storageURL) needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let seconds = s3.presignTTL.components.seconds
        guard seconds >= 1, seconds <= SigV4Signer.maximumPresignSeconds else {
            throw .configuration("--s3-presign-ttl must be between 1s and 7d")
        }
        do throws(S3Error) {
            return try S3Endpoint(bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint)
        } catch {
            throw .configuration("--s3-endpoint: \(error.description)")
        }
    }

    /// Refuses an open (keyless) API beyond loopback unless the operator insists (`--insecure-open`).
    func checkExposure() throws(StartupError) {
        guard apiKeys.isEmpty, !listensOnLoopbackOnly, !insecureOpen else { return }
        throw .configuration("refusing to listen on \(host) without API keys; set --api-keys (or --api-keys-file), or pass --insecure-open")
    }

    /// Whether `host` is a loopback name or address.
    var listensOnLoopbackOnly: Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || IPAddress(parsing: bare)?.addressClass == .loopback
    }

    /// The configured provider's base URL without a trailing slash, and its host (trusted for
    /// downloads); nil in demo mode.
    func upstreamBaseURL() throws(StartupError) -> (base: String, host: String)? {
        guard let upstreamURL else { return nil }
        guard let url = URL(string: upstreamURL), let host = url.host, ["http", "https"].contains(url.scheme?.lowercased() ?? "") else {
            throw .configuration("--upstream-url must be an http(s) URL, got '\(upstreamURL)'")
        }
        return (upstreamURL.hasSuffix("/") ? String(upstreamURL.dropLast()) : upstreamURL, host)
    }

    /// The configured signing secrets, current one first; empty when the secret is to be generated.
    func webhookSecrets() throws(StartupError) -> [WebhookSecret] {
        var secrets: [WebhookSecret] = []
        if let text = webhookSecret?.value {
            guard let secret = WebhookSecret(parsing: text) else { throw .configuration("--webhook-secret must be whsec_<base64 of at least 16 bytes>") }
            secrets.append(secret)
        }
        for text in webhookPreviousSecrets.map(\.value) {
            guard let secret = WebhookSecret(parsing: text) else { throw .configuration("--webhook-previous-secret must be whsec_<base64>") }
            secrets.append(secret)
        }
        return secrets
    }
}
