import Foundation
import PostgresNIO

extension PostgresStore {
    /// The schema's history, one list of statements per version. Shipped migrations never change;
    /// new needs get new entries at the end.
    ///
    /// Ids collate bytewise ("C"), as in SQLite, so cursors over `(created_at, id)` agree with the
    /// indexes whatever the database's default collation.
    static let migrations: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE tasks (
                id TEXT COLLATE "C" PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                request TEXT NOT NULL,
                metadata TEXT,
                callback_url TEXT,
                owner TEXT,
                upstream_id TEXT,
                upstream_outputs TEXT NOT NULL DEFAULT '[]',
                progress BIGINT NOT NULL DEFAULT 0,
                fail_reason TEXT,
                attempts BIGINT NOT NULL DEFAULT 0,
                poll_count BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                deadline_at BIGINT NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                finished_at BIGINT
            )
            """,
            // Claims read only the due, unfinished tasks: a partial index keeps finished ones out of it.
            "CREATE INDEX tasks_due ON tasks (status, next_attempt_at) WHERE status IN ('queued', 'processing', 'downloading')",
            "CREATE INDEX tasks_created ON tasks (created_at, id)",
            "CREATE INDEX tasks_kind_created ON tasks (kind, created_at, id)",
            "CREATE INDEX tasks_owner_status ON tasks (owner, status)",
            "CREATE INDEX tasks_finished ON tasks (finished_at, id) WHERE finished_at IS NOT NULL",
            """
            CREATE TABLE artifacts (
                task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                idx BIGINT NOT NULL,
                file_name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                source_url TEXT NOT NULL,
                title TEXT,
                duration DOUBLE PRECISION,
                style TEXT,
                image_url TEXT,
                created_at BIGINT NOT NULL,
                pruned_at BIGINT,
                PRIMARY KEY (task_id, idx)
            )
            """,
            "CREATE UNIQUE INDEX artifacts_file ON artifacts (task_id, file_name)",
            "CREATE INDEX artifacts_prunable ON artifacts (created_at, task_id, idx) WHERE pruned_at IS NULL",
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX webhook_events_task ON webhook_events (task_id)",
            """
            CREATE TABLE webhook_deliveries (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
                task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                endpoint_url TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                last_attempt_at BIGINT,
                last_response_status BIGINT,
                last_error TEXT,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                created_at BIGINT NOT NULL,
                delivered_at BIGINT
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX webhook_deliveries_task ON webhook_deliveries (task_id, status)",
            "CREATE TABLE webhook_disabled_endpoints (endpoint_url TEXT PRIMARY KEY, disabled_at BIGINT NOT NULL, reason TEXT NOT NULL)",
            // file_removals: files (or, with no file_name, task folders) that a committed prune, task
            // deletion or retry made unused; removed from disk after the commit, then forgotten.
            """
            CREATE TABLE file_removals (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                task_id TEXT NOT NULL,
                file_name TEXT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE TABLE operator_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            """
            CREATE TABLE idempotency_keys (
                owner TEXT NOT NULL,
                key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                task_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (owner, key)
            )
            """,
            "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
        ],
        [
            // Counts the claims of a task: every worker write presents the epoch of its claim (`Lease`).
            "ALTER TABLE tasks ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0",
            // Values every instance must share, e.g. the webhook signing secret.
            "CREATE TABLE service_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
        [
            // Polls are planned from the provider's acceptance; the durations they observed are
            // kept so every instance's schedule learns from all of them.
            "ALTER TABLE tasks ADD COLUMN upstream_accepted_at BIGINT",
            "ALTER TABLE tasks ADD COLUMN poll_priority DOUBLE PRECISION NOT NULL DEFAULT 0",
            """
            CREATE TABLE upstream_durations (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                duration_key TEXT NOT NULL,
                seconds DOUBLE PRECISION NOT NULL,
                observed_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX upstream_durations_key ON upstream_durations (duration_key, id)",
        ],
        [
            // Which learned schedule a task follows (`DurationKey`), so the polls of its waiting
            // tasks can be re-planned when that schedule moves. Tasks stored before stay NULL:
            // they keep the polls they have.
            "ALTER TABLE tasks ADD COLUMN duration_key TEXT",
        ],
    ]

    /// Brings the schema up to date in one transaction under an advisory lock, so instances that
    /// start together migrate once; refuses a schema newer than ``migrations``.
    func migrate() async throws {
        try await transaction { connection in
            // Keyed by schema: databases (or test schemas) migrate independently.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext('mediajobs.migrate.' || current_schema()))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS mediajobs_schema (version BIGINT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger)
            let current = try await connection.rows("SELECT COALESCE(MAX(version), 0) AS version FROM mediajobs_schema", logger: logger)
                .first?.value("version", as: Int.self) ?? 0
            guard current <= Self.migrations.count else {
                throw PostgresSchemaError(databaseVersion: current, knownVersion: Self.migrations.count)
            }
            for version in (current + 1)..<(Self.migrations.count + 1) {
                for statement in Self.migrations[version - 1] {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query("INSERT INTO mediajobs_schema (version) VALUES (\(version))", logger: logger)
            }
        }
    }
}
