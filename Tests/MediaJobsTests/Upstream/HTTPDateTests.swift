import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

@Suite struct HTTPDateTests {
    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 784_111_777.9)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        let now = Date()
        #expect(HTTPDate.parse(HTTPDate.format(now))?.timeIntervalSince1970 == now.timeIntervalSince1970.rounded(.down))
    }

    @Test func theCurrentDateIsTheClockSecond() throws {
        let before = Date().timeIntervalSince1970.rounded(.down)
        let stamped = try #require(HTTPDate.parse(HTTPDate.now())).timeIntervalSince1970
        let after = Date().timeIntervalSince1970.rounded(.down)
        #expect(stamped >= before && stamped <= after)
        #expect(HTTPDate.now() == HTTPDate.now() || Date().timeIntervalSince1970.rounded(.down) > after)
    }
}
