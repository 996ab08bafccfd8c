/// Work another instance made that this instance's workers should look at now rather than at
/// their next idle tick (a store shared by several instances tells them; see ``PostgresWakeUpListener``).
public enum StoreWakeUp: String, Sendable, CaseIterable {
    /// A task became due at once (accepted, or retried by an operator).
    case tasks
    /// A webhook delivery became due (a task ended, or an operator redelivered).
    case webhooks
}
