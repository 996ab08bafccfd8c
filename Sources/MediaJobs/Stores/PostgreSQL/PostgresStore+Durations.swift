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

extension PostgresStore: WaitingPollStore {
    public func waitingPolls(keys: [DurationKey]) async throws -> [WaitingPoll] {
        guard !keys.isEmpty else { return [] }
        return try await rows(
            """
            SELECT id, duration_key, COALESCE(upstream_accepted_at, created_at) AS accepted_at, poll_count, updated_at, progress,
                attempts, next_attempt_at, lease_epoch
            FROM tasks
            WHERE status = 'processing' AND lease_owner IS NULL AND duration_key = ANY(\(keys.map(\.value))::text[])
            """
        ).map { row in
            let polls = try row.value("poll_count", as: Int.self)
            return WaitingPoll(
                taskID: try row.value("id"), key: DurationKey(try row.value("duration_key", as: String.self)),
                acceptedAt: try row.date("accepted_at"), lastPollAt: polls > 0 ? try row.date("updated_at") : nil,
                progress: try row.value("progress"), attempts: try row.value("attempts"), nextPollAt: try row.date("next_attempt_at"),
                leaseEpoch: try row.value("lease_epoch"))
        }
    }

    /// One statement for every move, each row still checked against what was read (the rows it
    /// returns are counted).
    @discardableResult
    public func movePolls(_ moves: [PollMove]) async throws -> Int {
        guard !moves.isEmpty else { return 0 }
        let ids = moves.map(\.taskID), epochs = moves.map(\.leaseEpoch), from = moves.map(\.from.millis), to = moves.map(\.to.millis)
        let priorities = moves.map(\.priority)
        let query: PostgresQuery = """
            UPDATE tasks t SET next_attempt_at = m.to_at, poll_priority = m.priority
            FROM unnest(\(ids)::text[], \(epochs)::int8[], \(from)::int8[], \(to)::int8[], \(priorities)::float8[])
                AS m(id, epoch, from_at, to_at, priority)
            WHERE t.id = m.id AND t.status = 'processing' AND t.lease_owner IS NULL AND t.lease_epoch = m.epoch
                AND t.next_attempt_at = m.from_at
            RETURNING 1
            """
        return try await withConnection { [logger] connection in try await connection.execute(query, logger: logger) }
    }
}
