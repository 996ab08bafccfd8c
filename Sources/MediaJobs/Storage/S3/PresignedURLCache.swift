import Foundation
import Synchronization

/// Presigned `GET` URLs reused for a while, so a file asked for again (players fetch ranges, pages
/// reload) is redirected without signing anew: a signature costs a SHA-256, an HMAC and the
/// building of the canonical strings, several times the rest of a redirect.
///
/// A URL is reused only while what is left of its validity still covers the client cache
/// lifetime the 307 announces (``S3StorageSettings/redirectMaxAge``): up to half the margin
/// between the two. The cache holds at most ``capacity`` keys and starts afresh when full.
final class PresignedURLCache: Sendable {
    /// Keys kept at most.
    static let capacity = 4096

    /// How long one URL is reused (seconds).
    let reuse: TimeInterval
    private let entries = Mutex([String: (url: String, signedAt: Date)]())

    /// For URLs valid `validity` seconds answered with a client cache lifetime of `maxAge` seconds.
    init(validity: Int, maxAge: Int) {
        reuse = TimeInterval(max(0, validity - maxAge) / 2)
    }

    /// The URL for `key` at `now`: a reused one, or `sign(now)`'s.
    func url(for key: String, now: Date = Date(), sign: (Date) -> String) -> String {
        if reuse > 0, let cached = entries.withLock({ $0[key] }), now >= cached.signedAt, now.timeIntervalSince(cached.signedAt) < reuse {
            return cached.url
        }
        let url = sign(now)
        guard reuse > 0 else { return url }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (url, now)
        }
        return url
    }
}
