import Foundation
import NIOCore
import Testing

@testable import MediaJobs

/// The stored music request is written by hand; it must stay the text `JSONEncoder` wrote before.
@Suite struct StoredRequestJSONTests {
    static let requests = [
        MusicRequest(prompt: "rain"),
        MusicRequest(prompt: "a \"quoted\" prompt\nwith a line break and é 🎵", style: "lo-fi", title: "Rainy / Afternoon", lyrics: "la\tla", makeInstrumental: true),
        MusicRequest(prompt: "", style: nil, title: "t", lyrics: nil, makeInstrumental: false),
    ]

    @Test(arguments: requests) func sameTextAsJSONEncoder(_ request: MusicRequest) throws {
        #expect(JSONWriter.string(request) == (try JSONCoding.string(request)))
        #expect(try JSONCoding.decode(MusicRequest.self, from: JSONWriter.string(request)) == request)
    }
}
