import Foundation
import GRDB
import Testing

@testable import MediaJobs

@Suite struct WebhookSignerTests {
    /// The Standard Webhooks reference vector (also what the official Python library computes).
    @Test func matchesTheStandardWebhooksVector() throws {
        let secret = try #require(WebhookSecret(parsing: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSigner(secrets: [secret]).signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func rotationSignsWithEverySecret() {
        let current = WebhookSecret.generate()
        let previous = WebhookSecret.generate()
        let both = WebhookSigner(secrets: [current, previous]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3])
        let parts = both.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == WebhookSigner(secrets: [current]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3]))
        #expect(parts[1] == WebhookSigner(secrets: [previous]).signature(id: "msg_1", timestamp: 1, body: [1, 2, 3]))
    }

    @Test func secretsRoundTripAndNeverPrint() throws {
        let secret = WebhookSecret.generate()
        #expect(WebhookSecret(parsing: secret.encoded) == secret)
        #expect(!"\(secret)".contains(secret.encoded))
        #expect(WebhookSecret(parsing: "whsec_c2hvcnQ=") == nil)  // too short to be a key
        #expect(WebhookSecret(parsing: "whsec_!!!") == nil)
    }

    @Test func generatedSecretIsKeptInTheDataDirectory() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let (first, created) = try WebhookSecret.loadOrCreate(at: file)
        let (second, createdAgain) = try WebhookSecret.loadOrCreate(at: file)
        #expect(created && !createdAgain)
        #expect(first == second)
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}

@Suite struct WebhookEndpointTests {
    @Test func parsesFiltersFromTheFragment() throws {
        let all = try #require(WebhookEndpoint(parsing: "https://a.example/hook"))
        #expect(all.events == nil && all.accepts(.completed))
        let some = try #require(WebhookEndpoint(parsing: "https://a.example/hook#task.failed+task.canceled"))
        #expect(some.url == "https://a.example/hook")
        #expect(!some.accepts(.completed) && some.accepts(.failed) && some.accepts(.canceled))
        #expect(WebhookEndpoint(parsing: "https://a.example/hook#task.exploded") == nil)
        #expect(WebhookEndpoint(parsing: "") == nil)
    }
}

/// The outbox: events are written with the terminal update, and only then.
@Suite struct WebhookOutboxTests {
    let now = Date()

    func makeStore(endpoints: [WebhookEndpoint] = []) throws -> (SQLiteTaskStore, WebhookStore) {
        var store = try SQLiteTaskStore.inMemory()
        store.terminalHook = WebhookOutbox(endpoints: endpoints, publicURLs: PublicURLs(baseURL: "http://files.test"), signal: WorkSignal()).terminalHook
        return (store, WebhookStore(writer: store.writer))
    }

    func finishedTask(_ store: SQLiteTaskStore, callback: String?, fail: Bool = false) async throws -> MediaTask {
        var task = MediaTask(request: .music(MusicRequest(prompt: "x")), deadline: .seconds(60))
        task.callbackURL = callback
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: Date())
        if fail {
            return try await store.advance(taskID: task.id, from: .queued, owner: "w", change: .fail("boom"), now: Date())
        }
        try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing, .downloading]), now: Date())
        _ = try await store.claim(.downloading, owner: "w", lease: .seconds(30), limit: 1, now: Date())
        return try await store.advance(taskID: task.id, from: .downloading, owner: "w", change: TaskChange(path: [.completed]), now: Date())
    }

    @Test func terminalTaskWritesOneEventPerEndpoint() async throws {
        let (store, webhooks) = try makeStore(endpoints: [WebhookEndpoint(url: "https://global.example/a"), WebhookEndpoint(url: "https://global.example/f", events: [.failed])])
        let task = try await finishedTask(store, callback: "https://client.example/cb")
        let rows = try await webhooks.list(.all)
        #expect(Set(rows.map(\.endpointURL)) == ["https://client.example/cb", "https://global.example/a"])
        #expect(Set(rows.map(\.eventID)).count == 1)
        #expect(rows.allSatisfy { $0.status == .pending && $0.taskID == task.id && $0.eventType == "task.completed" })

        let jobs = try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 10, now: Date())
        let body = try JSONSerialization.jsonObject(with: Data(try #require(jobs.first).payload)) as? [String: Any]
        #expect(body?["type"] as? String == "task.completed")
        #expect((body?["data"] as? [String: Any])?["id"] as? String == task.id)
        #expect((body?["data"] as? [String: Any])?["status"] as? String == "completed")
    }

    @Test func nonTerminalChangesWriteNothing() async throws {
        let (store, webhooks) = try makeStore(endpoints: [WebhookEndpoint(url: "https://global.example/a")])
        let task = MediaTask(request: .music(MusicRequest(prompt: "x")), deadline: .seconds(60))
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: Date())
        try await store.advance(taskID: task.id, from: .queued, owner: "w", change: TaskChange(path: [.processing], upstreamID: "u"), now: Date())
        #expect(try await webhooks.list(.all).isEmpty)
        _ = try await store.cancel(taskID: task.id, now: Date())
        #expect(try await webhooks.list(.all).map(\.eventType) == ["task.canceled"])
    }

    @Test func aFailingOutboxRollsTheTerminalUpdateBack() async throws {
        var store = try SQLiteTaskStore.inMemory()
        store.terminalHook = { _, _ in throw CancellationError() }
        let task = MediaTask(request: .music(MusicRequest(prompt: "x")), deadline: .seconds(60))
        try await store.insert(task)
        _ = try await store.claim(.queued, owner: "w", lease: .seconds(30), limit: 1, now: Date())
        await #expect(throws: CancellationError.self) {
            try await store.advance(taskID: task.id, from: .queued, owner: "w", change: .fail("x"), now: Date())
        }
        #expect(try await store.task(id: task.id)?.status == .queued)
    }

    @Test func attemptsRetryThenDeadLetterThenRedeliver() async throws {
        let (store, webhooks) = try makeStore()
        _ = try await finishedTask(store, callback: "https://client.example/cb", fail: true)
        var job = try #require(try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: Date()).first)
        #expect(job.delivery.eventType == "task.failed")
        #expect(try await webhooks.claim(owner: "other", lease: .seconds(30), limit: 1, now: Date()).isEmpty)
        try await webhooks.record(.retry(status: 500, error: "500", next: Date().addingTimeInterval(60)), deliveryID: job.delivery.id, owner: "d", now: Date())
        #expect(try await webhooks.list(.failed).count == 1)
        #expect(try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: Date()).isEmpty)
        job = try #require(try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: Date().addingTimeInterval(61)).first)
        try await webhooks.record(.dead(status: nil, error: "refused"), deliveryID: job.delivery.id, owner: "d", now: Date())
        let dead = try #require(try await webhooks.list(.dead).first)
        #expect(dead.attempts == 2 && dead.lastError == "refused")
        #expect(try await webhooks.redeliverAllDead() == 1)
        let again = try #require(try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: Date()).first)
        #expect(again.delivery.eventID == dead.eventID)
        try await webhooks.record(.delivered(status: 204), deliveryID: again.delivery.id, owner: "d", now: Date())
        #expect(try await webhooks.counts()[.delivered] == 1)
    }

    @Test func goneEndpointIsDisabledForLaterEvents() async throws {
        let (store, webhooks) = try makeStore()
        _ = try await finishedTask(store, callback: "https://gone.example/cb")
        let job = try #require(try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: Date()).first)
        try await webhooks.record(.endpointGone(url: "https://gone.example/cb"), deliveryID: job.delivery.id, owner: "d", now: Date())
        #expect(try await webhooks.list(.disabled).count == 1)
        _ = try await finishedTask(store, callback: "https://gone.example/cb")
        #expect(try await webhooks.list(.pending).isEmpty)
    }
}
