import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import MediaJobs

@Suite struct EventLoopRoutePathTests {
    @Test func takesOnlyPlainFilePaths() {
        #expect(EventLoopRoutes.plainSegments("/files/suno_1/0.wav", after: "/files/", count: 2) == ["suno_1", "0.wav"])
        #expect(EventLoopRoutes.plainSegments("/files/suno_1/0.wav?download=1", after: "/files/", count: 2) == ["suno_1", "0.wav"])
        for uri in ["/files/suno_1", "/files/suno_1/", "/files//0.wav", "/files/suno_1/0.wav/x", "/files/suno_1/%30.wav", "/files/../0.wav",
            "/files/suno_1/..", "/filesx/a/b", "/v1/tasks/a", "files/a/b", "/files/a/b#c"]
        {
            #expect(EventLoopRoutes.plainSegments(uri, after: "/files/", count: 2) == nil, "\(uri)")
        }
    }

    @Test func takesOnlyPlainTaskIDs() {
        #expect(EventLoopRoutes.plainSegments("/suno/fetch/suno_1", after: StatusFastPath.prefix, count: 1) == ["suno_1"])
        #expect(EventLoopRoutes.plainSegments("/suno/fetch/suno_1?x=%20", after: StatusFastPath.prefix, count: 1) == ["suno_1"])
        for uri in ["/suno/fetch/", "/suno/fetch", "/suno/fetch/a/b", "/suno/fetch/a/", "/suno/fetch/%61", "/suno/fetch/..", "/suno/fetchx/a", "/suno/fetch//a"] {
            #expect(EventLoopRoutes.plainSegments(uri, after: StatusFastPath.prefix, count: 1) == nil, "\(uri)")
        }
    }
}
