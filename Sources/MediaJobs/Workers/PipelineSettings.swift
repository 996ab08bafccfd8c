/// Tunables of the task pipeline.
public struct PipelineSettings: Sendable {
    /// How long a claimed task stays reserved for its worker; long steps renew it.
    public var lease: Duration = .seconds(60)
    /// Shortest and longest wait between two status polls of one task; in between, the learned
    /// schedule (``PollScheduler``) decides.
    public var pollInterval: Duration = .seconds(1)
    public var maxPollInterval: Duration = .seconds(30)
    /// The schedule makes no more polls per task than a poller at this fixed interval would.
    public var pollBudgetInterval: Duration = .seconds(15)
    /// Mean delay (provider done → poll sees it) below which fewer polls are preferred.
    public var pollTargetDelay: Duration = .seconds(2)
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

    /// What every task's poll schedule is held to.
    public var pollLimits: PollPolicy.Limits {
        PollPolicy.Limits(
            floor: pollInterval.timeInterval, ceiling: maxPollInterval.timeInterval, budgetInterval: pollBudgetInterval.timeInterval,
            targetDelay: pollTargetDelay.timeInterval, horizon: taskTimeout.timeInterval)
    }
}
