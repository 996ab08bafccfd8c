import GRDB

extension SQLiteStore {
    /// The schema's history. Shipped migrations never change; new needs get new migrations.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: tasks and artifacts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tasks (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        status TEXT NOT NULL,
                        request TEXT NOT NULL,
                        metadata TEXT,
                        callback_url TEXT,
                        owner TEXT,
                        upstream_id TEXT,
                        upstream_outputs TEXT NOT NULL DEFAULT '[]',
                        progress INTEGER NOT NULL DEFAULT 0,
                        fail_reason TEXT,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        poll_count INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        deadline_at INTEGER NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        finished_at INTEGER
                    );
                    CREATE INDEX tasks_due ON tasks (status, next_attempt_at);
                    CREATE INDEX tasks_created ON tasks (created_at, id);
                    CREATE INDEX tasks_kind_created ON tasks (kind, created_at, id);
                    CREATE TABLE artifacts (
                        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                        idx INTEGER NOT NULL,
                        file_name TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        bytes INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        source_url TEXT NOT NULL,
                        title TEXT,
                        duration REAL,
                        style TEXT,
                        image_url TEXT,
                        created_at INTEGER NOT NULL,
                        pruned_at INTEGER,
                        PRIMARY KEY (task_id, idx)
                    );
                    CREATE UNIQUE INDEX artifacts_file ON artifacts (task_id, file_name);
                    """
            )
        }
        migrator.registerMigration("v2: webhook outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_events (
                        id TEXT PRIMARY KEY NOT NULL,
                        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                        type TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE INDEX webhook_events_task ON webhook_events (task_id);
                    CREATE TABLE webhook_deliveries (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
                        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
                        endpoint_url TEXT NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        last_attempt_at INTEGER,
                        last_response_status INTEGER,
                        last_error TEXT,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        created_at INTEGER NOT NULL,
                        delivered_at INTEGER
                    );
                    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
                    CREATE INDEX webhook_deliveries_task ON webhook_deliveries (task_id, status);
                    CREATE TABLE webhook_disabled_endpoints (
                        endpoint_url TEXT PRIMARY KEY NOT NULL,
                        disabled_at INTEGER NOT NULL,
                        reason TEXT NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v3: retention and operators") { db in
            // file_removals: files (or, with no file_name, task folders) that a committed prune, task
            // deletion or retry made unused; removed from disk after the commit, then forgotten.
            // operator_counters: lifetime totals (pruned files and bytes, deleted tasks) that outlive task rows.
            try db.execute(
                sql: """
                    CREATE TABLE file_removals (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        task_id TEXT NOT NULL,
                        file_name TEXT,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE operator_counters (
                        name TEXT PRIMARY KEY NOT NULL,
                        value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX artifacts_prunable ON artifacts (created_at, task_id, idx) WHERE pruned_at IS NULL;
                    CREATE INDEX tasks_finished ON tasks (finished_at, id) WHERE finished_at IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration("v4: idempotency keys and owners") { db in
            try db.execute(
                sql: """
                    CREATE TABLE idempotency_keys (
                        owner TEXT NOT NULL,
                        key TEXT NOT NULL,
                        fingerprint TEXT NOT NULL,
                        task_id TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        PRIMARY KEY (owner, key)
                    ) WITHOUT ROWID;
                    CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
                    CREATE INDEX tasks_owner_status ON tasks (owner, status);
                    """
            )
        }
        migrator.registerMigration("v5: lease epochs") { db in
            // Counts the claims of a task: every worker write presents the epoch of its claim (`Lease`).
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6: learned polling") { db in
            // Polls are planned from the provider's acceptance; the durations they observed are
            // kept so the schedule survives restarts.
            try db.execute(
                sql: """
                    ALTER TABLE tasks ADD COLUMN upstream_accepted_at INTEGER;
                    ALTER TABLE tasks ADD COLUMN poll_priority REAL NOT NULL DEFAULT 0;
                    CREATE TABLE upstream_durations (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        duration_key TEXT NOT NULL,
                        seconds REAL NOT NULL,
                        observed_at INTEGER NOT NULL
                    );
                    CREATE INDEX upstream_durations_key ON upstream_durations (duration_key, id);
                    """)
        }
        migrator.registerMigration("v7: re-planned polls") { db in
            // Which learned schedule a task follows (``DurationKey``), so the polls of its waiting
            // tasks can be re-planned when that schedule moves. Tasks stored before stay NULL:
            // they keep the polls they have.
            try db.execute(sql: "ALTER TABLE tasks ADD COLUMN duration_key TEXT")
        }
        return migrator
    }
}
