import Foundation
import Synchronization
import Testing

@testable import MediaJobs

@Suite struct PruneRuleTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func candidate(_ daysAgo: Double, _ bytes: Int64) -> PruneCandidate {
        PruneCandidate(taskID: "t", index: 0, fileName: "0.wav", kind: .music, bytes: bytes, createdAt: now.addingTimeInterval(-daysAgo * 86_400))
    }

    @Test func takesExpiredThenEnoughToCoverTheExcess() {
        let candidates = [candidate(40, 10), candidate(35, 10), candidate(20, 10), candidate(10, 10), candidate(5, 10)]
        let cutoff = now.addingTimeInterval(-30 * 86_400)
        #expect(PruneRule(cutoff: cutoff, excessBytes: 0).accepted(candidates) == 2)
        #expect(PruneRule(cutoff: cutoff, excessBytes: 25).accepted(candidates) == 3)
        #expect(PruneRule(cutoff: nil, excessBytes: 1).accepted(candidates) == 1)
        #expect(PruneRule(cutoff: nil, excessBytes: 0).accepted(candidates) == 0)
        #expect(PruneRule(cutoff: nil, excessBytes: 1_000).accepted(candidates) == 5)
        #expect(PruneRule(cutoff: nil, excessBytes: 25).after([candidates[0]]).excessBytes == 15)
    }
}
