extension TaskStatus {
    /// The order in which a claim takes due tasks of this status from ``claimCandidates``, the
    /// longest-waiting ones (`now`: the SQL of the current time in milliseconds). Polls: the
    /// likeliest to find the task finished first (what matters when more are due than can be
    /// polled at once), each minute overdue counting as much as a certain finish, so no task waits
    /// for ever behind likelier ones. Other steps: oldest due first.
    func claimOrderSQL(now: String) -> String {
        self == .processing ? "poll_priority + (\(now) - next_attempt_at) / 60000.0 DESC, next_attempt_at" : "next_attempt_at"
    }

    /// How many of the longest-waiting due tasks a claim orders (through the due-time index):
    /// ordering every due task would sort thousands of rows per claim under a backlog.
    static let claimCandidates = 256
}
