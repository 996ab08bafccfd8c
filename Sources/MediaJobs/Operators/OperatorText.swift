import Foundation

/// Plain-text renderings for the CLI: aligned tables and short summaries people read on a terminal.
public enum OperatorText {
    /// `mediajobs tasks list`: one line per task.
    public static func taskTable(_ tasks: [MediaTask], artifacts: [String: [TaskArtifact]]) -> String {
        guard !tasks.isEmpty else { return "no tasks\n" }
        let rows = tasks.map { task -> [String] in
            let files = artifacts[task.id] ?? []
            let expired = files.filter { $0.prunedAt != nil }.count
            return [
                task.id, task.kind.rawValue, task.status.rawValue, "\(task.progress)%", "\(task.attempts)",
                expired > 0 ? "\(files.count) (\(expired) expired)" : "\(files.count)",
                timestamp(task.createdAt), task.finishedAt.map(timestamp) ?? "-", truncated(task.failReason ?? "", to: 48),
            ]
        }
        return table(header: ["ID", "KIND", "STATUS", "PROGRESS", "TRIES", "FILES", "CREATED (UTC)", "FINISHED (UTC)", "FAIL REASON"], rows: rows)
    }

    /// `mediajobs tasks show`: every field of one task and its files.
    public static func taskDetails(_ task: MediaTask, artifacts: [TaskArtifact], publicURLs: PublicURLs, now: Date = Date()) -> String {
        var fields: [(String, String)] = [
            ("id", task.id), ("kind", task.kind.rawValue), ("status", "\(task.status.rawValue) (\(task.progress)%)"), ("model", task.model),
            ("created", "\(timestamp(task.createdAt)) (\(age(task.createdAt, now: now)) ago)"), ("updated", timestamp(task.updatedAt)),
            ("finished", task.finishedAt.map(timestamp) ?? "-"), ("attempts", "\(task.attempts)"), ("polls", "\(task.pollCount)"),
            (task.status == .processing ? "next poll" : "next attempt", task.status.isTerminal ? "-" : timestamp(task.nextAttemptAt)),
            ("upstream accepted", task.upstreamAcceptedAt.map(timestamp) ?? "-"), ("deadline", timestamp(task.deadlineAt)),
            ("upstream id", task.upstreamID ?? "-"), ("lease", task.leaseOwner.map { "\($0) until \(task.leaseExpiresAt.map(timestamp) ?? "?")" } ?? "-"),
            ("fail reason", task.failReason ?? "-"), ("callback url", task.callbackURL ?? "-"),
        ]
        switch task.request {
        case .music(let music):
            fields.append(("prompt", music.prompt))
            if let title = music.title { fields.append(("title", title)) }
            if let style = music.style { fields.append(("style", style)) }
        case .image(let image):
            fields.append(("prompt", image.prompt))
            fields.append(("images", "\(image.count)"))
        case .video(let video):
            fields.append(("prompt", video.prompt))
            fields.append(("video", "\(video.seconds) s, \(video.size) (\(video.resolution.rawValue), \(video.aspectRatio.rawValue))"))
        }
        let width = fields.map(\.0.count).max() ?? 0
        var out = fields.map { "\($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }.joined(separator: "\n") + "\n"
        if artifacts.isEmpty {
            out += "files\(String(repeating: " ", count: max(1, width - 3)))-\n"
        } else {
            out += "files\n"
            let rows = artifacts.map { artifact in
                [
                    "\(artifact.index)", artifact.contentType, ByteCount(bytes: artifact.bytes).description, String(artifact.sha256.prefix(12)),
                    artifact.prunedAt.map { "expired \(timestamp($0))" } ?? publicURLs.url(for: artifact),
                ]
            }
            out += table(header: ["  #", "TYPE", "SIZE", "SHA256", "URL"], rows: rows.map { ["  " + $0[0]] + $0.dropFirst() })
        }
        return out
    }

    /// `mediajobs stats`.
    public static func stats(_ stats: OperatorStats) -> String {
        let statuses = TaskStatus.allCases
        var taskRows = TaskKind.allCases.map { kind in
            [kind.rawValue] + statuses.map { "\(stats.tasks[kind]?[$0] ?? 0)" } + ["\(stats.taskCount(kind: kind))"]
        }
        taskRows.append(["all"] + statuses.map { "\(stats.taskCount(status: $0))" } + ["\(statuses.reduce(0) { $0 + stats.taskCount(status: $1) })"])
        var out = table(header: ["TASKS"] + statuses.map { $0.rawValue.uppercased() } + ["TOTAL"], rows: taskRows)
        out += "in flight: \(stats.inFlight); oldest queued: "
        out += stats.oldestQueuedAt.map { "\(age($0, now: stats.generatedAt)) ago (\(timestamp($0)))" } ?? "none"
        out += "\n\n"
        var storageRows = TaskKind.allCases.map { kind -> [String] in
            let stored = stats.storage[kind] ?? FileTotals()
            let expired = stats.expired[kind] ?? FileTotals()
            return [kind.rawValue, "\(stored.files)", ByteCount(bytes: stored.bytes).description, "\(expired.files)", ByteCount(bytes: expired.bytes).description]
        }
        let stored = stats.storage.values.reduce(FileTotals(), +)
        let expired = stats.expired.values.reduce(FileTotals(), +)
        storageRows.append(["all", "\(stored.files)", ByteCount(bytes: stored.bytes).description, "\(expired.files)", ByteCount(bytes: expired.bytes).description])
        out += table(header: ["STORAGE", "FILES", "BYTES", "EXPIRED FILES", "EXPIRED BYTES"], rows: storageRows)
        if let free = stats.diskFreeBytes { out += "disk free: \(ByteCount(bytes: free))\n" }
        let totals = stats.prunedTotals
        out += "\nretention: \(totals.files) files (\(ByteCount(bytes: totals.bytes))) removed, \(totals.tasksDeleted) task records deleted; last prune: "
        out += totals.lastPrunedAt.map(timestamp) ?? "never"
        out += "\nwebhooks: " + OperatorStats.webhookStatuses.map { "\(stats.webhooks[$0] ?? 0) \($0)" }.joined(separator: ", ") + "\n"
        return out
    }

    /// `mediajobs prune`: what was (or would be) removed.
    public static func prune(_ report: PruneReport) -> String {
        let verb = report.dryRun ? "would" : ""
        func phrase(_ past: String, _ future: String) -> String { report.dryRun ? "\(verb) \(future)" : past }
        var lines: [String] = []
        if report.dryRun { lines.append("dry run: nothing was changed") }
        if report.interruptedRemovalsFinished > 0 {
            lines.append("finished \(report.interruptedRemovalsFinished) file removals left by an interrupted prune")
        }
        if report.policy.deleteTasksOlderThan != nil {
            let tasks = report.tasks
            var line = "\(phrase("deleted", "delete")) \(tasks.count) task records finished before \(report.taskHorizon.map(timestamp) ?? "-")"
            line += ", with \(tasks.files) stored files (\(ByteCount(bytes: tasks.bytes)))"
            if let oldest = tasks.oldest, let newest = tasks.newest { line += "; finished \(timestamp(oldest)) to \(timestamp(newest))" }
            lines.append(line)
        }
        if report.policy.maxAge != nil || report.policy.maxTotalSize != nil {
            let artifacts = report.artifacts
            var line = "\(phrase("pruned", "prune")) \(artifacts.count) files (\(ByteCount(bytes: artifacts.bytes)))"
            if let oldest = artifacts.oldest, let newest = artifacts.newest { line += ", stored \(timestamp(oldest)) to \(timestamp(newest))" }
            lines.append(line)
        }
        let scope = report.policy.kind.map { "\($0.rawValue) files" } ?? "files"
        var stored = "stored \(scope): \(ByteCount(bytes: report.storedBytesBefore)) before, \(ByteCount(bytes: report.storedBytesAfter)) after"
        if let limit = report.policy.maxTotalSize {
            stored += " (limit \(limit): \(report.sizeLimitMet == true ? "met" : "NOT met, the rest belongs to unfinished tasks or pending webhooks"))"
        }
        lines.append(stored)
        if !report.dryRun, report.filesMissing > 0 { lines.append("\(report.filesMissing) files were already missing on disk") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Helpers

    /// Left-aligned columns separated by two spaces.
    public static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// `2026-01-02 03:04:05` in UTC.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(timestampStyle)
    }

    static let timestampStyle = Date.VerbatimFormatStyle(
        format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)",
        timeZone: TimeZone(identifier: "UTC")!, calendar: Calendar(identifier: .gregorian))

    /// `45s`, `12m`, `3h`, `5d`.
    static func age(_ date: Date, now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<7200: return "\(seconds / 60)m"
        case ..<172_800: return "\(seconds / 3600)h"
        default: return "\(seconds / 86400)d"
        }
    }

    static func truncated(_ text: String, to length: Int) -> String {
        let line = text.replacingOccurrences(of: "\n", with: " ")
        return line.count <= length ? line : String(line.prefix(length - 1)) + "…"
    }
}
