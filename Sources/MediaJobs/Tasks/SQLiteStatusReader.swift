import Foundation
import GRDBSQLite
import Synchronization

/// Status reads (`GET /suno/fetch/{id}`, the most frequent request) straight through SQLite's C
/// API, on a few read-only connections to the store's file.
///
/// Why not GRDB here: a read through `DatabasePool` takes a reader from its pool, hops onto the
/// reader's dispatch queue, opens a transaction, checks the schema version, copies rows into `Row`
/// objects and commits — per read about five times the cost of the query itself. Measured with
/// `bench/run --only reads`: server CPU per status read 220 µs through GRDB against 86 µs for the
/// same answer without any read (BENCHMARKS.md, figure 2). Everything else keeps using GRDB; this
/// reads one prepared statement and never writes.
///
/// The query is one statement (task joined with its artifacts), so SQLite's implicit read
/// transaction gives it one consistent snapshot; the statement is reset before the connection goes
/// back, so no read transaction stays open to hold back WAL checkpoints.
final class SQLiteStatusReader: Sendable {
    private let path: String
    /// Connections not in use. A read never suspends, so there are at most as many as threads that read at once.
    private let idle = Mutex<[Connection]>([])

    static let query = """
        SELECT t.id, t.kind, t.status, t.progress, t.fail_reason, t.owner, t.created_at, t.finished_at,
            a.task_id, a.idx, a.file_name, a.content_type, a.bytes, a.sha256, a.source_url, a.title, a.duration,
            a.style, a.image_url, a.created_at, a.pruned_at
        FROM tasks t LEFT JOIN artifacts a ON a.task_id = t.id
        WHERE t.id = ?1
        ORDER BY a.idx
        """

    /// Reads the database at `path`; opens connections when first needed.
    init(path: String) {
        self.path = path
    }

    /// The status record of task `id` and its artifacts, or `nil` when there is no such task.
    func read(id: String) throws -> (TaskStatusRecord, [TaskArtifact])? {
        let connection = try idle.withLock { $0.popLast() } ?? Connection(path: path, sql: Self.query)
        defer { idle.withLock { $0.append(connection) } }
        return try connection.run(id: id)
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
            sqlite3_exec(handle, "PRAGMA mmap_size = 268435456", nil, nil, nil)
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

        func run(id: String) throws -> (TaskStatusRecord, [TaskArtifact])? {
            try id.withCString { text in
                defer {
                    sqlite3_reset(statement)
                    sqlite3_clear_bindings(statement)
                }
                // No destructor (SQLITE_STATIC): the bytes outlive every step, which all happen in this closure.
                guard sqlite3_bind_text(statement, 1, text, -1, nil) == SQLITE_OK else { throw SQLiteReadError(handle) }
                var record: TaskStatusRecord?
                var artifacts: [TaskArtifact] = []
                while true {
                    switch sqlite3_step(statement) {
                    case SQLITE_ROW:
                        if record == nil { record = try taskRecord() }
                        if sqlite3_column_type(statement, 8) != SQLITE_NULL { artifacts.append(artifact(from: 8)) }
                    case SQLITE_DONE:
                        return record.map { ($0, artifacts) }
                    default:
                        throw SQLiteReadError(handle)
                    }
                }
            }
        }

        private func taskRecord() throws -> TaskStatusRecord {
            TaskStatusRecord(
                id: string(0), kind: try TaskKind.decode(string(1)), status: try TaskStatus.decode(string(2)), progress: Int(int64(3)),
                failReason: optionalString(4), owner: optionalString(5), createdAt: Date(millis: int64(6)),
                finishedAt: optionalInt64(7).map(Date.init(millis:)))
        }

        /// The artifact whose columns start at `first`, in ``TaskArtifact/columns`` order.
        private func artifact(from first: Int32) -> TaskArtifact {
            TaskArtifact(
                taskID: string(first), index: Int(int64(first + 1)), fileName: string(first + 2), contentType: string(first + 3),
                bytes: int64(first + 4), sha256: string(first + 5), sourceURL: string(first + 6), title: optionalString(first + 7),
                duration: sqlite3_column_type(statement, first + 8) == SQLITE_NULL ? nil : sqlite3_column_double(statement, first + 8),
                style: optionalString(first + 9), imageURL: optionalString(first + 10), createdAt: Date(millis: int64(first + 11)),
                prunedAt: optionalInt64(first + 12).map(Date.init(millis:)))
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

        private func optionalInt64(_ column: Int32) -> Int64? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : int64(column)
        }
    }
}

/// SQLite refused a status read; the message is for logs, never for clients.
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
