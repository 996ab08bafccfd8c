import GRDB

/// Group commit for submits: every submit that arrives while a commit is running joins the next
/// one, so many tasks share one transaction and one fsync instead of paying one each.
///
/// Each submit runs in its own savepoint, so one refused submit (a reused idempotency key, a full
/// per-key quota) rolls back alone. With no load a submit commits at once, as before: batching
/// only happens while the previous commit is still in progress.
actor AcceptBatcher {
    typealias Work = @Sendable (Database) throws -> AcceptOutcome

    private let writer: any DatabaseWriter
    private var pending: [(work: Work, continuation: CheckedContinuation<AcceptOutcome, any Error>)] = []
    private var flushing = false

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in the next group commit and returns its outcome once that commit is durable.
    func submit(_ work: @escaping Work) async throws -> AcceptOutcome {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((work, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let works = batch.map(\.work)
            let results: [Result<AcceptOutcome, any Error>]
            do {
                results = try await writer.write { db in
                    try works.map { work in
                        var outcome: Result<AcceptOutcome, any Error> = .failure(CancellationError())
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
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            for (item, result) in zip(batch, results) {
                item.continuation.resume(with: result)
            }
        }
        flushing = false
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
