import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

/// Checks what every successful Suno answer carries, whichever path wrote it, and returns its JSON.
func sunoAnswer(_ answer: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    #expect(answer.status == .ok, sourceLocation: sourceLocation)
    #expect(answer.headers[.contentType] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
    #expect(answer.headers[.contentLength] == String(answer.body.readableBytes), sourceLocation: sourceLocation)
    #expect(answer.headers[.server] == "MediaJobs", sourceLocation: sourceLocation)
    #expect(answer.headers[.date]?.hasSuffix(" GMT") == true, sourceLocation: sourceLocation)
    let json = try answer.jsonObject()
    #expect(Set(json.keys) == ["code", "message", "data"], sourceLocation: sourceLocation)
    #expect(json["code"] as? Int == 200, sourceLocation: sourceLocation)
    return json
}
