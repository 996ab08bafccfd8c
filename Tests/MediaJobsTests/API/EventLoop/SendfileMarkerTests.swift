import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

@Suite struct SendfileMarkerTests {
    @Test func roundTripsPathsWithSpaces() {
        let marker = SendfileMarker(path: "/data dir/media/suno_1/0.wav", first: 5, last: 99)
        #expect(SendfileMarker(headerValue: marker.headerValue) == marker)
    }

    @Test func rejectsMalformedValues() {
        for value in ["", "0-9", "0-9 relative/path", "9-0 /a", "-1-5 /a", "a-b /a", "0-9-10 /a"] {
            #expect(SendfileMarker(headerValue: value) == nil, "\(value)")
        }
    }
}
