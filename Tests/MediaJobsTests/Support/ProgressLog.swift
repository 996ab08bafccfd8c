import Foundation
import Synchronization
import Testing

@testable import MediaJobs

/// Progress callbacks, collected from a `@Sendable` closure.
final class ProgressLog: Sendable {
    private let storage = Mutex<[PruneProgress]>([])
    func append(_ progress: PruneProgress) { storage.withLock { $0.append(progress) } }
    var values: [PruneProgress] { storage.withLock { $0 } }
}
