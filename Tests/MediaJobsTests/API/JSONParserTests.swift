import Foundation
import NIOCore
import Testing

@testable import MediaJobs

@Suite struct JSONParserTests {
    /// Documents every JSON reader must accept; the parser must read each exactly as Foundation's
    /// `JSONDecoder` (the reader it replaced) does.
    static let valid = [
        "{}", "[]", " \n\t{ } \r\n", #""text""#, "12", "-0", "0.5", "-2.5e3", "1E+2", "1e-2", "true", "false", "null",
        #"{"a":[1,-2.5e3,0,1E+2,true,false,null,"x"]}"#,
        #"{"escapes":"\"\\\/\b\f\n\r\t","unicode":"\u00e9\u4e2d\ud83d\ude00","raw":"é中😀"}"#,
        #"{"":"empty key","nested":{"deeper":{"deepest":[[],[{}]]}}}"#,
        #"{"prompt":"A dreamy lo-fi beat","style":"lo-fi","title":"Rainy Afternoon","make_instrumental":true}"#,
        #"[9007199254740993, 1.7976931348623157e308, 5e-324]"#,
    ]

    @Test(arguments: valid) func readsJSONAsFoundationDoes(_ text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test func decodesEscapesAndKeepsRawUTF8() throws {
        let value = try JSONParser.parse(#"{"a":"\u00e9\ud83d\ude00 \/ \"q\"","b":"é😀"}"#)
        #expect(value == .object(["a": .string("é😀 / \"q\""), "b": .string("é😀")]))
    }

    @Test func theLastOfRepeatedKeysCounts() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#) == .object(["a": .number(2)]))
    }

    /// Not JSON, each for its own reason.
    static let invalid: [[UInt8]] = [
        "", " ", "{", "}", "[", "{\"a\":}", "{\"a\" 1}", "{\"a\":1,}", "[1,]", "[,1]", "{a:1}", "{'a':1}", "01", "-01", "1.", ".5", "-", "1e",
        "1e+", "+1", "0x10", "NaN", "Infinity", "1e400", "tru", "nul", "falsey", "{} x", "[] []", "\"open", "\"bad \\x escape\"",
        "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"tab\there\"", "\"new\nline\"",
    ].map { Array($0.utf8) } + [
        [0x22, 0xFF, 0x22],  // "\xff": not UTF-8
        [0x22, 0xC3, 0x22],  // a truncated two-byte sequence
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
    ]

    @Test(arguments: invalid) func refusesWhatIsNotJSON(_ bytes: [UInt8]) {
        #expect(throws: JSONParser.Failure.self, "\(String(decoding: bytes, as: UTF8.self))") {
            try JSONParser.parse(ByteBuffer(bytes: bytes), maxDepth: 32)
        }
    }

    @Test func refusesDeepNestingBeforeReadingIt() throws {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParser.Failure.tooDeep) { try JSONParser.parse(ByteBuffer(string: deep), maxDepth: 32) }
        let allowed = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(try JSONParser.parse(ByteBuffer(string: allowed), maxDepth: 32).depth == 32)
        // Far too deep to recurse through, and unterminated: refused at the limit, not by the stack.
        let hostile = String(repeating: #"{"a":["#, count: 100_000)
        #expect(throws: JSONParser.Failure.tooDeep) { try JSONParser.parse(ByteBuffer(string: hostile), maxDepth: 32) }
    }
}

@Suite struct JSONBodyFieldsTests {
    static let body = JSONRequestBody(maxBytes: 1 << 20)

    static func read<T: JSONBodyDecodable>(_ type: T.Type, _ text: String) throws -> T {
        try body.decode(type, from: ByteBuffer(string: text))
    }

    /// The 400 a body gets: its `code` and `message`.
    static func refusal<T: JSONBodyDecodable>(_ type: T.Type, _ text: String) -> (code: String, message: String)? {
        do {
            _ = try read(type, text)
            return nil
        } catch let error as APIError {
            #expect(error.status == .badRequest)
            return (error.code, error.message)
        } catch {
            return nil
        }
    }

    @Test func readsEveryFieldAndIgnoresUnknownOnes() throws {
        let music = try Self.read(
            MusicSubmitBody.self,
            #"{"prompt":"p","style":"s","title":"t","lyrics":"l","make_instrumental":true,"callback_url":"https://x.test/h","metadata":{"k":[1]},"extra":{"x":1}}"#)
        #expect(music.prompt == "p" && music.style == "s" && music.title == "t" && music.lyrics == "l")
        #expect(music.makeInstrumental == true && music.callbackURL == "https://x.test/h")
        #expect(music.metadata == .object(["k": .array([.number(1)])]))
        let image = try Self.read(ImageGenerationRequestBody.self, #"{"prompt":"p","n":2.0,"size":"64x64","image_size":"1K","response_format":"url"}"#)
        #expect(image.n == 2 && image.size == "64x64" && image.imageSize == "1K" && image.responseFormat == "url")
        #expect(try Self.read(BatchFetchBody.self, #"{"ids":["a","b"]}"#).ids == ["a", "b"])
    }

    @Test func nullReadsAsAbsent() throws {
        let music = try Self.read(MusicSubmitBody.self, #"{"prompt":null,"make_instrumental":null,"metadata":null}"#)
        #expect(music.prompt == nil && music.makeInstrumental == nil && music.metadata == nil)
    }

    @Test func wrongTypesNameTheField() {
        #expect(Self.refusal(MusicSubmitBody.self, #"{"prompt":123}"#)?.message == "'prompt' must be a string")
        #expect(Self.refusal(MusicSubmitBody.self, #"{"prompt":"x","make_instrumental":"yes"}"#)?.message == "'make_instrumental' must be a boolean")
        #expect(Self.refusal(ImageGenerationRequestBody.self, #"{"prompt":"x","n":2.5}"#)?.message == "'n' must be an integer")
        #expect(Self.refusal(ImageGenerationRequestBody.self, #"{"prompt":"x","n":1e30}"#)?.message == "'n' must be an integer")
        #expect(Self.refusal(BatchFetchBody.self, #"{"ids":["a",1]}"#)?.message == "'ids' must be an array of strings")
        #expect(Self.refusal(MusicSubmitBody.self, #"{"prompt":"x"}"#) == nil)
    }

    @Test func bodiesThatAreNotAnObjectAreRefused() {
        #expect(Self.refusal(MusicSubmitBody.self, "")?.code == "invalid_json")
        #expect(Self.refusal(MusicSubmitBody.self, "[1]")?.message == "the request body must be a JSON object")
        #expect(Self.refusal(MusicSubmitBody.self, #"{"prompt":"x""#)?.message.hasPrefix("the request body is not valid JSON") == true)
        #expect(Self.refusal(MusicSubmitBody.self, String(repeating: "[", count: 40))?.message == "the JSON body is nested deeper than 32 levels")
    }
}
