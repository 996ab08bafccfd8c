import Foundation
import Synchronization

/// How long each simulated task takes: `latency` exactly, or a lognormal draw around it as the median.
///
/// The draws come from a stream of their own (seeded like `SimulatorFaults`' streams, from the same
/// seed), taken in the order tasks arrive: one seed gives the same sequence of durations however
/// often the tasks are polled or how many calls fail.
public final class SimulatorDurations: Sendable {
    /// The median duration.
    public let latency: Duration
    /// σ of the natural logarithm of the durations.
    public let spread: Double
    private let draws: Mutex<SplitMix64>

    /// Durations around `latency` with spread `spread`, drawn from a stream derived from `seed`.
    public init(latency: Duration, spread: Double, seed: UInt64) {
        self.latency = latency
        self.spread = spread
        // A third stream beside the fault streams: the seed XOR a fixed constant (√3's fraction bits).
        draws = Mutex(SplitMix64(seed: seed ^ 0xBB67_AE85_84CA_A73B))
    }

    /// The duration of the task arriving now (the next one).
    public func next() -> Duration {
        // No draw at all without a spread: every task takes exactly `latency`, as before spreads existed.
        guard spread > 0 else { return latency }
        let z = draws.withLock { Self.standardNormal(using: &$0) }
        return latency * exp(spread * z)
    }

    /// One standard normal draw (Box–Muller, the cosine half only: one draw per task, whatever came before).
    static func standardNormal(using generator: inout SplitMix64) -> Double {
        // 53 random bits each; `u1` in (0, 1] so its logarithm is finite.
        let u1 = Double((generator.next() >> 11) + 1) * 0x1p-53
        let u2 = Double(generator.next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
