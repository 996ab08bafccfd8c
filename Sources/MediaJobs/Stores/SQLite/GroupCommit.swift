import GRDB

/// Group commit on SQLite (``GroupCommitQueue``): submits (``SQLiteStore/acceptBatcher``) and the
/// workers' step results (``SQLiteStore/advanceBatcher``, ``SQLiteStore/rescheduleBatcher``: the
/// polls claimed together end together) share transactions and fsyncs.
///
/// A batch first runs as one plain transaction. Only when some write in it throws (a reused
/// idempotency key, a full per-key quota: rare) is the batch rolled back and run again with a
/// savepoint per write, so the refused one rolls back alone; a savepoint per submit on every
/// batch cost ~2.5 % of a submit's CPU.
///
/// Batches run on GRDB's writer queue itself (`asyncWriteWithoutTransaction`), and the next batch
/// starts there: no Swift task and no hop to one between a commit and the callers it answers.
final class GroupCommit<Outcome: Sendable>: Sendable {
    typealias Work = @Sendable (Database) throws -> Outcome
    typealias Completion = @Sendable (Result<Outcome, any Error>) -> Void

    private let queue: GroupCommitQueue<Work, Outcome>

    /// `durability` of each commit: `.full` (fsync, the default) for writes a caller was promised
    /// survive a crash, `.deferred` for writes that recovery redoes (``SQLiteDurability``).
    init(writer: any DatabaseWriter, durability: SQLiteDurability = .full) {
        queue = GroupCommitQueue { works, finished in
            writer.asyncWriteWithoutTransaction { db in
                do {
                    finished(try durability.committing(db) { Self.run(works, db) })
                } catch {
                    finished(works.map { _ in .failure(error) })
                }
            }
        }
    }

    /// Runs `work` in the next group commit and returns its outcome once that commit is done (on
    /// disk, unless the batcher is ``SQLiteDurability/deferred``).
    func submit(_ work: @escaping Work) async throws -> Outcome {
        try await queue.submit(work)
    }

    /// ``submit(_:)`` with a completion handler, called once the commit is durable: for callers
    /// outside Swift concurrency, the submits answered on NIO's event loop (``SubmitFastPath``).
    func submit(_ work: @escaping Work, completion: @escaping Completion) {
        queue.submit(work, completion: completion)
    }

    private static func run(_ works: [Work], _ db: Database) -> [Result<Outcome, any Error>] {
        do {
            return try db.transaction { try works.map { .success(try $0(db)) } }
        } catch let error as DatabaseError where error.isFatalToTransaction {
            return works.map { _ in .failure(error) }
        } catch {
            // Some write was refused: the whole transaction rolled back; isolate each one.
            do {
                return try db.transaction { try works.map { try Self.isolated($0, db) } }
            } catch {
                return works.map { _ in .failure(error) }
            }
        }
    }

    /// Runs one write in its own savepoint: a refused write rolls back alone.
    private static func isolated(_ work: Work, _ db: Database) throws -> Result<Outcome, any Error> {
        var outcome: Result<Outcome, any Error> = .failure(CancellationError())
        do {
            try db.inSavepoint {
                outcome = .success(try work(db))
                return .commit
            }
        } catch let error as DatabaseError where error.isFatalToTransaction {
            throw error
        } catch {
            outcome = .failure(error)
        }
        return outcome
    }
}

extension Database {
    /// `body` in one transaction (the kind `write` uses), returning what it returned.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try inTransaction {
            result = try body()
            return .commit
        }
        return result!
    }
}

extension DatabaseError {
    /// Errors after which the surrounding transaction cannot go on (disk full, I/O, corruption).
    var isFatalToTransaction: Bool {
        switch resultCode {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_NOMEM, .SQLITE_BUSY, .SQLITE_LOCKED: true
        default: false
        }
    }
}
