import GRDB

extension SQLiteTaskStore {
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
        return migrator
    }
}
