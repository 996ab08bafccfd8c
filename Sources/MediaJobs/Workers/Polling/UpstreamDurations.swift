import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What this instance knows about provider durations, per ``DurationKey``: the recent
/// observations and the ``PollPolicy`` they give.
///
/// Polls read the policy from memory. New observations are kept here at once and written to the
/// store in batches by ``sync()`` (a lost batch after a crash costs only a few observations), which
/// also reads back what every instance observed and rebuilds the policies whose data moved, off the
/// polls' path.
public final class UpstreamDurations: Sendable {
    struct Entry {
        var observations: [Double] = []
        var policy: PollPolicy
        /// Observations since the policy was built.
        var changed = false
        /// Tasks this instance saw still running, kept only while the key has less than a window
        /// of observations (what they say is in ``DurationEstimate/estimate(_:running:prior:)``).
        var running: [String: RunningTask] = [:]
    }

    /// A task seen running: since when the provider has it, and when it was last seen running.
    struct RunningTask {
        var acceptedAt: Date
        var seenAt: Date
    }

    struct State {
        var entries: [DurationKey: Entry] = [:]
        var unsaved: [UpstreamDurationObservation] = []
    }

    public let limits: PollPolicy.Limits
    let store: (any UpstreamDurationStore)?
    /// What is assumed of a key before anything is observed.
    let prior: @Sendable (DurationKey) -> Lognormal
    private let state = Mutex(State())

    /// `prior` by default is ``DurationEstimate/prior(for:)``; a provider whose timing is known in
    /// advance (the built-in simulator) can say so.
    public init(limits: PollPolicy.Limits, store: (any UpstreamDurationStore)?, prior: (@Sendable (DurationKey) -> Lognormal)? = nil) {
        self.limits = limits
        self.store = store
        self.prior = prior ?? { DurationEstimate.prior(for: $0) }
    }

    /// The schedule for tasks of `key` (built from the prior the first time a key is seen).
    public func policy(for key: DurationKey) -> PollPolicy {
        if let policy = state.withLock({ $0.entries[key]?.policy }) { return policy }
        let policy = PollPolicy(distribution: prior(key), limits: limits)
        return state.withLock { state in
            if let existing = state.entries[key]?.policy { return existing }
            state.entries[key] = Entry(policy: policy)
            return policy
        }
    }

    /// Records a duration this instance observed; the policy follows at the next ``sync()``.
    public func observe(_ observation: UpstreamDurationObservation) {
        guard observation.seconds > 0, observation.seconds.isFinite else { return }
        // The key's entry exists after this (its prior policy built outside the lock).
        _ = policy(for: observation.key)
        state.withLock { state in
            state.unsaved.append(observation)
            state.entries[observation.key]?.observations.append(observation.seconds)
            if let count = state.entries[observation.key]?.observations.count, count > DurationEstimate.window {
                state.entries[observation.key]?.observations.removeFirst(count - DurationEstimate.window)
            }
            state.entries[observation.key]?.changed = true
        }
    }

    /// A poll at `now` found the task still running. Until the key has a window of observations
    /// this says something about its durations (they are longer than the time it has run).
    public func noteRunning(_ key: DurationKey, taskID: String, acceptedAt: Date, now: Date) {
        state.withLock { state in
            guard let count = state.entries[key]?.observations.count, count < DurationEstimate.window else { return }
            state.entries[key]?.running[taskID] = RunningTask(acceptedAt: acceptedAt, seenAt: now)
        }
    }

    /// The task ended (its duration is observed, or it failed): it no longer counts as running.
    public func noteEnded(_ key: DurationKey, taskID: String) {
        state.withLock { state in
            _ = state.entries[key]?.running.removeValue(forKey: taskID)
        }
    }

    /// A read of the state (tests).
    func stateForTests<Value>(_ read: (State) -> Value) -> Value {
        state.withLock { read($0) }
    }

    /// The current estimate for `key`.
    public func estimate(for key: DurationKey) -> Lognormal {
        let observations = state.withLock { $0.entries[key]?.observations ?? [] }
        return DurationEstimate.estimate(observations, prior: prior(key))
    }

    /// Writes this instance's new observations, reads everyone's back, and rebuilds the policies
    /// whose observations moved; returns the keys whose policy changed. A store error keeps the
    /// unsaved observations for the next try.
    @discardableResult
    public func sync() async throws -> [DurationKey] {
        if let store {
            let unsaved = state.withLock { state in
                defer { state.unsaved.removeAll() }
                return state.unsaved
            }
            do {
                if !unsaved.isEmpty { try await store.recordUpstreamDurations(unsaved, keep: DurationEstimate.window) }
            } catch {
                state.withLock { $0.unsaved.insert(contentsOf: unsaved, at: 0) }
                throw error
            }
            let shared = try await store.recentUpstreamDurations(limit: DurationEstimate.window)
            for key in shared.keys { _ = policy(for: key) }
            state.withLock { state in
                for (key, observations) in shared where state.entries[key]?.observations != observations {
                    state.entries[key]?.observations = observations
                    state.entries[key]?.changed = true
                }
            }
        }
        return rebuildChangedPolicies()
    }

    /// Rebuilds the policies of keys with new observations, and of keys whose running tasks say
    /// more as time passes (outside the lock: a rebuild takes milliseconds). A task not seen
    /// running for well over a ceiling has ended some other way (failed, cancelled, another
    /// instance's) and no longer counts. Returns the keys whose policy changed.
    @discardableResult
    func rebuildChangedPolicies(now: Date = Date()) -> [DurationKey] {
        let forgetBefore = now.addingTimeInterval(-(2 * limits.ceiling + 60))
        let changed = state.withLock { state in
            var changed: [(key: DurationKey, observations: [Double], running: [Double])] = []
            for key in Array(state.entries.keys) {
                guard var entry = state.entries[key] else { continue }
                if !entry.running.isEmpty {
                    // A full window: the observations alone count from now on.
                    entry.running = entry.observations.count >= DurationEstimate.window ? [:] : entry.running.filter { $0.value.seenAt >= forgetBefore }
                    state.entries[key] = entry
                }
                let running = entry.running.values.map { $0.seenAt.timeIntervalSince($0.acceptedAt) }
                if entry.changed || !running.isEmpty { changed.append((key, entry.observations, running)) }
            }
            return changed
        }
        var rebuilt: [DurationKey] = []
        for (key, observations, running) in changed {
            let estimate = DurationEstimate.estimate(observations, running: running, prior: prior(key))
            let current = state.withLock { $0.entries[key]?.policy.distribution }
            // Running tasks move the estimate a little at every sync: a schedule (milliseconds of
            // dynamic programming) is rebuilt only when it moved by more than a percent.
            let moved = current.map { abs($0.mu - estimate.mu) > 0.01 || abs($0.sigma - estimate.sigma) > 0.01 } ?? true
            let policy = moved ? PollPolicy(distribution: estimate, limits: limits) : nil
            state.withLock { state in
                if let policy { state.entries[key]?.policy = policy }
                if state.entries[key]?.observations == observations { state.entries[key]?.changed = false }
            }
            if policy != nil { rebuilt.append(key) }
        }
        return rebuilt
    }
}

/// Runs ``UpstreamDurations/sync()`` every few seconds while the service runs, re-plans the
/// waiting polls of the kinds whose schedule moved (``PollReplanner``), and syncs once more at
/// shutdown so this instance's last observations are kept.
public struct UpstreamDurationSync: Service {
    let durations: UpstreamDurations
    let replanner: PollReplanner?
    let interval: Duration
    let logger: Logger

    public init(durations: UpstreamDurations, replanner: PollReplanner? = nil, interval: Duration = .seconds(5), logger: Logger) {
        self.durations = durations
        self.replanner = replanner
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await syncLogged()
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await syncLogged()
            }
        }
        await syncLogged()
    }

    private func syncLogged() async {
        do {
            let moved = try await durations.sync()
            if let replanner, !moved.isEmpty {
                let replanned = try await replanner.replan(keys: moved)
                if replanned > 0 {
                    logger.debug("polls re-planned: the schedule moved", metadata: ["polls": "\(replanned)", "keys": "\(moved)"])
                }
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("could not share provider durations; retrying", metadata: ["error": "\(error)"])
        }
    }
}
