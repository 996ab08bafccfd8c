import GRDB

/// Group commit on SQLite (``GroupCommitQueue``): submits (``SQLiteStore/acceptBatcher``) and the
/// workers' step results (``SQLiteStore/advanceBatcher``, ``SQLiteStore/rescheduleBatcher``: the
/// polls claimed together end together) share transactions and fsyncs.
///
/// A batch first runs as one plain transaction. Only when some write in it throws (a reused
/// idempotency key, a full per-key quota: rare) is the batch rolled back and run again with a
/// savepoint per write, so the refused one rolls back alone; a savepoint per submit on every
/// batch cost ~2.5 % of a submit's CPU.
final class GroupCommit<Outcome: Sendable>: Sendable {
    typealias Work = @Sendable (Database) throws -> Outcome
    typealias Completion = @Sendable (Result<Outcome, any Error>) -> Void

    private let queue: GroupCommitQueue<Work, Outcome>

    init(writer: any DatabaseWriter) {
        queue = GroupCommitQueue { works in await Self.run(works, on: writer) }
    }

    /// Runs `work` in the next group commit and returns its outcome once that commit is durable.
    func submit(_ work: @escaping Work) async throws -> Outcome {
        try await queue.submit(work)
    }

    /// ``submit(_:)`` with a completion handler, called once the commit is durable: for callers
    /// outside Swift concurrency, the submits answered on NIO's event loop (``SubmitFastPath``).
    func submit(_ work: @escaping Work, completion: @escaping Completion) {
        queue.submit(work, completion: completion)
    }

    private static func run(_ works: [Work], on writer: any DatabaseWriter) async -> [Result<Outcome, any Error>] {
        do {
            return try await writer.write { db in try works.map { .success(try $0(db)) } }
        } catch let error as DatabaseError where error.isFatalToTransaction {
            return works.map { _ in .failure(error) }
        } catch {
            // Some write was refused: the whole transaction rolled back; isolate each one.
            do {
                return try await writer.write { db in try works.map { try Self.isolated($0, db) } }
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

extension DatabaseError {
    /// Errors after which the surrounding transaction cannot go on (disk full, I/O, corruption).
    var isFatalToTransaction: Bool {
        switch resultCode {
        case .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CORRUPT, .SQLITE_NOMEM, .SQLITE_BUSY, .SQLITE_LOCKED: true
        default: false
        }
    }
}
