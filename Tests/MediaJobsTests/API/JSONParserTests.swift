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
