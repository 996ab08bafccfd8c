import Synchronization

/// Decides which simulator calls fail and which tasks end failed, reproducibly.
///
/// Two kinds of faults: "the first N" (`failFirst`, `failFirstTasks`), exact whatever the timing,
/// and rates (`errorRate`, `failureRate`) drawn from seeded generators, so one seed gives one
/// sequence of outcomes. Calls and tasks draw from separate generators: how many calls a run makes
/// (it polls more on a slow machine) does not move which tasks fail.
public final class SimulatorFaults: Sendable {
    /// The seed both generators come from; logged so a run with random faults can be repeated.
    public let seed: UInt64
    private let settings: SimulatorSettings
    /// No call can be rejected: the gate then takes no lock (benchmarks drive the simulator hard).
    private let callsAlwaysPass: Bool
    private let state: Mutex<State>

    struct State {
        var calls: [SimulatorCallKind: Int] = [:]
        var tasks = 0
        var injectedErrors: [SimulatorCallKind: Int] = [:]
        var failedTasks = 0
        var callDraws: SplitMix64
        var taskDraws: SplitMix64
    }

    /// Faults as `settings` describe them; a nil `settings.seed` picks one at random.
    public init(settings: SimulatorSettings) {
        let seed = settings.seed ?? UInt64.random(in: .min ... .max)
        self.seed = seed
        self.settings = settings
        callsAlwaysPass = settings.errorRate == 0 && settings.failFirst.values.allSatisfy { $0 == 0 }
        // Two distinct streams from one seed: the second seed is the first XOR a fixed constant (√2's fraction bits).
        state = Mutex(State(callDraws: SplitMix64(seed: seed), taskDraws: SplitMix64(seed: seed ^ 0x6A09_E667_F3BC_C909)))
    }

    /// Whether this call (the next of its kind) is answered `503` with `Retry-After: 1`.
    ///
    /// The first `failFirst[kind]` calls of a kind are; after them, a fraction `errorRate` of the
    /// calls other than media downloads.
    func rejectsCall(_ kind: SimulatorCallKind) -> Bool {
        if callsAlwaysPass { return false }
        return state.withLock { state in
            state.calls[kind, default: 0] += 1
            let rejects: Bool
            if state.calls[kind, default: 0] <= settings.failFirst[kind, default: 0] {
                rejects = true
            } else if kind != .media, settings.errorRate > 0 {
                rejects = Double.random(in: 0..<1, using: &state.callDraws) < settings.errorRate
            } else {
                rejects = false
            }
            if rejects { state.injectedErrors[kind, default: 0] += 1 }
            return rejects
        }
    }

    /// Whether the task being created now (the next one) ends failed.
    func nextTaskFails() -> Bool {
        state.withLock { state in
            state.tasks += 1
            let fails: Bool
            if state.tasks <= settings.failFirstTasks {
                fails = true
            } else if settings.failureRate > 0 {
                fails = Double.random(in: 0..<1, using: &state.taskDraws) < settings.failureRate
            } else {
                fails = false
            }
            if fails { state.failedTasks += 1 }
            return fails
        }
    }

    /// `503`s injected so far, per kind of call.
    public var injectedErrors: [SimulatorCallKind: Int] { state.withLock { $0.injectedErrors } }

    /// Tasks made to fail so far.
    public var failedTasks: Int { state.withLock { $0.failedTasks } }
}
