import Foundation
import GRDB

extension SQLiteTaskStore: UpstreamDurationStore {
    public func recordUpstreamDurations(_ observations: [UpstreamDurationObservation], keep: Int) async throws {
        guard !observations.isEmpty else { return }
        try await writer.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO upstream_durations (duration_key, seconds, observed_at) VALUES (?, ?, ?)")
            for observation in observations {
                try insert.execute(arguments: [observation.key.value, observation.seconds, observation.observedAt.millis])
            }
            // Only the newest `keep` per key are ever read.
            for key in Set(observations.map(\.key.value)) {
                try db.execute(
                    sql: """
                        DELETE FROM upstream_durations WHERE duration_key = ? AND id <= (
                            SELECT id FROM upstream_durations WHERE duration_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?)
                        """,
                    arguments: [key, key, keep])
            }
        }
    }

    public func recentUpstreamDurations(limit: Int) async throws -> [DurationKey: [Double]] {
        try await writer.read { db in
            var durations: [DurationKey: [Double]] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT duration_key, seconds FROM (
                        SELECT duration_key, seconds, id, row_number() OVER (PARTITION BY duration_key ORDER BY id DESC) AS newest
                        FROM upstream_durations)
                    WHERE newest <= ? ORDER BY duration_key, id
                    """,
                arguments: [limit])
            while let row = try rows.next() {
                durations[DurationKey(row["duration_key"] as String), default: []].append(row["seconds"])
            }
            return durations
        }
    }
}

extension SQLiteTaskStore: WaitingPollStore {
    public func waitingPolls(keys: [DurationKey]) async throws -> [WaitingPoll] {
        guard !keys.isEmpty else { return [] }
        return try await writer.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, duration_key, COALESCE(upstream_accepted_at, created_at), poll_count, updated_at, progress, attempts,
                        next_attempt_at, lease_epoch
                    FROM tasks
                    WHERE status = 'processing' AND lease_owner IS NULL
                        AND duration_key IN (\(databaseQuestionMarks(count: keys.count)))
                    """,
                arguments: StatementArguments(keys.map(\.value)))
            var waiting: [WaitingPoll] = []
            while let row = try rows.next() {
                let polls: Int = row[3]
                waiting.append(
                    WaitingPoll(
                        taskID: row[0], key: DurationKey(row[1] as String), acceptedAt: Date(millis: row[2]),
                        lastPollAt: polls > 0 ? Date(millis: row[4]) : nil, progress: row[5], attempts: row[6],
                        nextPollAt: Date(millis: row[7]), leaseEpoch: row[8]))
            }
            return waiting
        }
    }

    @discardableResult
    public func movePolls(_ moves: [PollMove]) async throws -> Int {
        guard !moves.isEmpty else { return 0 }
        // Without an fsync, as a claim: a move lost in a crash leaves the poll where it was, and
        // start-up makes every processing task due anyway (``SQLiteDurability``).
        return try await writer.writeWithoutTransaction { db in
            try SQLiteDurability.deferred.committing(db) {
                try db.transaction {
                    let update = try db.cachedStatement(
                        sql: """
                            UPDATE tasks SET next_attempt_at = ?, poll_priority = ?
                            WHERE id = ? AND status = 'processing' AND lease_owner IS NULL AND lease_epoch = ? AND next_attempt_at = ?
                            """)
                    var moved = 0
                    for move in moves {
                        try update.execute(arguments: [move.to.millis, move.priority, move.taskID, move.leaseEpoch, move.from.millis])
                        moved += db.changesCount
                    }
                    return moved
                }
            }
        }
    }
}
