import Foundation
import NIOCore
import Testing

@testable import MediaJobs

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
