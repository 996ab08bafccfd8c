import Testing

@testable import MediaJobs

@Suite struct TaskIDTests {
    @Test func idsCarryTheirKindAndAreWellFormed() {
        let music = TaskID.make(kind: .music)
        let image = TaskID.make(kind: .image)
        #expect(music.hasPrefix("suno_"))
        #expect(image.hasPrefix("img_"))
        #expect(TaskID.kind(of: music) == .music)
        #expect(TaskID.kind(of: image) == .image)
        #expect(TaskID.kind(of: "suno_short") == nil)
        #expect(TaskID.kind(of: "nope") == nil)
    }

    @Test func idsSortByCreationTime() {
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = (0..<50).map { TaskID.make(kind: .music, at: base.addingTimeInterval(Double($0) * 0.01)) }
        #expect(ids == ids.sorted())
    }

    @Test func idsAreUnique() {
        let ids = Set((0..<10_000).map { _ in TaskID.make(kind: .image) })
        #expect(ids.count == 10_000)
    }
}

import Foundation
