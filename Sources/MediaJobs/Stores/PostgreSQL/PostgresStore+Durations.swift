import PostgresNIO

extension PostgresStore: UpstreamDurationStore {
    public func recordUpstreamDurations(_ observations: [UpstreamDurationObservation], keep: Int) async throws {
        guard !observations.isEmpty else { return }
        let keys = observations.map(\.key.value), seconds = observations.map(\.seconds), times = observations.map(\.observedAt.millis)
        let distinctKeys = Array(Set(keys))
        try await transaction { [logger] connection in
            try await connection.query(
                """
                INSERT INTO upstream_durations (duration_key, seconds, observed_at)
                SELECT * FROM unnest(\(keys)::text[], \(seconds)::float8[], \(times)::int8[])
                """, logger: logger)
            // Only the newest `keep` per key are ever read.
            try await connection.query(
                """
                DELETE FROM upstream_durations d USING (
                    SELECT id FROM (
                        SELECT id, row_number() OVER (PARTITION BY duration_key ORDER BY id DESC) AS newest
                        FROM upstream_durations WHERE duration_key = ANY(\(distinctKeys)::text[])) ranked
                    WHERE newest > \(keep)) old
                WHERE d.id = old.id
                """, logger: logger)
        }
    }

    public func recentUpstreamDurations(limit: Int) async throws -> [DurationKey: [Double]] {
        var durations: [DurationKey: [Double]] = [:]
        let rows = try await rows(
            """
            SELECT duration_key, seconds FROM (
                SELECT duration_key, seconds, id, row_number() OVER (PARTITION BY duration_key ORDER BY id DESC) AS newest
                FROM upstream_durations) ranked
            WHERE newest <= \(limit) ORDER BY duration_key, id
            """)
        for row in rows {
            durations[DurationKey(try row.value("duration_key", as: String.self)), default: []].append(try row.value("seconds", as: Double.self))
        }
        return durations
    }
}
