import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import MediaJobs

/// One rendering of an error, whichever path writes it.
@Suite struct APIErrorRenderingTests {
    static var refusal: APIError {
        var error = APIError(status: .tooManyRequests, kind: .rateLimit, code: "too_many_active_tasks", message: "slow down")
        error.headers[.retryAfter] = "10"
        return error
    }

    @Test(arguments: [true, false]) func theRouterAndTheEventLoopWriteTheSameAnswer(sunoStyle: Bool) throws {
        let routed = Self.refusal.response(sunoStyle: sunoStyle)
        let onEventLoop = EventLoopRoutes.RouteAnswer.error(Self.refusal, sunoStyle: sunoStyle)
        #expect(Int(onEventLoop.status.code) == Int(routed.status.code))
        let body = try #require(onEventLoop.body)
        #expect(onEventLoop.headers["content-length"] == [String(body.readableBytes)])
        for field in routed.headers {
            #expect(onEventLoop.headers[field.name.rawName] == [field.value], "\(field.name)")
        }
        #expect(routed.body.contentLength == body.readableBytes)
        #expect(body == Self.refusal.rendered(sunoStyle: sunoStyle).body)

        let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])
        #expect((json["error"] as? [String: Any])?["code"] as? String == "too_many_active_tasks")
        #expect((json["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
        if sunoStyle {
            #expect(json["code"] as? Int == 429)
            #expect(json["message"] as? String == "slow down")
        } else {
            #expect(json["code"] == nil)
        }
    }

    @Test func theSunoVariantIsChosenByPath() {
        #expect(APIError.isSunoStyle(path: "/suno/submit/music"))
        #expect(APIError.isSunoStyle(path: "/suno/fetch/x"))
        #expect(!APIError.isSunoStyle(path: "/v1/images/generations"))
        #expect(!APIError.isSunoStyle(path: "/files/a/b"))
        #expect(!APIError.isSunoStyle(path: "/sunorise"))
    }
}
