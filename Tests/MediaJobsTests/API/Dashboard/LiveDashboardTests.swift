import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@testable import MediaJobs

/// `/dashboard` over HTTP through the real assembly: off without an admin key, the sign-in and its
/// cookie, the form token, sign-out, and `/files` for a signed-in operator. (The pages in a real
/// browser: Tests/live/test_dashboard.py.)
@Suite struct LiveDashboardTests {
    static let adminKey = "dashboard-test-key"

    static func run(
        operators: OperatorSettings = OperatorSettings(adminKey: adminKey), configure: (inout ServiceConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, ServiceConfiguration) async throws -> Void
    ) async throws {
        try await LiveService.run(configure: { configuration in
            configuration.operators = operators
            configure(&configuration)
        }, body)
    }

    static func form(_ client: any TestClientProtocol, _ uri: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        return try await client.execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(string: body))
    }

    /// Signs in; the `Cookie` header value and the session's form token.
    static func signIn(_ client: any TestClientProtocol) async throws -> (cookie: String, token: String) {
        let response = try await form(client, "/dashboard/sign-in", "key=\(adminKey)")
        #expect(response.status == .seeOther)
        let setCookie = try #require(response.headers[.setCookie])
        let cookie = String(try #require(setCookie.split(separator: ";").first))
        let page = String(buffer: try await client.get("/dashboard", headers: [.cookie: cookie]).body)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return (cookie, String(page[start...].prefix(64)))
    }

    @Test func theDashboardIsOffWithoutAnAdminKey() async throws {
        try await Self.run(operators: OperatorSettings(), configure: { _ in }) { client, _ in
            let page = try await client.get("/dashboard")
            let script = try await client.get("/dashboard/assets/dashboard.js")
            let signIn = try await Self.form(client, "/dashboard/sign-in", "key=x")
            #expect([page.status, script.status, signIn.status] == [.notFound, .notFound, .notFound])
        }
    }

    @Test func signInWithTheKeyStartsASessionWithAStrictCookie() async throws {
        try await Self.run(configure: { $0.publicURL = "https://jobs.example.com" }) { client, _ in
            let page = try await client.get("/dashboard")
            #expect(page.status == .ok)
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe"))
            #expect(String(buffer: page.body).contains("type=\"password\""))

            let wrong = try await Self.form(client, "/dashboard/sign-in", "key=nope")
            #expect(String(buffer: wrong.body).contains("not valid"))
            #expect(wrong.headers[.setCookie] == nil)

            let right = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.adminKey)")
            #expect(right.status == .seeOther && right.headers[.location] == "/dashboard")
            let cookie = try #require(right.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] { #expect(cookie.contains(attribute), "\(attribute) in \(cookie)") }

            let foreign = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.adminKey)", headers: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
        }
    }

    @Test func repeatedWrongKeysFromOneAddressAreSlowedDown() async throws {
        // A first wait far longer than the test, so a slow machine cannot outlast it.
        var operators = OperatorSettings(adminKey: Self.adminKey)
        operators.dashboardFirstLoginWait = .seconds(3600)
        try await Self.run(operators: operators) { client, _ in
            for _ in 0..<5 {
                let wrong = try await Self.form(client, "/dashboard/sign-in", "key=guess")
                #expect(wrong.status == .ok && String(buffer: wrong.body).contains("not valid"))
            }
            // The sixth try within the wait is refused before the key is even compared, the right key included.
            let refused = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.adminKey)")
            #expect(refused.status == .tooManyRequests)
            #expect(String(buffer: refused.body).contains("try again in"))
            #expect(refused.headers[.setCookie] == nil)
        }
    }

    /// Guesses sent in parallel from one address cannot all pass the wait check before the first is
    /// counted: at most the free tries are compared with the key, every other one is 429.
    @Test func parallelWrongKeysGetNoMoreThanTheFreeTries() async throws {
        var operators = OperatorSettings(adminKey: Self.adminKey)
        operators.dashboardFirstLoginWait = .seconds(3600)
        let freeTries = operators.dashboardFreeLoginAttempts
        try await Self.run(operators: operators) { client, _ in
            let port = try #require(client.port)
            var configuration = HTTPClient.Configuration()
            // One connection per guess, so they really are handled at the same time.
            configuration.connectionPool = .init(idleTimeout: .seconds(10), concurrentHTTP1ConnectionsPerHostSoftLimit: 20)
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            do {
                let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                    for guess in 0..<20 {
                        group.addTask {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/dashboard/sign-in")
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                            request.body = .bytes(ByteBuffer(string: "key=guess-\(guess)"))
                            let response = try await http.execute(request, timeout: .seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            return response.status.code
                        }
                    }
                    return try await group.reduce(into: [UInt]()) { $0.append($1) }
                }
                #expect(statuses.count == 20)
                #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(statuses)")
                #expect(statuses.filter { $0 != 429 }.count <= freeTries, "\(statuses)")
                // The wrong keys compared were counted: once the free tries are used up, even the right key waits.
                let compared = statuses.filter { $0 == 200 }.count
                let after = try await Self.form(client, "/dashboard/sign-in", "key=\(Self.adminKey)")
                #expect(after.status == (compared == freeTries ? .tooManyRequests : .seeOther))
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test func actionsNeedTheFormTokenAndSignOutEndsTheSession() async throws {
        try await Self.run { client, _ in
            let (cookie, token) = try await Self.signIn(client)
            #expect(try await client.get("/dashboard/tasks", headers: [.cookie: cookie]).status == .ok)
            let forged = try await Self.form(client, "/dashboard/webhooks/redeliver-dead", "csrf=forged", headers: [.cookie: cookie])
            #expect(forged.status == .forbidden)
            let done = try await Self.form(client, "/dashboard/webhooks/redeliver-dead", "csrf=\(token)", headers: [.cookie: cookie])
            #expect(done.status == .ok && String(buffer: done.body).contains("0 dead deliveries scheduled again"))

            let out = try await Self.form(client, "/dashboard/sign-out", "csrf=\(token)", headers: [.cookie: cookie])
            #expect(out.status == .ok && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            let after = try await client.get("/dashboard/tasks", headers: [.cookie: cookie])
            #expect(after.status == .seeOther && after.headers[.location] == "/dashboard")
        }
    }

    @Test func aSignedInOperatorReadsEveryKeysFiles() async throws {
        try await Self.run(configure: { $0.apiKeys = [Redacted("client-key")] }) { client, _ in
            let key: HTTPFields = [.authorization: "Bearer client-key"]
            let submitted = try await client.post("/suno/submit/music", json: #"{"prompt":"lo-fi"}"#, headers: key).jsonObject()
            let id = try #require(value(submitted, "data.task_id") as? String)
            let done = try await client.poll("/suno/fetch/\(id)", headers: key) { value($0, "data.status") as? String == "completed" }
            let tracks = try #require(value(done, "data.tracks") as? [[String: Any]])
            let path = filePath(try #require(tracks.first?["audio_url"] as? String))
            #expect(try await client.get(path).status == .unauthorized, "no key, no session")
            let (cookie, _) = try await Self.signIn(client)
            #expect(try await client.get(path, headers: [.cookie: cookie]).status == .ok)
            #expect(try await client.get(path, headers: [.cookie: "mediajobs_session=forged"]).status == .unauthorized)
            let page = String(buffer: try await client.get("/dashboard/tasks/\(id)", headers: [.cookie: cookie]).body)
            #expect(page.contains("<audio controls preload=\"metadata\" src=\"\(path)\""))
        }
    }
}
