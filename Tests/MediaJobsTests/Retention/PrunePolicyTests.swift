import Foundation
import Synchronization
import Testing

@testable import MediaJobs

@Suite struct PrunePolicyTests {
    @Test func parsesTheWrittenOptions() throws {
        let policy = try PrunePolicy(olderThan: "30d", maxTotalSize: "50GB", kind: "music", deleteTasksOlderThan: "180d")
        #expect(policy == PrunePolicy(
            maxAge: .seconds(30 * 86_400), maxTotalSize: ByteCount(bytes: 50_000_000_000), kind: .music, deleteTasksOlderThan: .seconds(180 * 86_400)))
        #expect(try PrunePolicy(olderThan: nil, maxTotalSize: nil, kind: nil, deleteTasksOlderThan: nil).isEmpty)
    }

    @Test func namesTheOptionAtFault() throws {
        #expect(throws: RetentionError.invalidOption(.olderThan, "must be a duration such as 12h or 30d, got 'soon'")) {
            try PrunePolicy(olderThan: "soon", maxTotalSize: nil, kind: nil, deleteTasksOlderThan: nil)
        }
        #expect(throws: RetentionError.self) { try PrunePolicy(olderThan: nil, maxTotalSize: "big", kind: nil, deleteTasksOlderThan: nil) }
        #expect(throws: RetentionError.self) { try PrunePolicy(olderThan: nil, maxTotalSize: nil, kind: "podcast", deleteTasksOlderThan: nil) }
        #expect(try PrunePolicy(olderThan: "1d", maxTotalSize: nil, kind: "video", deleteTasksOlderThan: nil).kind == .video)
    }
}
