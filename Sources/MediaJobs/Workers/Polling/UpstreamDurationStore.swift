import Foundation

/// One provider duration seen by a poll: a task of `key` took `seconds` from the provider's
/// acceptance to its completion.
public struct UpstreamDurationObservation: Sendable, Equatable {
    public var key: DurationKey
    public var seconds: Double
    public var observedAt: Date

    public init(key: DurationKey, seconds: Double, observedAt: Date) {
        self.key = key
        self.seconds = seconds
        self.observedAt = observedAt
    }
}

/// Where observed provider durations are kept, so the schedule survives restarts and every
/// instance sharing the store learns from all of them.
public protocol UpstreamDurationStore: Sendable {
    /// Appends `observations` and drops, per key, all but the newest `keep`.
    func recordUpstreamDurations(_ observations: [UpstreamDurationObservation], keep: Int) async throws
    /// The newest `limit` durations of every key, oldest first.
    func recentUpstreamDurations(limit: Int) async throws -> [DurationKey: [Double]]
}
