import Foundation

/// What the dashboard's templates render: plain values built from the domain types, so the
/// templates hold no logic and every string in them passes Mustache's HTML escaping.
enum DashboardPages {
    /// One number with the `/admin/v1/stats` path it mirrors (`data-stat`), for people and tests.
    struct Stat {
        var name: String
        var stat: String
        var value: String
    }

    /// An `<option>`.
    struct Option {
        var value: String
        var label: String
        var selected: Bool
    }

    /// Options for a filter: "all" (empty value) and then `values`.
    static func options(_ values: [String], selected: String?, all: String = "all") -> [Option] {
        [Option(value: "", label: all, selected: selected == nil || selected == "")]
            + values.map { Option(value: $0, label: $0, selected: $0 == selected) }
    }

    /// A link in the navigation bar.
    struct NavLink {
        var href: String
        var label: String
        var current: Bool
    }

    /// A message above the page (an action's result).
    struct Flash {
        var text: String
        var isError: Bool
    }

    /// The frame around every page.
    struct Layout {
        var title: String
        var signedIn: Bool
        var csrf: String
        var nav: [NavLink]
        var flash: Flash?
        var content: String
    }

    static func nav(current: String) -> [NavLink] {
        [("/dashboard", "Overview"), ("/dashboard/tasks", "Tasks"), ("/dashboard/webhooks", "Webhooks"), ("/dashboard/storage", "Storage")]
            .map { NavLink(href: $0.0, label: $0.1, current: $0.0 == current) }
    }

    // MARK: Overview

    /// One kind's row of the counts table.
    struct KindRow {
        var name: String
        var cells: [Stat]
    }

    struct Overview {
        var generatedAt: String
        var generatedAtSeconds: Int64
        var statuses: [String]
        var kinds: [KindRow]
        var statusTotals: [Stat]
        var inFlight: Int
        var oldestQueued: String
        var oldestQueuedSeconds: String
        var storageFiles: Int
        var storageBytes: Int64
        var storageHuman: String
        var freeBytes: String
        var freeHuman: String
        var expiredFiles: Int
        var expiredHuman: String
        var webhooks: [Stat]
        var webhookPending: Int
        var webhookDead: Int

        init(_ stats: OperatorStats) {
            generatedAt = DashboardFormat.time(stats.generatedAt)
            generatedAtSeconds = Int64(stats.generatedAt.timeIntervalSince1970)
            statuses = TaskStatus.allCases.map(\.rawValue)
            kinds = TaskKind.allCases.map { kind in
                KindRow(
                    name: kind.rawValue,
                    cells: TaskStatus.allCases.map {
                        Stat(name: $0.rawValue, stat: "tasks.by_kind.\(kind.rawValue).\($0.rawValue)", value: String(stats.tasks[kind]?[$0] ?? 0))
                    } + [Stat(name: "total", stat: "tasks.by_kind.\(kind.rawValue).total", value: String(stats.taskCount(kind: kind)))])
            }
            statusTotals =
                TaskStatus.allCases.map { Stat(name: $0.rawValue, stat: "tasks.by_status.\($0.rawValue)", value: String(stats.taskCount(status: $0))) }
                + [Stat(name: "total", stat: "tasks.total", value: String(TaskStatus.allCases.reduce(0) { $0 + stats.taskCount(status: $1) }))]
            inFlight = stats.inFlight
            oldestQueued = DashboardFormat.age(stats.oldestQueuedAgeSeconds)
            oldestQueuedSeconds = stats.oldestQueuedAgeSeconds.map { String(format: "%.3f", $0) } ?? ""
            let stored = stats.storage.values.reduce(FileTotals(), +)
            storageFiles = stored.files
            storageBytes = stored.bytes
            storageHuman = DashboardFormat.bytes(stored.bytes)
            freeBytes = stats.diskFreeBytes.map(String.init) ?? ""
            freeHuman = stats.diskFreeBytes.map(DashboardFormat.bytes) ?? "unknown"
            let expired = stats.expired.values.reduce(FileTotals(), +)
            expiredFiles = expired.files
            expiredHuman = DashboardFormat.bytes(expired.bytes)
            let statuses = OperatorStats.webhookStatuses + stats.webhooks.keys.filter { !OperatorStats.webhookStatuses.contains($0) }.sorted()
            webhooks = statuses.map { Stat(name: $0, stat: "webhooks.by_status.\($0)", value: String(stats.webhooks[$0] ?? 0)) }
            webhookPending = stats.webhooks["pending"] ?? 0
            webhookDead = stats.webhooks["dead"] ?? 0
        }
    }

    // MARK: Tasks

    struct TaskRow {
        var id: String
        var kind: String
        var status: String
        var progress: Int
        var prompt: String
        var created: String

        init(_ task: MediaTask) {
            id = task.id
            kind = task.kind.rawValue
            status = task.status.rawValue
            progress = task.progress
            prompt = DashboardFormat.excerpt(task.request.prompt)
            created = DashboardFormat.time(task.createdAt)
        }
    }

    struct TaskList {
        var kinds: [Option]
        var statuses: [Option]
        var rows: [TaskRow]
        var isLaterPage: Bool
        var firstURL: String
        var nextURL: String?
    }

    /// One stored file of a task, with the element that plays or shows it.
    struct Media {
        var index: Int
        var fileName: String
        var contentType: String
        var size: String
        var title: String?
        var src: String
        var pruned: String?
        var isAudio: Bool
        var isImage: Bool
        var isVideo: Bool
        var isOther: Bool

        init(_ artifact: TaskArtifact) {
            index = artifact.index + 1
            fileName = artifact.fileName
            contentType = artifact.contentType
            size = DashboardFormat.bytes(artifact.bytes)
            title = artifact.title
            // Same-origin path whatever `--public-url` says: the session cookie goes with it.
            src = "/files/\(artifact.relativePath)"
            pruned = artifact.prunedAt.map(DashboardFormat.time)
            let live = artifact.prunedAt == nil
            isAudio = live && artifact.contentType.hasPrefix("audio/")
            isImage = live && artifact.contentType.hasPrefix("image/")
            isVideo = live && artifact.contentType.hasPrefix("video/")
            isOther = live && !(isAudio || isImage || isVideo)
        }
    }

    struct DeliveryRow {
        var id: Int64
        var eventType: String
        var taskID: String
        var endpoint: String
        var status: String
        var attempts: Int
        var lastAnswer: String
        var created: String
        var canRedeliver: Bool

        init(_ delivery: WebhookDelivery) {
            id = delivery.id
            eventType = delivery.eventType
            taskID = delivery.taskID
            endpoint = delivery.endpointURL
            status = delivery.status.rawValue
            attempts = delivery.attempts
            lastAnswer = [delivery.lastResponseStatus.map { "HTTP \($0)" }, delivery.lastError].compactMap { $0 }.joined(separator: " · ")
            created = DashboardFormat.time(delivery.createdAt)
            canRedeliver = delivery.status != .pending
        }
    }

    struct TaskDetail {
        var id: String
        var kind: String
        var model: String
        var status: String
        var progress: Int
        var attempts: Int
        var created: String
        var updated: String
        var finished: String
        var deadline: String
        /// Polls of the provider so far, and when the next is due (while it is processing).
        var polls: Int
        var nextPoll: String?
        var failReason: String?
        var prompt: String
        var media: [Media]
        var deliveries: [DeliveryRow]
        var canRetry: Bool
        var canCancel: Bool
        var csrf: String
        var json: String

        init(task: MediaTask, artifacts: [TaskArtifact], deliveries: [WebhookDelivery], json: String, csrf: String) {
            id = task.id
            kind = task.kind.rawValue
            model = task.model
            status = task.status.rawValue
            progress = task.progress
            attempts = task.attempts
            created = DashboardFormat.time(task.createdAt)
            updated = DashboardFormat.time(task.updatedAt)
            finished = DashboardFormat.time(task.finishedAt)
            deadline = DashboardFormat.time(task.deadlineAt)
            polls = task.pollCount
            nextPoll = task.status == .processing ? DashboardFormat.time(task.nextAttemptAt) : nil
            failReason = task.failReason
            prompt = task.request.prompt
            media = artifacts.sorted { $0.index < $1.index }.map(Media.init)
            self.deliveries = deliveries.map(DeliveryRow.init)
            canRetry = task.status.canBeRetried
            canCancel = !task.status.isTerminal
            self.csrf = csrf
            self.json = json
        }
    }

    // MARK: Webhooks

    struct Webhooks {
        var counts: [Stat]
        var filters: [Option]
        var deliveries: [DeliveryRow]
        var deadCount: Int
        var hasDead: Bool
        var isLaterPage: Bool
        var firstURL: String
        var nextURL: String?
        var csrf: String
    }

    // MARK: Storage

    /// The prune form's values, as typed (empty when not given).
    struct PruneFields {
        var olderThan = ""
        var maxTotalSize = ""
        var kind = ""
        var deleteTasksOlderThan = ""
    }

    struct PruneReportView {
        var heading: String
        var dryRun: Bool
        var files: Int
        var bytes: Int64
        var bytesHuman: String
        var tasks: Int
        var beforeHuman: String
        var afterHuman: String
        var olderThan: String
        var maxTotalSize: String
        var kind: String
        var deleteTasksOlderThan: String
        var csrf: String
        var json: String

        init(_ report: PruneReport, fields: PruneFields, csrf: String, json: String) {
            dryRun = report.dryRun
            heading = report.dryRun ? "Dry run: this prune would remove" : "Pruned"
            files = report.removed.files
            bytes = report.removed.bytes
            bytesHuman = DashboardFormat.bytes(report.removed.bytes)
            tasks = report.tasks.count
            beforeHuman = DashboardFormat.bytes(report.storedBytesBefore)
            afterHuman = DashboardFormat.bytes(report.storedBytesAfter)
            olderThan = fields.olderThan
            maxTotalSize = fields.maxTotalSize
            kind = fields.kind
            deleteTasksOlderThan = fields.deleteTasksOlderThan
            self.csrf = csrf
            self.json = json
        }
    }

    struct Storage {
        var usedHuman: String
        var usedFiles: Int
        var freeHuman: String
        var expiredFiles: Int
        var olderThan: String
        var maxTotalSize: String
        var kinds: [Option]
        var deleteTasksOlderThan: String
        var report: PruneReportView?
        var csrf: String

        init(stats: OperatorStats, fields: PruneFields, report: PruneReportView?, csrf: String) {
            let stored = stats.storage.values.reduce(FileTotals(), +)
            usedHuman = DashboardFormat.bytes(stored.bytes)
            usedFiles = stored.files
            freeHuman = stats.diskFreeBytes.map(DashboardFormat.bytes) ?? "unknown"
            expiredFiles = stats.expired.values.reduce(FileTotals(), +).files
            olderThan = fields.olderThan
            maxTotalSize = fields.maxTotalSize
            kinds = DashboardPages.options(TaskKind.allCases.map(\.rawValue), selected: fields.kind, all: "every kind")
            deleteTasksOlderThan = fields.deleteTasksOlderThan
            self.report = report
            self.csrf = csrf
        }
    }

    /// A page that only says something (not found, refused, failed).
    struct Message {
        var heading: String
        var text: String
    }
}
