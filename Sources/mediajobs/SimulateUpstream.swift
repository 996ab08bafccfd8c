import ArgumentParser
import Hummingbird
import MediaJobs

struct SimulateUpstream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-upstream",
        abstract: "Serve a stand-in for the ApiTopMix provider that produces real WAV and PNG media.",
        discussion: "Endpoints: POST /suno/submit/music, GET /suno/fetch/{id}, POST /v1/images/generations, and the media they link to."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 9090
    @Option(help: "Time from a music submit to its completion; image calls answer after it.") var latency = "3s"
    @Option(help: "Fraction (0-1) of tasks that end failed.") var failureRate = "0"
    @Option(help: "Fraction (0-1) of calls answered 503 with Retry-After: 1.") var errorRate = "0"
    @Option(help: "Length of each generated track.") var trackDuration = "10s"
    @Option(help: "Require this Bearer key on API calls.") var apiKey: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?

    func run() async throws {
        let logger = try bootstrapLogging(level: logLevel)
        var settings = SimulatorSettings()
        guard let latency = Duration(parsing: latency) else { throw ValidationError("invalid --latency '\(latency)'") }
        guard let trackDuration = Duration(parsing: trackDuration), trackDuration > .zero else { throw ValidationError("invalid --track-duration '\(trackDuration)'") }
        settings.latency = latency
        settings.trackDuration = trackDuration
        settings.failureRate = try Setting.rate(failureRate, nil, option: "--failure-rate")
        settings.errorRate = try Setting.rate(errorRate, nil, option: "--error-rate")
        settings.apiKey = apiKey.map(Redacted.init)
        let app = Application(
            router: UpstreamSimulator(settings: settings).router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "MediaJobs-Simulator"),
            logger: logger)
        logger.notice("upstream simulator starting", metadata: ["address": "\(host):\(port)", "latency": "\(latency.humanReadable)"])
        try await app.runService()
    }
}
