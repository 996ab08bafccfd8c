/// Tunables of the task pipeline.
public struct PipelineSettings: Sendable {
    /// How long a claimed task stays reserved for its worker; long steps renew it.
    public var lease: Duration = .seconds(60)
    /// First wait between status polls of one task; grows by half each poll up to `maxPollInterval`.
    public var pollInterval: Duration = .seconds(2)
    public var maxPollInterval: Duration = .seconds(30)
    /// How long a task may take end to end before it fails.
    public var taskTimeout: Duration = .seconds(30 * 60)
    /// Failed tries of one step before the task fails.
    public var maxAttempts: Int = 8
    public var retryBackoff = RetryBackoff()
    /// Steps running at once per stage.
    public var submitConcurrency: Int = 16
    public var pollConcurrency: Int = 32
    public var downloadConcurrency: Int = 8
    /// Longest an idle worker sleeps before looking at the database again.
    public var idleTick: Duration = .seconds(1)
    /// How long steps in flight may finish after a shutdown request before they are cancelled.
    public var shutdownGrace: Duration = .seconds(5)

    public init() {}

    /// Wait before poll number `pollCount + 1`: ×1.5 per poll, capped, ±20 % jitter so many
    /// tasks submitted together do not poll the provider together.
    public func pollDelay(afterPolls pollCount: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let grown = pollInterval.timeInterval * pow1_5(min(pollCount, 40))
        let capped = min(grown, maxPollInterval.timeInterval)
        let jittered = capped * Double.random(in: 0.8...1.2, using: &generator)
        return .milliseconds(Int64(jittered * 1000))
    }

    private func pow1_5(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { value, _ in value * 1.5 }
    }
}
