import ArgumentParser
import Foundation
import MediaJobs

/// `mediajobs storage …`: maintenance of the artifact storage itself.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Maintain the artifact storage (the data directory or the S3 bucket).",
        subcommands: [Sweep.self])

    struct Sweep: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove stored files that no artifact record names (left by a crash between an upload and its record).",
            discussion: """
                Lists every object under the storage (the bucket's prefix, or <data-dir>/media) and removes the ones no \
                unpruned artifact record names. Objects written within --older-than (default 1h) are left alone: their \
                upload may still be in flight. Safe beside running servers.

                Examples:
                  mediajobs storage sweep --dry-run --database-url postgres://… --storage-url s3://media/prod
                  mediajobs storage sweep --json
                """)

        @Flag(help: "Report the orphans without removing them.") var dryRun = false
        @Option(help: "Only objects written longer ago than this. (default: 1h)") var olderThan: String?
        @Flag(help: "Print the report as JSON.") var json = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            var minimumAge: Duration = .seconds(3600)
            if let olderThan {
                guard let parsed = Duration(parsing: olderThan) else { throw ValidationError("--older-than: not a duration: '\(olderThan)'") }
                minimumAge = parsed
            }
            let operators = try await options.open()
            let report: StorageSweeper.Report
            do {
                report = try await operators.sweepStorage(minimumAge: minimumAge, dryRun: dryRun)
            } catch {
                throw CommandFailure("storage sweep failed: \(error)")
            }
            if json {
                print(try OperatorConsole.json(report))
                return
            }
            let verb = dryRun ? "would remove" : "removed"
            print("\(report.scanned) objects scanned, \(report.recent) too recent to judge; \(report.orphans.count) orphans "
                + "(\(ByteCount(bytes: report.orphanBytes))) \(verb)\(dryRun ? "" : ": \(report.deleted)")")
            for orphan in report.orphans { print("  \(orphan)") }
        }
    }
}
