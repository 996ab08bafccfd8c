/// The operator side of `mediajobs serve`: the admin key and the automatic retention policy.
public struct OperatorSettings: Sendable {
    /// Protects `/admin/*` (Bearer); nil turns the admin API off (404).
    public var adminKey: String?
    /// Run this prune periodically; nil (or an empty policy) for no automatic retention.
    public var retention: PrunePolicy?
    /// Time between automatic prunes; the first runs at start-up.
    public var retentionInterval: Duration = .seconds(3600)
    /// A dashboard session ends after this long without a request.
    public var dashboardSessionIdle: Duration = .seconds(1800)
    /// After this many wrong admin keys from one address, its next try waits
    /// `dashboardFirstLoginWait`, doubling with each further wrong key (up to 5 minutes).
    public var dashboardFreeLoginAttempts = 5
    public var dashboardFirstLoginWait: Duration = .seconds(1)

    public init(adminKey: String? = nil, retention: PrunePolicy? = nil, retentionInterval: Duration = .seconds(3600)) {
        self.adminKey = adminKey
        self.retention = retention
        self.retentionInterval = retentionInterval
    }
}
