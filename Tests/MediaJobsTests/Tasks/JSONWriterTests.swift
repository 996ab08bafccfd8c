import Foundation
import NIOCore
import Testing

@testable import MediaJobs

/// The hand-written JSON of the hot answers must parse to what `JSONEncoder` would have produced.
@Suite struct JSONWriterTests {
    struct Sample: JSONWritable {
        var text: String?
        var count: Int
        var big: Int64?
        var ratio: Double?
        var flag: Bool
        var items: [Sample]

        func write(to json: inout JSONWriter) {
            json.object { json in
                json.field("text", text)
                json.field("count", count)
                json.field("big", big)
                json.field("ratio", ratio)
                json.field("flag", flag)
                json.field("items", items)
            }
        }
    }

    func parse(_ value: some JSONWritable) throws -> Any {
        let buffer = JSONWriter.buffer(value)
        return try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView), options: [.fragmentsAllowed])
    }

    static let awkwardStrings = [
        "", "plain", "quote \" backslash \\ slash /", "line\nbreak\rtab\tback\u{08}feed\u{0C}", "control \u{01}\u{1F}\u{7F}",
        "unicode é 漢字 🎵", "\u{2028}\u{2029}",
    ]

    @Test(arguments: awkwardStrings) func stringsRoundTrip(_ text: String) throws {
        let object = try #require(try parse(Sample(text: text, count: 1, flag: true, items: [])) as? [String: Any])
        #expect(object["text"] as? String == text)
    }

    @Test func numbersNullsAndNesting() throws {
        let inner = Sample(text: nil, count: -7, big: Int64.min, ratio: 0.1, flag: false, items: [])
        let outer = Sample(text: "x", count: Int.max, big: nil, ratio: 12, flag: true, items: [inner, inner])
        let text = String(buffer: JSONWriter.buffer(outer))
        // Integral doubles as integers, like JSONEncoder; nulls written, not left out.
        #expect(text.hasPrefix(#"{"text":"x","count":9223372036854775807,"big":null,"ratio":12,"flag":true,"items":[{"text":null,"count":-7"#))
        #expect(text.contains(#""big":-9223372036854775808,"ratio":0.1,"flag":false,"items":[]}"#))
        let object = try #require(try parse(outer) as? [String: Any])
        #expect((object["items"] as? [Any])?.count == 2)
        #expect(String(buffer: JSONWriter.buffer(Sample(text: nil, count: 0, ratio: .nan, flag: false, items: []))).contains(#""ratio":null"#))
    }

    @Test func sunoAnswerMatchesJSONEncoderShape() throws {
        let task = SunoTask(
            taskID: "suno_1", status: "completed", progress: 100, failReason: nil, createdAt: 1_800_000_000, finishedAt: 1_800_000_042,
            tracks: [
                SunoTrack(
                    title: "Rain", audioURL: "http://127.0.0.1:8080/files/suno_1/0.wav", imageURL: nil, duration: 10, style: "lo-fi",
                    file: SunoFile(url: "http://127.0.0.1:8080/files/suno_1/0.wav", bytes: 5, sha256: "ab", contentType: "audio/wav", expired: false))
            ])
        let text = String(buffer: JSONWriter.buffer(SunoEnvelopeResponse(data: task)))
        #expect(
            text == #"{"code":200,"message":"success","data":{"task_id":"suno_1","status":"completed","progress":100,"fail_reason":null,"#
                + #""created_at":1800000000,"finished_at":1800000042,"tracks":[{"title":"Rain","audio_url":"http://127.0.0.1:8080/files/suno_1/0.wav","#
                + #""image_url":null,"duration":10,"style":"lo-fi","file":{"url":"http://127.0.0.1:8080/files/suno_1/0.wav","bytes":5,"sha256":"ab","#
                + #""content_type":"audio/wav","expired":false}}]}}"#)
    }
}
