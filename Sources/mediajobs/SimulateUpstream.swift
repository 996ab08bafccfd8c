import ArgumentParser
import Hummingbird
import MediaJobs

struct SimulateUpstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-upstream",
        abstract: "Serve a stand-in for the ApiTopMix provider that produces real WAV, PNG and MP4 media.",
        discussion: """
            Endpoints: POST /suno/submit/music, GET /suno/fetch/{id}, POST /v1/images/generations, POST /v1/videos, GET /v1/videos/{id}, \
            and the media they link to (WAV audio, PNG images and cover art, H.264 MP4 video with a PNG poster).

            Faults for tests: --fail-first and --fail-first-tasks are exact whatever the timing; the rates are drawn \
            from --seed (a random seed when unset, logged at start), so one seed repeats a run. GET /_stats counts the \
            faults injected so far; GET /_stats?completions=1 lists each music and video task's submit, end and first \
            poll that saw it finished.

            Task durations: --latency for every task, or with --latency-spread a lognormal spread around it, drawn \
            from --seed in the order tasks arrive (so one seed repeats the durations too).
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one (the 'upstream simulator listening' log line names it).") var port = 9090
    @Option(help: "Time from a music or video submit to its completion; image calls answer after it. With --latency-spread: the median.") var latency = "3s"
    @Option(help: "Spread of the task durations: σ of a lognormal around --latency (each task takes latency·e^(σZ), drawn from --seed in arrival order); 0 to 2, 0 is exactly --latency.")
    var latencySpread = "0"
    @Flag(help: "Answers for running tasks carry no \"progress\": pollers have only time to go by.") var noProgress = false
    @Option(help: "Fraction (0-1) of tasks that end failed.") var failureRate = "0"
    @Option(help: "Fraction (0-1) of calls answered 503 with Retry-After: 1 (media downloads excepted).") var errorRate = "0"
    @Option(help: "Seed of the --failure-rate, --error-rate and --latency-spread draws, so a run repeats (default: random, logged).") var seed: UInt64?
    @Option(help: "The first N calls of each kind answered 503 with Retry-After: 1, e.g. submit=2,fetch=1,image=1,media=1,video=1,video_fetch=1.")
    var failFirst: String?
    @Option(help: "The first N tasks (music, image and video, in arrival order) end failed.") var failFirstTasks = 0
    @Option(help: "Length of each generated track.") var trackDuration = "10s"
    @Option(help: "Require this Bearer key on API calls.") var apiKey: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel)
        var settings = SimulatorSettings()
        guard let latency = Duration(parsing: latency) else { throw ValidationError("invalid --latency '\(latency)'") }
        guard let trackDuration = Duration(parsing: trackDuration), trackDuration > .zero else { throw ValidationError("invalid --track-duration '\(trackDuration)'") }
        settings.latency = latency
        settings.latencySpread = try Setting.latencySpread(latencySpread, nil, option: "--latency-spread")
        settings.trackDuration = trackDuration
        settings.reportsProgress = !noProgress
        settings.failureRate = try Setting.rate(failureRate, nil, option: "--failure-rate")
        settings.errorRate = try Setting.rate(errorRate, nil, option: "--error-rate")
        settings.seed = seed
        settings.failFirst = try Setting.failFirst(failFirst, nil, option: "--fail-first")
        guard failFirstTasks >= 0 else { throw ValidationError("--fail-first-tasks must be 0 or more, got \(failFirstTasks)") }
        settings.failFirstTasks = failFirstTasks
        settings.apiKey = apiKey.map(Redacted.init)
        let simulator = UpstreamSimulator(settings: settings)
        let app = Application(
            router: simulator.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "MediaJobs-Simulator"),
            onServerRunning: { channel in
                // The bound address: with --port 0 this is how a caller learns the port.
                logger.notice("upstream simulator listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: logger)
        logger.notice(
            "upstream simulator starting",
            metadata: [
                "address": "\(host):\(port)", "latency": "\(latency.humanReadable)", "latency_spread": "\(settings.latencySpread)",
                "seed": "\(simulator.faults.seed)",
                "fail_first": "\(settings.failFirst.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))",
                "fail_first_tasks": "\(settings.failFirstTasks)",
            ])
        try await app.runService()
    }
}

extension Setting {
    /// `submit=2,fetch=1`: how many of the first calls of each kind the simulator fails; from the flag, else the variable.
    static func failFirst(_ flag: String?, _ variable: String?, option: String) throws -> [SimulatorCallKind: Int] {
        guard let text = text(flag, variable ?? "") else { return [:] }
        guard let counts = SimulatorCallKind.counts(parsing: text) else {
            let kinds = SimulatorCallKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("\(option) expects <kind>=<count>[,…] with kinds \(kinds), got '\(text)'")
        }
        return counts
    }
}
