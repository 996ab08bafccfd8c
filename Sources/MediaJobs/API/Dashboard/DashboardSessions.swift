import Foundation
import Synchronization

/// The dashboard's signed-in sessions, kept in this process's memory: a random token in an
/// `HttpOnly` cookie names one, and it ends on sign-out or after `idle` without a request.
///
/// Memory is enough for one server; several instances behind one address need sticky sessions
/// (each instance knows only the sign-ins it answered).
final class DashboardSessions: Sendable {
    /// One signed-in browser.
    struct Session: Sendable, Equatable {
        /// The cookie's value.
        var token: String
        /// Sent back in every form: a cross-site page cannot read it, so cannot forge a post.
        var formToken: String
        var lastSeen: Date
    }

    /// How long a session lives without a request.
    let idle: Duration
    private let sessions = Mutex<[String: Session]>([:])

    init(idle: Duration) {
        self.idle = idle
    }

    /// Starts a session (after a correct admin key).
    func start(now: Date = Date()) -> Session {
        let session = Session(token: Self.randomToken(), formToken: Self.randomToken(), lastSeen: now)
        sessions.withLock { sessions in
            // Dropping expired sessions here bounds the table by sign-ins within one idle period.
            sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) < idle.timeInterval }
            sessions[session.token] = session
        }
        return session
    }

    /// The live session named by `token`, its idle clock restarted; nil (and forgotten) when it expired.
    func session(_ token: String?, now: Date = Date()) -> Session? {
        guard let token, !token.isEmpty else { return nil }
        return sessions.withLock { sessions in
            guard var session = sessions[token] else { return nil }
            guard now.timeIntervalSince(session.lastSeen) < idle.timeInterval else {
                sessions[token] = nil
                return nil
            }
            session.lastSeen = now
            sessions[token] = session
            return session
        }
    }

    /// Ends the session (sign-out); its cookie is worthless from now on.
    func end(_ token: String?) {
        guard let token else { return }
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// 32 random bytes from the system's CSPRNG, hex-encoded (valid in a cookie and a form field).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }
}
