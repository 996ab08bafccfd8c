import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A store that can do everything operators ask for: tasks, statistics, retries and retention.
public typealias OperatorTaskStore = TaskStore & OperatorStore & RetentionStore

/// What operators can do, shared by the admin API (in the server) and the CLI (directly on a data directory).
public struct OperatorConsole: Sendable {
    public let store: any OperatorTaskStore
    /// The links to stored files that task objects carry.
    public let publicURLs: PublicURLs
    /// Whose free space the statistics show: the database's, and local artifacts'.
    public let dataDirectory: URL
    /// Removes artifact files (retention, retries) through the ``ArtifactStore``.
    public let pruner: Pruner
    /// Wakes the submit worker after a retry, in the server; nil in the CLI (the server finds the task at its next idle tick).
    let signals: StageSignals?
    let logger: Logger

    /// Where the artifacts are (the data directory or the bucket).
    public var storage: any ArtifactStore { pruner.storage }

    /// The webhook deliveries of the same database.
    public let webhooks: any WebhookDeliveryStore

    public init(
        store: any OperatorTaskStore, publicURLs: PublicURLs, dataDirectory: URL, pruner: Pruner, signals: StageSignals? = nil,
        webhooks: any WebhookDeliveryStore, logger: Logger
    ) {
        self.webhooks = webhooks
        self.store = store
        self.publicURLs = publicURLs
        self.dataDirectory = dataDirectory
        self.pruner = pruner
        self.signals = signals
        self.logger = logger
    }

    /// Opens an existing data directory for the CLI; a running server may use it at the same time
    /// (so the data-directory lock is not taken).
    ///
    /// `publicURL` is the base of the file URLs printed in task objects (the server's `--public-url`).
    /// Tasks an operator ends (cancel) get their webhook events like any other: to their
    /// `callback_url` and to `webhookEndpoints`; a running server's dispatcher sends them. Files
    /// are the data directory's, or `given`'s (the servers' S3 bucket) when there is one.
    public static func open(
        dataDirectory: URL, publicURL: String, webhookEndpoints: [WebhookEndpoint] = [], storage given: (any ArtifactStore)? = nil, logger: Logger
    ) throws -> OperatorConsole {
        let local = LocalArtifactStore(dataDirectory: dataDirectory)
        let storage = given ?? local
        let path = SQLiteStore.databasePath(in: local.dataDirectory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw OperatorError.noDatabase(path)
        }
        let publicURLs = PublicURLs(baseURL: publicURL)
        // No dispatcher runs here to wake: a running server finds new events at its next idle tick.
        let outbox = WebhookOutbox.taskEvents(endpoints: webhookEndpoints, representations: TaskRepresentations(publicURLs: publicURLs), wake: {})
        let database = try SQLiteStore.openBesideServer(dataDirectory: local.dataDirectory, outbox: outbox)
        return OperatorConsole(
            store: database.tasks, publicURLs: publicURLs, dataDirectory: local.dataDirectory,
            pruner: Pruner(store: database.tasks, storage: storage, logger: logger), webhooks: database.webhooks, logger: logger)
    }

    /// Opens the PostgreSQL database several servers share, for the CLI; the media are in
    /// `dataDirectory` (the directory the servers share). Throws ``StartupError`` when the
    /// database cannot be reached (the message names it without the password). Files are in
    /// `given` (the servers' S3 bucket) when there is one.
    public static func open(
        database url: PostgresDatabaseURL, dataDirectory: URL, publicURL: String, webhookEndpoints: [WebhookEndpoint] = [],
        storage given: (any ArtifactStore)? = nil, logger: Logger
    ) async throws -> OperatorConsole {
        let local = LocalArtifactStore(dataDirectory: dataDirectory)
        let storage = given ?? local
        let publicURLs = PublicURLs(baseURL: publicURL)
        // The servers' LISTEN connections hear about what this process changes (a retry, a redelivery, a cancel's webhooks).
        let outbox = WebhookOutbox.taskEvents(endpoints: webhookEndpoints, representations: TaskRepresentations(publicURLs: publicURLs), wake: {})
        let database = try await PostgresStoreService.connect(url, outbox: outbox, logger: logger)
        return OperatorConsole(
            store: database.store, publicURLs: publicURLs, dataDirectory: local.dataDirectory,
            pruner: Pruner(store: database.store, storage: storage, logger: logger), webhooks: database.store, logger: logger)
    }

    /// Removes stored objects no artifact row names (``StorageSweeper``).
    public func sweepStorage(minimumAge: Duration, dryRun: Bool) async throws -> StorageSweeper.Report {
        try await StorageSweeper(store: store, storage: storage, logger: logger).run(minimumAge: minimumAge, dryRun: dryRun)
    }

    /// The statistics, with the data directory's free space.
    public func stats(now: Date = Date()) async throws -> OperatorStats {
        var stats = try await store.stats(now: now)
        var info = statvfs()
        if statvfs(dataDirectory.path, &info) == 0 {
            stats.diskFreeBytes = Int64(info.f_bavail) * Int64(info.f_frsize)
        }
        return stats
    }

    /// Sends a failed task back to `queued` and removes the files of its old artifacts.
    public func retry(_ id: String) async throws -> MediaTask {
        let task = try await store.retry(taskID: id, now: Date())
        try await pruner.finishFileRemovals()
        signals?.submit.signal()
        logger.notice("task sent back to the queue by an operator", metadata: ["task.id": "\(task.id)", "task.kind": "\(task.kind.rawValue)"])
        return task
    }

    /// Cancels a queued or processing task.
    public func cancel(_ id: String) async throws -> MediaTask {
        let task = try await store.cancel(taskID: id, now: Date())
        logger.notice("task canceled by an operator", metadata: ["task.id": "\(task.id)", "task.kind": "\(task.kind.rawValue)"])
        return task
    }

    /// A task and its artifacts, if it exists.
    public func task(_ id: String) async throws -> (MediaTask, [TaskArtifact])? {
        guard let task = try await store.task(id: id) else { return nil }
        return (task, try await store.artifacts(forTasks: [id])[id] ?? [])
    }

    /// A page of tasks, newest first, with their artifacts.
    public func list(_ query: TaskQuery) async throws -> (page: TaskPage, artifacts: [String: [TaskArtifact]]) {
        let page = try await store.list(query)
        return (page, try await store.artifacts(forTasks: page.tasks.map(\.id)))
    }

    /// The task object of `GET /v1/tasks/{id}`, as (pretty-printed) JSON.
    public func json(_ task: MediaTask, artifacts: [TaskArtifact]) throws -> String {
        try Self.json(TaskRepresentations(publicURLs: publicURLs).task(task, artifacts: artifacts))
    }

    /// The list object of `GET /v1/tasks`, as (pretty-printed) JSON.
    public func json(_ page: TaskPage, artifacts: [String: [TaskArtifact]]) throws -> String {
        let representations = TaskRepresentations(publicURLs: publicURLs)
        let objects = page.tasks.map { representations.task($0, artifacts: artifacts[$0.id] ?? []) }
        return try Self.json(TaskList(data: objects, hasMore: page.hasMore, nextCursor: page.hasMore ? page.tasks.last?.id : nil))
    }

    /// Any API shape (stats, prune reports) as the CLI prints it: pretty-printed, keys sorted.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONCoding.encoder()
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Why an operator command could not run.
public enum OperatorError: Error, CustomStringConvertible {
    case noDatabase(String)

    public var description: String {
        switch self {
        case .noDatabase(let path): "no MediaJobs database at \(path) (wrong --data-dir? `mediajobs serve` creates it)"
        }
    }
}
