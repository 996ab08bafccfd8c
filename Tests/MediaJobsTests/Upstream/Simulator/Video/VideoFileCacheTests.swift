import Synchronization
import Testing

@testable import MediaJobs

/// Each video is rendered once however many ask at once, and the cache stays within its byte budget.
@Suite struct VideoFileCacheTests {
    @Test func concurrentRequestsShareOneRender() async {
        let cache = VideoFileCache(byteLimit: 1 << 20)
        let renders = RenderCount()
        let results = await withTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await cache.file(named: "a.mp4") {
                        renders.value.add(1, ordering: .relaxed)
                        return [1, 2, 3]
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 20 && results.allSatisfy { $0 == [1, 2, 3] })
        #expect(renders.value.load(ordering: .relaxed) == 1)
        #expect(cache.bytes == 3)
    }

    @Test func theLeastRecentlyUsedFilesGoFirstPastTheBudget() async {
        let cache = VideoFileCache(byteLimit: 250)
        for name in ["a", "b"] { _ = await cache.file(named: name) { [UInt8](repeating: 1, count: 100) } }
        _ = await cache.file(named: "a") { [] }  // a used again: b is now the oldest
        _ = await cache.file(named: "c") { [UInt8](repeating: 2, count: 100) }
        #expect(cache.names == ["a", "c"])
        #expect(cache.bytes == 200)
        // A file bigger than the whole budget is still kept (it was just asked for), alone.
        _ = await cache.file(named: "big") { [UInt8](repeating: 3, count: 1000) }
        #expect(cache.names == ["big"])
    }

    @Test func anEmptyResultIsNotKept() async {
        let cache = VideoFileCache(byteLimit: 1000)
        #expect(await cache.file(named: "x") { [] } == [])
        #expect(cache.names.isEmpty)
        #expect(await cache.file(named: "x") { [7] } == [7])
    }
}

/// Counts renders from concurrent tasks (an `Atomic` cannot be captured by value).
private final class RenderCount: Sendable {
    let value = Atomic<Int>(0)
}
