import Foundation
import Testing

@testable import MediaJobs

@Suite struct DashboardSessionsTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aSessionLivesWhileUsedAndEndsAfterTheIdleTime() {
        let sessions = DashboardSessions(idle: .seconds(60))
        let session = sessions.start(now: start)
        #expect(session.token.count == 64 && session.formToken.count == 64 && session.token != session.formToken)
        #expect(sessions.session(session.token, now: start.addingTimeInterval(59))?.token == session.token)
        // Each request restarts the idle clock.
        #expect(sessions.session(session.token, now: start.addingTimeInterval(118)) != nil)
        #expect(sessions.session(session.token, now: start.addingTimeInterval(178)) == nil)
        #expect(sessions.session(session.token, now: start.addingTimeInterval(179)) == nil, "an expired session stays gone")
    }

    @Test func signOutEndsTheSessionAndUnknownTokensAreNone() {
        let sessions = DashboardSessions(idle: .seconds(60))
        let session = sessions.start(now: start)
        #expect(sessions.session(nil, now: start) == nil)
        #expect(sessions.session("", now: start) == nil)
        #expect(sessions.session(session.formToken, now: start) == nil, "the form token is not a session")
        sessions.end(session.token)
        #expect(sessions.session(session.token, now: start) == nil)
    }

    @Test func tokensDiffer() {
        #expect(Set((0..<100).map { _ in DashboardSessions.randomToken() }).count == 100)
    }
}
