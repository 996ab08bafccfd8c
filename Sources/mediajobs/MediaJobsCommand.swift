import ArgumentParser
import Foundation
import Logging
import MediaJobs

@main
struct MediaJobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mediajobs",
        abstract: "A self-hosted job service for AI media generation (OpenAI images, Suno-style music).",
        discussion: """
            MediaJobs stores every request as a task in SQLite, hands it to an upstream provider, polls it until it \
            completes or fails, copies the results into its own storage and serves them at stable URLs.

            Every option of 'serve' can also be set through the MEDIAJOBS_* environment variable named in its help; \
            a flag wins over the environment. Durations are written like 500ms, 2s, 5m, 2h, 30d; sizes like 512KB, \
            1MB, 50GB or 1GiB.

            Quick start (no key, no network: the built-in simulator plays the provider):
              mediajobs serve
            """,
        subcommands: [Serve.self, SimulateUpstream.self, Prune.self, Stats.self, TasksCommand.self, WebhooksCommand.self, StorageCommand.self, BenchDownload.self, BenchUpload.self, SignS3Requests.self]
    )
}

/// Reads an option from its flag, else from its environment variable.
struct Setting {
    static func text(_ flag: String?, _ variable: String) -> String? {
        if let flag { return flag }
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else { return nil }
        return value
    }

    static func parse<T>(_ flag: String?, _ variable: String, option: String, default fallback: T, _ parser: (String) -> T?) throws -> T {
        guard let text = text(flag, variable) else { return fallback }
        guard let value = parser(text) else {
            throw ValidationError("invalid value '\(text)' for \(option) (from \(flag == nil ? variable : "the command line"))")
        }
        return value
    }

    /// A comma-separated environment variable as a list.
    static func list(_ variable: String) -> [String] {
        (ProcessInfo.processInfo.environment[variable] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func flag(_ flag: Bool, _ variable: String) -> Bool {
        if flag { return true }
        let value = ProcessInfo.processInfo.environment[variable]?.lowercased() ?? ""
        return ["1", "true", "yes", "on"].contains(value)
    }

    static func duration(_ flag: String?, _ variable: String, option: String, default fallback: Duration) throws -> Duration {
        try parse(flag, variable, option: option, default: fallback) { Duration(parsing: $0) }
    }

    static func rate(_ flag: String?, _ variable: String?, option: String) throws -> Double {
        let text = flag ?? variable.flatMap { ProcessInfo.processInfo.environment[$0] } ?? "0"
        guard let value = Double(text), (0...1).contains(value) else { throw ValidationError("\(option) must be a number from 0 to 1, got '\(text)'") }
        return value
    }

    /// The simulator's latency spread (σ of the lognormal around the median latency); from the flag, else the variable, else 0.
    static func latencySpread(_ flag: String?, _ variable: String?, option: String) throws -> Double {
        let text = flag ?? variable.flatMap { ProcessInfo.processInfo.environment[$0] } ?? "0"
        let range = SimulatorSettings.latencySpreads
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), SimulatorSettings.isValidLatencySpread(value) else {
            throw ValidationError("\(option) must be a finite number from \(String(format: "%g", range.lowerBound)) to \(String(format: "%g", range.upperBound)) (σ of the durations' logarithm, e.g. 0.3), got '\(text)'")
        }
        return value
    }
}

/// Installs the process-wide log handler once: `--log-level` / `MEDIAJOBS_LOG_LEVEL`, and `--log-format text|json` /
/// `MEDIAJOBS_LOG_FORMAT` (JSON lines for log shippers).
func bootstrapLogging(level text: String?, format formatText: String? = nil, defaultLevel: Logger.Level = .info) throws -> Logger {
    let level = try Setting.parse(text, "MEDIAJOBS_LOG_LEVEL", option: "--log-level", default: defaultLevel) { Logger.Level(rawValue: $0.lowercased()) }
    let format = try Setting.parse(formatText, "MEDIAJOBS_LOG_FORMAT", option: "--log-format", default: LogFormat.text) { LogFormat(rawValue: $0.lowercased()) }
    LoggingSystem.bootstrap { label in format.makeHandler(label: label, level: level) }
    var logger = Logger(label: "mediajobs")
    logger.logLevel = level
    return logger
}
