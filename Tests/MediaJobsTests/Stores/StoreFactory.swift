import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import MediaJobs

/// Opens a fresh store of one kind for a contract test. A new store implementation joins the
/// contract suite (``StoreContractTests``) by adding a factory to ``all``, nothing else.
struct StoreFactory: Sendable, CustomTestStringConvertible {
    /// The opened stores, and whatever must live as long as they do (a temporary directory).
    typealias Opened = (tasks: any OperatorTaskStore, webhooks: any WebhookDeliveryStore, keepAlive: (any Sendable)?)

    let name: String
    let open: @Sendable (WebhookOutbox) async throws -> Opened

    var testDescription: String { name }

    /// Every store the contract runs against; PostgreSQL when `MEDIAJOBS_TEST_DATABASE_URL` names a
    /// database (scripts/test always starts one and sets it, so CI never skips it).
    static let all: [StoreFactory] = [sqliteFile, sqliteInMemory] + (postgres.map { [$0] } ?? [])

    /// SQLite in a file: a `DatabasePool` (WAL), status and file reads through the direct reader.
    static let sqliteFile = StoreFactory(name: "SQLite file") { outbox in
        let directory = TemporaryDirectory()
        let database = try SQLiteStore.openBesideServer(dataDirectory: directory.url, outbox: outbox)
        return (database.tasks, database.webhooks, directory)
    }

    /// SQLite in memory: a `DatabaseQueue`, every read through GRDB.
    static let sqliteInMemory = StoreFactory(name: "SQLite in memory") { outbox in
        let database = try SQLiteStore.inMemory(outbox: outbox)
        return (database.tasks, database.webhooks, nil)
    }

    /// PostgreSQL at `MEDIAJOBS_TEST_DATABASE_URL`, in a fresh schema per test.
    static let postgres: StoreFactory? = testDatabaseURL.map { url in
        StoreFactory(name: "PostgreSQL") { outbox in
            let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let client = try PostgresRun(url: url, schema: schema)
            try await client.client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
            let store = try await PostgresStore(client: client.client, outbox: outbox)
            return (store, store, client)
        }
    }

    /// The database the PostgreSQL tests use, if any (scripts/postgres-test-cluster sets it).
    static let testDatabaseURL = ProcessInfo.processInfo.environment["MEDIAJOBS_TEST_DATABASE_URL"]

    /// A fresh, empty store whose outbox sends every terminal event to `endpoints` (and to callbacks).
    func make(endpoints: [WebhookEndpoint] = []) async throws -> StoreUnderTest {
        let probe = OutboxProbe()
        let opened = try await open(probe.outbox(endpoints: endpoints))
        return StoreUnderTest(tasks: opened.tasks, webhooks: opened.webhooks, probe: probe, keepAlive: opened.keepAlive)
    }
}

/// A store under contract test, seen only through the protocols every store implements, with
/// helpers that lay out tasks the way workers and clients would.
struct StoreUnderTest: Sendable {
    let tasks: any OperatorTaskStore
    let webhooks: any WebhookDeliveryStore
    /// What the outbox rendered and woke.
    let probe: OutboxProbe
    let keepAlive: (any Sendable)?
    /// The tests' clock: every store call gets its time from here.
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func daysAgo(_ days: Double) -> Date {
        now.addingTimeInterval(-days * 86_400)
    }

    /// Stores a new queued task, due at its creation.
    @discardableResult
    func queued(
        _ kind: TaskKind = .music, createdAt: Date? = nil, owner: String? = nil, callback: String? = nil, prompt: String = "rain"
    ) async throws -> MediaTask {
        let request: TaskRequest =
            switch kind {
            case .music: .music(MusicRequest(prompt: prompt))
            case .image: .image(ImageRequest(model: "nano-banana-2", prompt: prompt))
            case .video: .video(VideoRequest(prompt: prompt, seconds: 4, resolution: .p720, aspectRatio: .portrait))
            }
        let task = MediaTask(request: request, callbackURL: callback, owner: owner, createdAt: createdAt ?? now, deadline: .seconds(1800))
        try await tasks.insert(task)
        return task
    }

    /// Leases `task`, which is due in `status`, to `owner` the way a worker's claim does, and
    /// returns the lease; other due tasks the claim took on the way are released again.
    @discardableResult
    func lease(_ task: MediaTask, in status: TaskStatus, owner: String = "w", for duration: Duration = .seconds(60)) async throws -> Lease {
        let claimed = try await tasks.claim(status, owner: owner, lease: duration, limit: 10_000, now: now)
        for other in claimed where other.id != task.id {
            _ = try await tasks.releaseLease(taskID: other.id, lease: try #require(other.lease))
        }
        let held = try #require(claimed.first { $0.id == task.id }, "\(task.id) is not claimable in \(status)")
        return try #require(held.lease)
    }

    /// An artifact of `task` at `index`.
    func artifact(of task: MediaTask, index: Int, bytes: Int64 = 100, createdAt: Date? = nil) -> TaskArtifact {
        TaskArtifact(
            taskID: task.id, index: index, fileName: "\(index).\(task.kind == .music ? "wav" : "png")",
            contentType: task.kind == .music ? "audio/wav" : "image/png", bytes: bytes, sha256: String(repeating: "0", count: 64),
            sourceURL: "http://upstream.test/\(task.id)/\(index)", createdAt: createdAt ?? now)
    }

    /// Moves a queued task to `status` through the state machine, as the workers (or a client's
    /// cancel) do; `files` (size, stored at) are saved while it downloads. A terminal step happens at
    /// `finishedAt` (default: now). Returns the task as stored afterwards, its lease released.
    @discardableResult
    func drive(
        _ task: MediaTask, to status: TaskStatus, files: [(bytes: Int64, storedAt: Date)] = [], finishedAt: Date? = nil
    ) async throws -> MediaTask {
        let end = finishedAt ?? now
        let downloads = !files.isEmpty || [.downloading, .completed].contains(status)
        switch status {
        case .queued:
            return task
        case .canceled:
            precondition(files.isEmpty, "a canceled task never stored a file")
            return try await tasks.cancel(taskID: task.id, now: end)
        case .processing:
            let held = try await lease(task, in: .queued)
            return try await tasks.advance(taskID: task.id, from: .queued, lease: held, change: TaskChange(path: [.processing], upstreamID: "up-\(task.id)"), now: now)
        case .failed where !downloads:
            let held = try await lease(task, in: .queued)
            return try await tasks.advance(taskID: task.id, from: .queued, lease: held, change: .fail("upstream said no"), now: end)
        case .downloading, .completed, .failed:
            let submitting = try await lease(task, in: .queued)
            let outputs = files.indices.map { UpstreamOutput(url: "http://upstream.test/\(task.id)/\($0)") }
            let downloading = try await tasks.advance(
                taskID: task.id, from: .queued, lease: submitting, change: TaskChange(path: [.processing, .downloading], upstreamID: "up-\(task.id)", upstreamOutputs: outputs),
                now: now)
            guard !files.isEmpty || status != .downloading else { return downloading }
            let held = try await lease(task, in: .downloading)
            for (index, file) in files.enumerated() {
                try await tasks.saveArtifact(artifact(of: task, index: index, bytes: file.bytes, createdAt: file.storedAt), lease: held)
            }
            switch status {
            case .completed:
                return try await tasks.advance(taskID: task.id, from: .downloading, lease: held, change: TaskChange(path: [.completed]), now: end)
            case .failed:
                return try await tasks.advance(taskID: task.id, from: .downloading, lease: held, change: .fail("download failed"), now: end)
            default:
                _ = try await tasks.releaseLease(taskID: task.id, lease: held)
                return try #require(try await tasks.task(id: task.id))
            }
        }
    }

    /// A music task stored and driven to `status` in one step.
    @discardableResult
    func task(
        _ status: TaskStatus, files: [(bytes: Int64, storedAt: Date)] = [], createdAt: Date? = nil, finishedAt: Date? = nil, owner: String? = nil,
        callback: String? = nil
    ) async throws -> MediaTask {
        try await task(.music, status, files: files, createdAt: createdAt, finishedAt: finishedAt, owner: owner, callback: callback)
    }

    /// A task of `kind` stored and driven to `status` in one step.
    @discardableResult
    func task(
        _ kind: TaskKind, _ status: TaskStatus, files: [(bytes: Int64, storedAt: Date)] = [], createdAt: Date? = nil,
        finishedAt: Date? = nil, owner: String? = nil, callback: String? = nil
    ) async throws -> MediaTask {
        // Created a minute before its first file or its end, and due by now so a claim takes it.
        let created = createdAt ?? min(now, ((files.map(\.storedAt) + [finishedAt].compactMap { $0 }).min() ?? now).addingTimeInterval(-60))
        return try await drive(queued(kind, createdAt: created, owner: owner, callback: callback), to: status, files: files, finishedAt: finishedAt)
    }

    /// Claims every due delivery (which must all be `task`'s) and records `outcome` for each.
    func settleDeliveries(of task: MediaTask, _ outcome: WebhookAttemptOutcome) async throws {
        let jobs = try await webhooks.claim(owner: "d", lease: .seconds(30), limit: 100, now: now)
        #expect(!jobs.isEmpty, "no delivery of \(task.id) was due")
        for job in jobs {
            #expect(job.delivery.taskID == task.id)
            try await webhooks.record(outcome, deliveryID: job.delivery.id, owner: "d", now: now)
        }
    }

    /// The artifacts of `task`, by index.
    func artifacts(_ task: MediaTask) async throws -> [TaskArtifact] {
        try await tasks.artifacts(forTasks: [task.id])[task.id] ?? []
    }
}

/// Watches the outbox a store was opened with: what it rendered, how often it woke the
/// dispatcher, and a switch that makes rendering fail.
final class OutboxProbe: Sendable {
    private struct State {
        var wakes = 0
        var failing = false
    }

    private let state = Mutex(State())

    /// Rendering refused on purpose.
    struct RenderingFailed: Error, Equatable {}

    /// Wake-ups so far.
    var wakes: Int { state.withLock { $0.wakes } }

    /// Makes every later rendering throw (or succeed again).
    func failRendering(_ failing: Bool) {
        state.withLock { $0.failing = failing }
    }

    /// An outbox to `endpoints` whose payload is `{"task", "status", "artifacts"}`.
    func outbox(endpoints: [WebhookEndpoint]) -> WebhookOutbox {
        WebhookOutbox(
            endpoints: endpoints,
            renderPayload: { task, artifacts in
                if self.state.withLock({ $0.failing }) { throw RenderingFailed() }
                return try JSONSerialization.data(
                    withJSONObject: ["task": task.id, "status": task.status.rawValue, "artifacts": artifacts.count], options: [.sortedKeys])
            },
            wake: { self.state.withLock { $0.wakes += 1 } })
    }
}

/// A `PostgresClient` running for as long as a test holds it (its connections close with it).
final class PostgresRun: Sendable {
    let client: PostgresClient
    private let running: Task<Void, Never>

    /// A pool on the database at `url` whose unqualified names resolve in `schema`.
    convenience init(url: String, schema: String) throws {
        let configuration = try PostgresDatabaseURL(url).clientConfiguration(searchPath: schema, maximumConnections: 8)
        // The pool logs at info when a test's client is cancelled mid-connect; failures reach the test anyway.
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        self.init(PostgresClient(configuration: configuration, backgroundLogger: logger))
    }

    init(_ client: PostgresClient) {
        self.client = client
        running = Task { await client.run() }
    }

    deinit {
        running.cancel()
    }
}

/// A directory under the system's temporary one, removed when the last reference goes.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mediajobs-store-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

extension WebhookOutbox {
    /// An outbox for tests that do not look at webhooks: events still go to callbacks, with a tiny payload.
    static let testing = WebhookOutbox(endpoints: [], renderPayload: { task, _ in Data(task.id.utf8) }, wake: {})
}
