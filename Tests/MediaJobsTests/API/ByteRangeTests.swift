import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

@Suite struct ByteRangeTests {
    @Test func resolvesAgainstTheFileSize() {
        #expect(ByteRange.resolve("bytes=0-43", size: 100) == .satisfiable(first: 0, last: 43))
        #expect(ByteRange.resolve("bytes=90-", size: 100) == .satisfiable(first: 90, last: 99))
        #expect(ByteRange.resolve("bytes=90-500", size: 100) == .satisfiable(first: 90, last: 99))
        #expect(ByteRange.resolve("bytes=-5", size: 100) == .satisfiable(first: 95, last: 99))
        #expect(ByteRange.resolve("bytes=-500", size: 100) == .satisfiable(first: 0, last: 99))
        #expect(ByteRange.resolve("bytes=100-", size: 100) == .unsatisfiable)
        #expect(ByteRange.resolve("bytes=99999999-100000000", size: 100) == .unsatisfiable)
        #expect(ByteRange.resolve("bytes=-0", size: 100) == .unsatisfiable)
        #expect(ByteRange.resolve("bytes=0-1,5-6", size: 100) == .ignore)
        #expect(ByteRange.resolve("items=0-1", size: 100) == .ignore)
        #expect(ByteRange.resolve("bytes=5-2", size: 100) == .ignore)
    }
}
