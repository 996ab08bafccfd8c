import ArgumentParser
import Foundation
import MediaJobs
#if canImport(Glibc)
import Glibc
#endif

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove stored media by age and total size, oldest first; optionally delete old task records.",
        discussion: """
            Never touches files of tasks that are not finished or whose webhook delivery is still pending. Pruned files \
            keep their record: the task then shows them as expired and /files answers 410. Safe to run while the server \
            runs, safe to run again (idempotent), and safe to interrupt: the next prune (or server start) finishes removals \
            an interrupted run left. With --kind the size limit applies to that kind's files.

            Examples:
              mediajobs prune --older-than 30d --dry-run
              mediajobs prune --max-total-size 50GB --kind music
              mediajobs prune --older-than 30d --delete-tasks-older-than 180d --json
            """
    )

    @Option(help: "Prune files stored longer ago than this, e.g. 30d.") var olderThan: String?
    @Option(help: "Prune the oldest files until the stored ones take at most this, e.g. 50GB.") var maxTotalSize: String?
    @Option(help: "Only files (and task records) of this kind: music, image or video.") var kind: String?
    @Option(help: "Also delete the records (and files) of finished tasks that ended longer ago than this, e.g. 180d.")
    var deleteTasksOlderThan: String?
    @Flag(help: "Report what would be removed (count, bytes, oldest and newest) without changing anything.") var dryRun = false
    @Flag(help: "Print the report as JSON.") var json = false
    @OptionGroup var options: OperatorOptions
    @Option(help: .hidden) var batchSize: Int?
    /// Crash tests: sleep after each batch commits and before its files are deleted.
    @Option(help: .hidden) var pauseBeforeRemovingFiles: String?

    func run() async throws {
        let policy: PrunePolicy
        do {
            policy = try PrunePolicy(olderThan: olderThan, maxTotalSize: maxTotalSize, kind: kind, deleteTasksOlderThan: deleteTasksOlderThan)
        } catch {
            throw ValidationError(error.description)
        }
        guard !policy.isEmpty else { throw ValidationError(RetentionError.nothingToDo.description) }
        let operators = try await options.open()
        var pruner = operators.pruner
        if let batchSize {
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
            pruner.batchSize = batchSize
        }
        if let pause = pauseBeforeRemovingFiles {
            guard let value = Duration(parsing: pause) else { throw ValidationError("invalid --pause-before-removing-files '\(pause)'") }
            pruner.pauseBeforeRemovingFiles = value
        }
        let showProgress = isatty(STDERR_FILENO) == 1
        let report = try await pruner.run(policy, dryRun: dryRun, progress: showProgress ? Self.printProgress : nil)
        if showProgress { printError("\r\u{1B}[K") }
        print(json ? try OperatorConsole.json(report) : OperatorText.prune(report), terminator: json ? "\n" : "")
    }

    /// One self-overwriting line on the terminal.
    @Sendable static func printProgress(_ progress: PruneProgress) {
        var line = "\r\u{1B}[K\(progress.phase.rawValue): \(progress.done)"
        if let total = progress.total, total > 0 {
            line += "/\(total) (\(progress.done * 100 / total)%)"
        }
        line += ", \(ByteCount(bytes: progress.bytes))"
        printError(line)
    }
}
