import Synchronization

/// When an operation of this store last got a pooled connection.
///
/// An operation that has waited long for a connection asks it whether others got one meanwhile:
/// then the pool is only busy (keep waiting); if not, the database is out of reach (answer 503).
final class PostgresActivity: Sendable {
    private let lastConnected = Atomic<Int64>(0)
    private let start = ContinuousClock.now

    /// Records that an operation got a connection just now.
    func connected() {
        lastConnected.store(nanoseconds(since: start), ordering: .relaxed)
    }

    /// Whether some operation got a connection within the last `window`.
    func connectedWithin(_ window: Duration) -> Bool {
        let last = lastConnected.load(ordering: .relaxed)
        return last > 0 && nanoseconds(since: start) - last < nanoseconds(of: window)
    }

    private func nanoseconds(since instant: ContinuousClock.Instant) -> Int64 {
        nanoseconds(of: instant.duration(to: .now))
    }

    private func nanoseconds(of duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
