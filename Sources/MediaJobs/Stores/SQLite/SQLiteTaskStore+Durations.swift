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
