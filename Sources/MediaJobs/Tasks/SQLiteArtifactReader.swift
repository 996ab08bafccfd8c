import Foundation
import GRDBSQLite
import Synchronization

/// The `/files` gate's read (one artifact and its task's owner) straight through SQLite's C API,
/// on a few read-only connections to the store's file.
///
/// Why not GRDB here: a read through `DatabasePool` takes a reader from its pool (building a key
/// path each time), runs on the reader's queue, checks the schema version and copies the row into
/// a `Row`; for a 1 MB file that was about a tenth of the server's CPU per request (BENCHMARKS.md,
/// figure 4). The read is one prepared statement in SQLite's implicit read transaction, so it sees
/// one snapshot; the statement is reset before the connection goes back, so no read transaction
/// stays open to hold back WAL checkpoints. It also runs on NIO's event loops (``FilesFastPath``):
/// a WAL reader never waits for writers, only (briefly) for a recovery of the WAL index.
final class SQLiteArtifactReader: Sendable {
    private let path: String
    /// Connections not in use. A read never suspends, so there are at most as many as threads that read at once.
    private let idle = Mutex<[Connection]>([])

    static let query = """
        SELECT a.task_id, a.idx, a.file_name, a.content_type, a.bytes, a.sha256, a.source_url, a.title, a.duration,
            a.style, a.image_url, a.created_at, a.pruned_at, t.owner
        FROM artifacts a JOIN tasks t ON t.id = a.task_id
        WHERE a.task_id = ?1 AND a.file_name = ?2
        """

    /// Reads the database at `path`; opens connections when first needed.
    init(path: String) {
        self.path = path
    }

    /// The artifact stored as `<taskID>/<fileName>` and its task's owner, or `nil`.
    func read(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)? {
        let connection = try idle.withLock { $0.popLast() } ?? Connection(path: path, sql: Self.query)
        defer { idle.withLock { $0.append(connection) } }
        return try connection.run(taskID: taskID, fileName: fileName)
    }

    /// One read-only connection and its prepared statement; used by one thread at a time (it is
    /// taken out of `idle` for the duration of a read), which SQLite's multi-thread mode requires.
    private final class Connection: @unchecked Sendable {
        private let handle: OpaquePointer
        private let statement: OpaquePointer

        init(path: String, sql: String) throws {
            var handle: OpaquePointer?
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
                sqlite3_close_v2(handle)
                throw SQLiteReadError(code: SQLITE_CANTOPEN, message: message)
            }
            // A checkpoint or recovery can hold the WAL index briefly; wait rather than fail the read.
            sqlite3_busy_timeout(handle, 5_000)
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
                let error = SQLiteReadError(handle)
                sqlite3_close_v2(handle)
                throw error
            }
            self.handle = handle
            self.statement = statement
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(handle)
        }

        func run(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)? {
            try taskID.withCString { task in
                try fileName.withCString { file in
                    defer {
                        sqlite3_reset(statement)
                        sqlite3_clear_bindings(statement)
                    }
                    // No destructor (SQLITE_STATIC): the bytes outlive every step, which all happen in this closure.
                    guard sqlite3_bind_text(statement, 1, task, -1, nil) == SQLITE_OK, sqlite3_bind_text(statement, 2, file, -1, nil) == SQLITE_OK
                    else { throw SQLiteReadError(handle) }
                    switch sqlite3_step(statement) {
                    case SQLITE_ROW:
                        return (artifact(), optionalString(13))
                    case SQLITE_DONE:
                        return nil
                    default:
                        throw SQLiteReadError(handle)
                    }
                }
            }
        }

        /// The artifact in columns 0-12, in the `artifacts` table's order.
        private func artifact() -> TaskArtifact {
            TaskArtifact(
                taskID: string(0), index: Int(int64(1)), fileName: string(2), contentType: string(3), bytes: int64(4), sha256: string(5),
                sourceURL: string(6), title: optionalString(7),
                duration: sqlite3_column_type(statement, 8) == SQLITE_NULL ? nil : sqlite3_column_double(statement, 8),
                style: optionalString(9), imageURL: optionalString(10), createdAt: Date(millis: int64(11)),
                prunedAt: sqlite3_column_type(statement, 12) == SQLITE_NULL ? nil : Date(millis: int64(12)))
        }

        private func string(_ column: Int32) -> String {
            guard let bytes = sqlite3_column_text(statement, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
        }

        private func optionalString(_ column: Int32) -> String? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : string(column)
        }

        private func int64(_ column: Int32) -> Int64 {
            sqlite3_column_int64(statement, column)
        }
    }
}

/// SQLite refused a read; the message is for logs, never for clients.
struct SQLiteReadError: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ handle: OpaquePointer) {
        self.init(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }

    var description: String { "SQLite error \(code): \(message)" }
}
