import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Tells a live instance's temporary folder from a dead one's: each instance holds an exclusive
/// `flock(2)` on `<its folder>/.instance.lock` for as long as it runs. The kernel drops the lock
/// when the process ends, however it ends (`kill -9` included), so another instance that can take
/// the lock knows at once that the folder's owner is gone: no clock, no process ids (which mean
/// nothing across containers).
final class InstanceFolderLock: Sendable {
    static let fileName = ".instance.lock"

    private let descriptor = Mutex<Int32?>(nil)

    deinit {
        descriptor.withLock { if let fd = $0 { close(fd) } }
    }

    /// Takes the lock on `folder` (which exists) for the life of this object. The lock file is
    /// made and locked under a temporary name, then renamed into place: whoever sees
    /// `.instance.lock` sees a locked file.
    func hold(in folder: URL) throws {
        try descriptor.withLock { held in
            guard held == nil else { return }
            let staging = folder.appendingPathComponent("\(Self.fileName).\(UUID().uuidString.lowercased())").path
            let fd = open(staging, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: staging]) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0, rename(staging, folder.appendingPathComponent(Self.fileName).path) == 0 else {
                close(fd)
                unlink(staging)
                throw CocoaError(.fileLocking, userInfo: [NSFilePathErrorKey: staging])
            }
            held = fd
        }
    }

    /// Whether `folder`'s owner has ended: its lock file exists and nobody holds it. `nil` when the
    /// folder has no lock file (it is being set up, or was left by a version without one).
    static func ownerHasEnded(_ folder: URL) -> Bool? {
        let fd = open(folder.appendingPathComponent(fileName).path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }  // also drops the lock taken just to test it
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }
}
