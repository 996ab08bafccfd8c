/// How the built-in upstream simulator behaves.
public struct SimulatorSettings: Sendable {
    /// Time from a music or video submit to its completion; images answer after it synchronously.
    /// With a `latencySpread` it is the median of the tasks' durations.
    public var latency: Duration = .seconds(3)
    /// σ of a lognormal spread of task durations around `latency` (each task takes `latency · e^(σZ)`,
    /// Z standard normal, drawn from `seed` in the order tasks arrive); 0 gives every task exactly `latency`.
    public var latencySpread: Double = 0
    /// Whether a running task's answer says how far along it is (`"progress": "NN%"`); without
    /// it a poller has only time to go by, as with providers that report none.
    public var reportsProgress = true
    /// Fraction (0…1) of tasks that end failed.
    public var failureRate: Double = 0
    /// Fraction (0…1) of calls answered `503` with `Retry-After: 1`, to exercise retries.
    public var errorRate: Double = 0
    /// Seed of the draws behind `failureRate` and `errorRate`; nil picks one at random (see `SimulatorFaults.seed`).
    public var seed: UInt64?
    /// The first N calls of each kind are answered `503` with `Retry-After: 1`, before any `errorRate` draw.
    public var failFirst: [SimulatorCallKind: Int] = [:]
    /// The first N tasks (music, image and video alike, in the order they arrive) end failed.
    public var failFirstTasks: Int = 0
    /// Length of each generated track.
    public var trackDuration: Duration = .seconds(10)
    /// Tracks per music task (Suno answers with two).
    public var tracksPerTask: Int = 2
    /// Bytes of generated video files kept for further downloads (least recently used dropped first).
    public var videoCacheBytes: Int = 64 << 20
    /// When set, calls must carry `Authorization: Bearer <apiKey>`.
    public var apiKey: Redacted?

    public init() {}

    /// The spreads the simulator accepts: a σ above 2 puts one task in a hundred beyond 100× the median.
    public static let latencySpreads: ClosedRange<Double> = 0...2

    /// Whether `spread` is a usable `latencySpread` (finite, within `latencySpreads`).
    public static func isValidLatencySpread(_ spread: Double) -> Bool {
        spread.isFinite && latencySpreads.contains(spread)
    }
}
