import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import Testing

@testable import MediaJobs

/// Poll answers are read by hand from parsed JSON; these are the shapes the scripted providers
/// of ``ApiTopMixClientTests`` and ``ApiTopMixVideoTests`` do not show, each read as it was when
/// the answers went through `Decodable`.
@Suite struct PollAnswerReadingTests {
    /// A provider that answers a music or video poll of `id` with `answers[id]`, as is.
    static func provider(_ answers: [String: String]) -> Router<BasicRequestContext> {
        let router = Router()
        @Sendable func answer(_ request: Request, _ context: BasicRequestContext) throws -> Response {
            guard let answer = answers[try context.parameters.require("id")] else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        router.get("suno/fetch/{id}", use: answer)
        router.get("v1/videos/{id}", use: answer)
        return router
    }

    /// What polling each id of `answers` gives.
    static func outcomes(_ kind: TaskKind, _ answers: [String: String]) async throws -> [String: Result<UpstreamProgress, UpstreamError>] {
        let results = Mutex<[String: Result<UpstreamProgress, UpstreamError>]>([:])
        try await ApiTopMixClientTests.withClient(router: provider(answers)) { client in
            for id in answers.keys {
                let result: Result<UpstreamProgress, UpstreamError>
                do throws(UpstreamError) { result = .success(try await client.poll(kind: kind, upstreamID: id)) } catch { result = .failure(error) }
                results.withLock { $0[id] = result }
            }
        }
        return results.withLock { $0 }
    }

    /// An answer the client could not read (not one it read and found wanting).
    static func isUnreadable(_ result: Result<UpstreamProgress, UpstreamError>?) -> Bool {
        guard case .failure(.invalidResponse(let message))? = result else { return false }
        return message.hasPrefix("GET /")
    }

    @Test func musicProgressIsAnyNumberOrNone() async throws {
        let outcomes = try await Self.outcomes(.music, [
            "fraction": #"{"code":200,"data":{"status":"processing","progress":0.25}}"#,
            "whole": #"{"code":200,"data":{"status":"processing","progress":42}}"#,
            "text": #"{"code":200,"data":{"status":"processing","progress":" 42 "}}"#,
            "percent": #"{"code":200,"data":{"status":"processing","progress":"0.5%"}}"#,
            "over": #"{"code":200,"data":{"status":"processing","progress":250}}"#,
            "words": #"{"code":200,"data":{"status":"processing","progress":"running"}}"#,
            "flag": #"{"code":200,"data":{"status":"processing","progress":true}}"#,
            "object": #"{"code":200,"data":{"status":"processing","progress":{"value":3}}}"#,
            "null": #"{"code":200,"data":{"status":"processing","progress":null}}"#,
            "absent": #"{"code":200,"data":{"status":"processing"}}"#,
            "nostatus": #"{"code":200,"data":{"progress":"7%"}}"#,
        ])
        #expect(outcomes["fraction"] == .success(.pending(progress: 25)))
        #expect(outcomes["whole"] == .success(.pending(progress: 42)))
        #expect(outcomes["text"] == .success(.pending(progress: 42)))
        // With a `%` sign it is a percentage, however small.
        #expect(outcomes["percent"] == .success(.pending(progress: 0)))
        #expect(outcomes["over"] == .success(.pending(progress: 100)))
        // A progress that is no number is no figure, never an unreadable answer.
        for id in ["words", "flag", "object", "null", "absent"] {
            #expect(outcomes[id] == .success(.pending(progress: nil)), "\(id)")
        }
        #expect(outcomes["nostatus"] == .success(.pending(progress: 7)))
    }

    @Test func musicTracksKeepTheirDetails() async throws {
        let outcomes = try await Self.outcomes(.music, [
            "full": #"""
                {"code":200,"message":"success","data":{"task_id":"t","status":"complete","tracks":[
                  {"title":"Rain","audio_url":"http://cdn/a.mp3","image_url":"http://cdn/a.png","duration":61.5,"style":"lo-fi","extra":[1]},
                  {"audio_url":"http://cdn/b.mp3","duration":null,"style":null},
                  {"audio_url":"","title":"skipped"}]}}
                """#,
            "percentduration": #"{"code":200,"data":{"status":"success","tracks":[{"audio_url":"http://cdn/c.mp3","duration":"12%"}]}}"#,
            "notracks": #"{"code":200,"data":{"status":"succeeded"}}"#,
            "nulltracks": #"{"code":200,"data":{"status":"succeeded","tracks":null}}"#,
        ])
        #expect(outcomes["full"] == .success(.completed(outputs: [
            UpstreamOutput(url: "http://cdn/a.mp3", title: "Rain", duration: 61.5, style: "lo-fi", imageURL: "http://cdn/a.png"),
            UpstreamOutput(url: "http://cdn/b.mp3"),
        ])))
        #expect(outcomes["percentduration"] == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/c.mp3", duration: 12)])))
        #expect(outcomes["notracks"] == .failure(.invalidResponse("completed without any audio_url")))
        #expect(outcomes["nulltracks"] == .failure(.invalidResponse("completed without any audio_url")))
    }

    @Test func musicFailureWithoutAReasonGetsOne() async throws {
        let outcomes = try await Self.outcomes(.music, [
            "blank": #"{"code":200,"data":{"status":"error","fail_reason":""}}"#,
            "null": #"{"code":200,"data":{"status":"fail","fail_reason":null}}"#,
        ])
        #expect(outcomes["blank"] == .success(.failed(reason: "the upstream provider reported a failure")))
        #expect(outcomes["null"] == .success(.failed(reason: "the upstream provider reported a failure")))
    }

    @Test func musicEnvelopeAndFieldsOfTheWrongTypeAreUnreadable() async throws {
        let outcomes = try await Self.outcomes(.music, [
            "array": #"[{"code":200}]"#,
            "codetext": #"{"code":"200","data":{"status":"processing"}}"#,
            "codefraction": #"{"code":200.5,"data":{"status":"processing"}}"#,
            "messagenumber": #"{"code":200,"message":1,"data":{"status":"processing"}}"#,
            "datatext": #"{"code":200,"data":"processing"}"#,
            "statusnumber": #"{"code":200,"data":{"status":1}}"#,
            "reasonnumber": #"{"code":200,"data":{"status":"failed","fail_reason":500}}"#,
            "tracksobject": #"{"code":200,"data":{"status":"completed","tracks":{"audio_url":"http://cdn/a.mp3"}}}"#,
            "tracknull": #"{"code":200,"data":{"status":"completed","tracks":[null]}}"#,
            "urlnumber": #"{"code":200,"data":{"status":"completed","tracks":[{"audio_url":7}]}}"#,
            "durationwords": #"{"code":200,"data":{"status":"completed","tracks":[{"audio_url":"http://cdn/a.mp3","duration":"long"}]}}"#,
            "durationflag": #"{"code":200,"data":{"status":"completed","tracks":[{"audio_url":"http://cdn/a.mp3","duration":false}]}}"#,
            "trailing": #"{"code":200,"data":{"status":"processing"}} x"#,
            "empty": "",
        ])
        for (id, outcome) in outcomes {
            #expect(Self.isUnreadable(outcome), "\(id): \(outcome)")
        }
    }

    @Test func musicAnswersWithoutDataAreUnreadable() async throws {
        let outcomes = try await Self.outcomes(.music, [
            "absent": #"{"code":200,"message":"success"}"#,
            "null": #"{"code":200,"data":null}"#,
        ])
        #expect(outcomes["absent"] == .failure(.invalidResponse("fetch answer has no data")))
        #expect(outcomes["null"] == .failure(.invalidResponse("fetch answer has no data")))
    }

    @Test func musicEnvelopeAcceptsWhatDecodableAccepted() async throws {
        let outcomes = try await Self.outcomes(.music, [
            // A whole number written as a fraction or with an exponent is still an integer code.
            "codefloat": #"{"code":200.0,"message":null,"data":{"status":"processing"}}"#,
            "codeexponent": #"{"code":2e2,"data":{"status":"processing"}}"#,
            "nocode": #"{"data":{"status":"processing"}}"#,
            "spaced": " \n{ \"data\" : { \"status\" : \"processing\" } }\n",
            "bom": "\u{FEFF}" + #"{"code":200,"data":{"status":"processing"}}"#,
        ])
        for (id, outcome) in outcomes {
            #expect(outcome == .success(.pending(progress: nil)), "\(id)")
        }
    }

    @Test func videoAnswersOfTheWrongShapeAreUnreadable() async throws {
        let outcomes = try await Self.outcomes(.video, [
            "datatext": #"{"code":"success","data":"SUCCESS"}"#,
            // The top level would do, but `data` is there and cannot be read as a status.
            "nestedbad": #"{"status":"SUCCESS","data":{"output":"http://cdn/v.mp4","fail_reason":5}}"#,
            "outputnumber": #"{"code":"success","data":{"status":"SUCCESS","data":{"output":1}}}"#,
            "outputtext": #"{"code":"success","data":{"status":"SUCCESS","data":"http://cdn/v.mp4"}}"#,
            "statusnumber": #"{"code":"success","data":{"status":200}}"#,
            "notjson": "SUCCESS",
        ])
        for (id, outcome) in outcomes {
            #expect(Self.isUnreadable(outcome), "\(id): \(outcome)")
        }
    }

    @Test func videoReadsTheTopLevelWhenDataHasNoStatus() async throws {
        let outcomes = try await Self.outcomes(.video, [
            "nulldata": #"{"status":"IN_PROGRESS","progress":0.5,"data":null}"#,
            "nostatus": #"{"status":"FAILURE","fail_reason":"top","data":{"fail_reason":"nested"}}"#,
            "empty": "{}",
            // Any `code`, as the provider writes it: it is not read.
            "code": #"{"code":{"x":1},"data":{"status":"SUCCESS","data":{"output":"http://cdn/v.mp4","thumbnail":""}}}"#,
        ])
        #expect(outcomes["nulldata"] == .success(.pending(progress: 50)))
        #expect(outcomes["nostatus"] == .success(.failed(reason: "top")))
        #expect(outcomes["empty"] == .success(.pending(progress: nil)))
        #expect(outcomes["code"] == .success(.completed(outputs: [UpstreamOutput(url: "http://cdn/v.mp4")])))
    }
}
