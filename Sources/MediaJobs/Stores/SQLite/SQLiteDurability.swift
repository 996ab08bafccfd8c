import GRDB

/// Whether a commit waits until it is on disk.
///
/// The writer runs with `synchronous = FULL`: a commit returns once the WAL is fsynced, so a
/// 200 to a submit means the task survives a power loss. Some writes need no such promise,
/// because nothing was promised on them and start-up recovery redoes them: a claim (its lease is
/// released at start-up anyway) and a step result that keeps the task's status (a poll that found
/// the task still running, a retry's due time; start-up makes processing tasks due again). Their
/// commits skip the fsync (`synchronous = NORMAL`), which would otherwise come once per claim and
/// once per group of poll results.
///
/// A crash loses at most such writes made after the last full commit, never an earlier one: the
/// WAL is written in order and each full commit's fsync covers every frame before it, and on
/// opening SQLite keeps the WAL only up to the last commit whose frames are all intact.
enum SQLiteDurability: Sendable {
    case full
    case deferred

    /// Runs `body` with this durability for the commits it makes, then restores `full`.
    /// (SQLite refuses to change it inside a transaction: call it outside one.) Throws only when
    /// `full` could not be restored (the connection out of memory): the caller then reports the
    /// write as failed, and it is redone as after a crash.
    func committing<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        guard self == .deferred else { return try body() }
        try db.cachedStatement(sql: "PRAGMA synchronous = \(Self.deferred.level)").execute()
        let result = Result { try body() }
        try db.cachedStatement(sql: "PRAGMA synchronous = \(Self.full.level)").execute()
        return try result.get()
    }

    /// The `PRAGMA synchronous` level.
    var level: String {
        switch self {
        case .full: "FULL"
        case .deferred: "NORMAL"
        }
    }
}
