import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on the data directory held for the life of `serve`.
///
/// Recovery at start releases every lease, which is only safe when no other server works on the
/// same database; the kernel drops the lock when the process dies, even by `kill -9`.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock or throws if another server holds it.
    public init(directory: URL) throws {
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
