import Foundation
import GRDBSQLite
import Synchronization

/// The two most frequent reads of the service — a task's status (`GET /suno/fetch/{id}`) and the
/// `/files` gate's artifact row — straight through SQLite's C API, on a few read-only connections
/// to the store's file, each with both statements prepared once.
///
/// Why not GRDB here: a read through `DatabasePool` takes a reader from its pool (building a key
/// path each time), hops onto the reader's dispatch queue, opens a transaction, checks the schema
/// version, copies rows into `Row` objects and commits — per read about five times the cost of the
/// query itself (BENCHMARKS.md, figures 2 and 4). Everything else keeps using GRDB; these reads
/// never write.
///
/// Each read is one statement, so SQLite's implicit read transaction gives it one consistent
/// snapshot; the statement is reset before the connection goes back, so no read transaction stays
/// open to hold back WAL checkpoints. Both reads run on NIO's event loops (through
/// ``EventLoopStoreAccess``): a WAL reader never waits for writers, only (briefly) for a recovery of the
/// WAL index.
final class SQLiteDirectReader: Sendable {
    private let path: String
    /// Connections not in use. A read never suspends, so there are at most as many as threads that read at once.
    private let idle = Mutex<[Connection]>([])

    /// A task's status columns (``TaskStatusRecord/columns``) and its artifacts' (``TaskArtifact/columns``), by index.
    static let statusQuery = """
        SELECT t.id, t.kind, t.status, t.progress, t.fail_reason, t.owner, t.created_at, t.finished_at,
            a.task_id, a.idx, a.file_name, a.content_type, a.bytes, a.sha256, a.source_url, a.title, a.duration,
            a.style, a.image_url, a.created_at, a.pruned_at
        FROM tasks t LEFT JOIN artifacts a ON a.task_id = t.id
        WHERE t.id = ?1
        ORDER BY a.idx
        """

    /// One artifact (``TaskArtifact/columns``) and its task's owner.
    static let artifactQuery = """
        SELECT a.task_id, a.idx, a.file_name, a.content_type, a.bytes, a.sha256, a.source_url, a.title, a.duration,
            a.style, a.image_url, a.created_at, a.pruned_at, t.owner
        FROM artifacts a JOIN tasks t ON t.id = a.task_id
        WHERE a.task_id = ?1 AND a.file_name = ?2
        """

    /// Reads the database at `path`; opens connections when first needed.
    init(path: String) {
        self.path = path
    }

    /// The status record of task `id` and its artifacts, or `nil` when there is no such task.
    func status(id: String) throws -> (TaskStatusRecord, [TaskArtifact])? {
        try withConnection { try $0.status(id: id) }
    }

    /// The artifact stored as `<taskID>/<fileName>` and its task's owner, or `nil`.
    func artifact(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)? {
        try withConnection { try $0.artifact(taskID: taskID, fileName: fileName) }
    }

    private func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() } ?? Connection(path: path)
        defer { idle.withLock { $0.append(connection) } }
        return try body(connection)
    }

    /// One read-only connection and its prepared statements; used by one thread at a time (it is
    /// taken out of `idle` for the duration of a read), which SQLite's multi-thread mode requires.
    private final class Connection: @unchecked Sendable {
        private let handle: OpaquePointer
        private let statusStatement: Statement
        private let artifactStatement: Statement

        init(path: String) throws {
            var handle: OpaquePointer?
            guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
                sqlite3_close_v2(handle)
                throw SQLiteReadError(code: SQLITE_CANTOPEN, message: message)
            }
            // A checkpoint or recovery can hold the WAL index briefly; wait rather than fail the read.
            sqlite3_busy_timeout(handle, 5_000)
            sqlite3_exec(handle, "PRAGMA mmap_size = 268435456", nil, nil, nil)
            do {
                statusStatement = try Statement(handle, SQLiteDirectReader.statusQuery)
                artifactStatement = try Statement(handle, SQLiteDirectReader.artifactQuery)
            } catch {
                sqlite3_close_v2(handle)
                throw error
            }
            self.handle = handle
        }

        deinit {
            statusStatement.finalize()
            artifactStatement.finalize()
            sqlite3_close_v2(handle)
        }

        func status(id: String) throws -> (TaskStatusRecord, [TaskArtifact])? {
            try statusStatement.run(handle, binding: id) { row in
                var record: TaskStatusRecord?
                var artifacts: [TaskArtifact] = []
                while try row.step() {
                    if record == nil {
                        record = TaskStatusRecord(
                            id: row.string(0), kind: try TaskKind.decode(row.string(1)), status: try TaskStatus.decode(row.string(2)),
                            progress: Int(row.int64(3)), failReason: row.optionalString(4), owner: row.optionalString(5),
                            createdAt: Date(millis: row.int64(6)), finishedAt: row.optionalInt64(7).map(Date.init(millis:)))
                    }
                    if !row.isNull(8) { artifacts.append(row.artifact(from: 8)) }
                }
                return record.map { ($0, artifacts) }
            }
        }

        func artifact(taskID: String, fileName: String) throws -> (artifact: TaskArtifact, owner: String?)? {
            try artifactStatement.run(handle, binding: taskID, fileName) { row in
                try row.step() ? (row.artifact(from: 0), row.optionalString(13)) : nil
            }
        }
    }

    /// A prepared statement, read column by column while it steps.
    private struct Statement {
        let pointer: OpaquePointer
        let handle: OpaquePointer

        init(_ handle: OpaquePointer, _ sql: String) throws {
            var pointer: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil) == SQLITE_OK, let pointer else {
                throw SQLiteReadError(handle)
            }
            self.pointer = pointer
            self.handle = handle
        }

        func finalize() {
            sqlite3_finalize(pointer)
        }

        /// Binds `first` (and `second`) as ?1 (and ?2), runs `body`, then resets the statement.
        func run<T>(_ handle: OpaquePointer, binding first: String, _ second: String? = nil, _ body: (Statement) throws -> T) throws -> T {
            try first.withCString { first in
                try (second ?? "").withCString { secondText in
                    defer {
                        sqlite3_reset(pointer)
                        sqlite3_clear_bindings(pointer)
                    }
                    // No destructor (SQLITE_STATIC): the bytes outlive every step, which all happen in this closure.
                    guard sqlite3_bind_text(pointer, 1, first, -1, nil) == SQLITE_OK,
                        second == nil || sqlite3_bind_text(pointer, 2, secondText, -1, nil) == SQLITE_OK
                    else { throw SQLiteReadError(handle) }
                    return try body(self)
                }
            }
        }

        /// Moves to the next row; `false` when there is none.
        func step() throws -> Bool {
            switch sqlite3_step(pointer) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw SQLiteReadError(handle)
            }
        }

        /// The artifact whose columns start at `first`, in ``TaskArtifact/columns`` order.
        func artifact(from first: Int32) -> TaskArtifact {
            TaskArtifact(
                taskID: string(first), index: Int(int64(first + 1)), fileName: string(first + 2), contentType: string(first + 3),
                bytes: int64(first + 4), sha256: string(first + 5), sourceURL: string(first + 6), title: optionalString(first + 7),
                duration: isNull(first + 8) ? nil : sqlite3_column_double(pointer, first + 8),
                style: optionalString(first + 9), imageURL: optionalString(first + 10), createdAt: Date(millis: int64(first + 11)),
                prunedAt: optionalInt64(first + 12).map(Date.init(millis:)))
        }

        func isNull(_ column: Int32) -> Bool {
            sqlite3_column_type(pointer, column) == SQLITE_NULL
        }

        func string(_ column: Int32) -> String {
            guard let bytes = sqlite3_column_text(pointer, column) else { return "" }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(pointer, column))), as: UTF8.self)
        }

        func optionalString(_ column: Int32) -> String? {
            isNull(column) ? nil : string(column)
        }

        func int64(_ column: Int32) -> Int64 {
            sqlite3_column_int64(pointer, column)
        }

        func optionalInt64(_ column: Int32) -> Int64? {
            isNull(column) ? nil : int64(column)
        }
    }
}

/// SQLite refused a direct read; the message is for logs, never for clients.
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
