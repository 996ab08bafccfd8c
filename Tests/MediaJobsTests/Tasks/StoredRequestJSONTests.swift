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
        #expect(try MusicRequest(stored: JSONWriter.string(request)) == request)
    }

    /// Stored texts, some written by older versions or by hand, that `JSONDecoder` read or refused.
    static let storedTexts = [
        #"{"make_instrumental":false,"prompt":"p"}"#,
        #"{"prompt":"p","make_instrumental":true,"style":null,"title":null,"lyrics":null,"extra":{"x":[1]}}"#,
        #"{"lyrics":"l\nl","make_instrumental":false,"prompt":"\u00e9 \ud83c\udfb5","style":"s","title":"t"}"#,
        #"{"prompt":"p"}"#,
        #"{"make_instrumental":false}"#,
        #"{"prompt":null,"make_instrumental":false}"#,
        #"{"prompt":"p","make_instrumental":null}"#,
        #"{"prompt":1,"make_instrumental":false}"#,
        #"{"prompt":"p","make_instrumental":0}"#,
        #"{"prompt":"p","make_instrumental":"true"}"#,
        #"{"prompt":"p","make_instrumental":false,"title":5}"#,
        #"["p"]"#,
        #"{"prompt":"p","make_instrumental":false"#,
        "",
    ]

    @Test(arguments: storedTexts) func readsWhatJSONDecoderRead(_ text: String) {
        let decoded = try? JSONCoding.decode(MusicRequest.self, from: text)
        let read = try? MusicRequest(stored: text)
        #expect(read == decoded)
    }
}
