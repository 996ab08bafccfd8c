import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on the data directory, held while `serve` has its SQLite database open
/// (``SQLiteStore/openForServing(dataDirectory:outbox:)``).
///
/// Recovery at start (``SQLiteStore/recoverSingleNodeAfterRestart(now:)``) releases every lease,
/// which is only safe when no other server works on the same database. Operator commands open the
/// database beside a running server and never take it. The kernel drops the lock when the process
/// dies, even by `kill -9`.
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or throws if another server holds it.
    init(directory: URL) throws {
        let path = directory.appendingPathComponent("serve.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StartupError.dataDirectory("cannot open \(path): errno \(errno)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StartupError.dataDirectory("another mediajobs server is using \(directory.path)")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
