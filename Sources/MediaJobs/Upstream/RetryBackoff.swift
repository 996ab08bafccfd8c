/// Exponential backoff with full jitter: `base · 2^(attempt-1)`, capped, then drawn uniformly from its upper half.
///
/// Jitter spreads retries of many tasks that failed together, so they do not hit the provider
/// again in one burst (from 1 s, doubling, capped at 60 s).
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(60)) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling for retry number `attempt` (1-based), before jitter.
    public func ceiling(attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let raw = base.timeInterval * Double(1 << exponent)
        return .seconds(min(raw, cap.timeInterval))
    }

    /// The wait before retry number `attempt`, honouring a provider's `Retry-After` when it asks for longer.
    public func delay(attempt: Int, retryAfter: Duration? = nil, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt).timeInterval
        let jittered = Double.random(in: (ceiling / 2)...ceiling, using: &generator)
        let wait = max(jittered, retryAfter?.timeInterval ?? 0)
        return .milliseconds(Int64(wait * 1000))
    }

    /// ``delay(attempt:retryAfter:using:)`` with the system random generator.
    public func delay(attempt: Int, retryAfter: Duration? = nil) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, retryAfter: retryAfter, using: &generator)
    }
}
