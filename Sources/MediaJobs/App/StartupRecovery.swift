import Foundation
import Logging

/// What `serve` does before it takes work, so that a crash (even `kill -9`) at any point is
/// followed by a clean start: half-written downloads removed, interrupted work made due again,
/// interrupted prunes finished.
struct StartupRecovery {
    let stores: Stores
    let storage: any ArtifactStore
    let dataDirectory: URL
    let logger: Logger

    func run() async throws {
        // With PostgreSQL the media directory may be shared with live instances: their leases are
        // not this start's to clear (expired leases simply make tasks due again), and the storage
        // cleans only this instance's and dead instances' temporary folders.
        guard let singleNode = stores.singleNode else {
            let leftovers = try await storage.removeLeftoverTemporaryFiles()
            logger.info("shared database: no single-node recovery", metadata: ["data.dir": "\(dataDirectory.path)", "temp.removed": "\(leftovers)"])
            try await finishInterruptedPrunes()
            return
        }
        let leftovers = try await storage.removeLeftoverTemporaryFiles()
        // Single node: the data-directory lock proves no other server holds any lease.
        let unfinished = try await singleNode.recoverSingleNodeAfterRestart(now: Date())
        logger.info(
            "data directory ready",
            metadata: ["data.dir": "\(dataDirectory.path)", "tasks.unfinished": "\(unfinished)", "temp.removed": "\(leftovers)"])
        try await finishInterruptedPrunes()
    }

    /// Deletes the files of prunes that committed but did not finish removing them.
    private func finishInterruptedPrunes() async throws {
        let interrupted = try await Pruner(store: stores.tasks, storage: storage, logger: logger).finishFileRemovals()
        if interrupted.processed > 0 {
            logger.notice("finished the file removals of an interrupted prune", metadata: ["files.deleted": "\(interrupted.deleted)"])
        }
    }
}
