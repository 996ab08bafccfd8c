import Foundation
import Testing

@testable import MediaJobs

/// Presigned URLs reused only while they stay valid for the cache lifetime a redirect announces.
@Suite struct PresignedURLCacheTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aURLIsReusedWithinHalfTheMarginThenSignedAgain() {
        // 15 minutes valid, announced cacheable for 810 s: reused for 45 s.
        let cache = PresignedURLCache(validity: 900, maxAge: 810)
        #expect(cache.reuse == 45)
        var signed: [Date] = []
        func url(at seconds: TimeInterval, key: String = "media/t/0.wav") -> String {
            cache.url(for: key, now: start.addingTimeInterval(seconds)) { date in
                signed.append(date)
                return "u\(signed.count)"
            }
        }
        #expect(url(at: 0) == "u1")
        #expect(url(at: 44.9) == "u1", "what is left (855.1 s) still covers the 810 s announced")
        #expect(url(at: 45) == "u2")
        #expect(url(at: 46, key: "media/t/1.wav") == "u3", "each key its own URL")
        #expect(signed == [start, start.addingTimeInterval(45), start.addingTimeInterval(46)])
    }

    @Test func noMarginMeansNoReuse() {
        let cache = PresignedURLCache(validity: 60, maxAge: 60)
        var count = 0
        for _ in 0..<3 { _ = cache.url(for: "k", now: start) { _ in count += 1; return "u" } }
        #expect(count == 3)
    }

    @Test func aClockThatWentBackSignsAgain() {
        let cache = PresignedURLCache(validity: 900, maxAge: 810)
        _ = cache.url(for: "k", now: start) { _ in "early" }
        #expect(cache.url(for: "k", now: start.addingTimeInterval(-1)) { _ in "again" } == "again")
    }
}
