import Hummingbird
import Logging
import ServiceLifecycle

/// The built-in simulator on an ephemeral loopback port, for running with no provider and no key.
enum DemoSimulator {
    /// The simulator's server; `address` gets its base URL once it listens.
    static func service(_ settings: SimulatorSettings, address: LateValue<String>, logger: Logger) -> some Service {
        var simulatorLogger = logger
        simulatorLogger[metadataKey: "component"] = "simulator"
        simulatorLogger.logLevel = max(logger.logLevel, .notice)
        let simulator = UpstreamSimulator(settings: settings)
        logger.notice(
            "no --upstream-url given: demo mode, using the built-in upstream simulator (no key, no network)",
            metadata: [
                "simulator.latency": "\(settings.latency.humanReadable)", "simulator.latency_spread": "\(settings.latencySpread)",
                "simulator.failure_rate": "\(settings.failureRate)",
                // With this seed (--simulator-seed) a run's injected faults and drawn durations can be replayed.
                "simulator.seed": "\(simulator.faults.seed)",
            ])
        return Application(
            router: simulator.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "MediaJobs-Simulator"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                address.set("http://127.0.0.1:\(port)")
                logger.notice("built-in upstream simulator listening", metadata: ["simulator.url": "http://127.0.0.1:\(port)"])
            },
            logger: simulatorLogger)
    }
}
