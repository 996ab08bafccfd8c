import Foundation
import Logging
import Synchronization

/// Keeps the leases of the steps in flight alive: one loop for all of them, which renews each
/// lease every third of its length and stops a step whose lease is gone (cancelled or re-leased
/// meanwhile) or could not be renewed in time (a step run in its caller's task only when it fails).
///
/// One loop rather than a timer per step: most steps (a poll) end in milliseconds, long before a
/// renewal is due, and a timer armed and cancelled per step cost more CPU than the poll's own
/// database work. The loop runs only while some step is held.
final class LeaseKeeper: Sendable {
    /// A step being kept: its lease, when it was last renewed, and how to stop it.
    private struct Held {
        var taskID: String
        var lease: Lease
        /// When the lease was last taken or renewed: it runs out `length` after this.
        var renewedAt: ContinuousClock.Instant
        /// After a failed renewal, when to try again (sooner than a third of the lease).
        var retryAt: ContinuousClock.Instant?
        var stop: @Sendable () -> Void

        func due(every interval: Duration) -> ContinuousClock.Instant {
            retryAt ?? renewedAt.advanced(by: interval)
        }
    }

    private struct State {
        var held: [UInt64: Held] = [:]
        var nextID: UInt64 = 0
        var looping = false
    }

    private let store: any TaskStore
    /// Length of a lease; each is renewed after a third of it.
    private let length: Duration
    private let state = Mutex(State())

    init(store: any TaskStore, length: Duration) {
        self.store = store
        self.length = length
    }

    private var interval: Duration { length / 3 }

    /// Runs `body` while the lease on `taskID` is kept; throws `leaseLost` when it could not be.
    ///
    /// An `interruptible` body runs in a task of its own, cancelled as soon as the lease is gone:
    /// a submit or a download must not go on for someone else's task. Other bodies run in the
    /// caller's task and are not cut short; they learn of the loss when they fail. That suits a
    /// poll: the provider call is a read, bounded by its timeout, and the write of its result is
    /// fenced by the lease anyway; and starting a task per poll cost ~2 % of its CPU.
    func whileHolding(
        taskID: String, lease: Lease, interruptible: Bool = true, logger: Logger, _ body: @escaping @Sendable () async throws -> Void
    ) async throws {
        let lost = Atomic<Bool>(false)
        // A new task does not inherit its starter's executor preference: pass it on, so a submit
        // stays on the submit worker's event loop.
        let work = interruptible ? Task(executorPreference: EventLoopTaskExecutor.preferred) { try await body() } : nil
        let (id, startLoop) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            state.held[state.nextID] = Held(
                taskID: taskID, lease: lease, renewedAt: .now, retryAt: nil,
                stop: {
                    lost.store(true, ordering: .relaxed)
                    work?.cancel()
                })
            defer { state.looping = true }
            return (state.nextID, !state.looping)
        }
        if startLoop { Task { await self.loop(logger: logger) } }
        defer { _ = state.withLock { $0.held.removeValue(forKey: id) } }
        do {
            if let work {
                try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
            } else {
                // Its writes passed the lease's fence: what it did counts, whatever came after.
                try await body()
                return
            }
        } catch {
            if lost.load(ordering: .relaxed) { throw TaskStoreError.leaseLost(taskID) }
            throw error
        }
        if lost.load(ordering: .relaxed) { throw TaskStoreError.leaseLost(taskID) }
    }

    /// Until nothing is held: sleep until the oldest renewal is due, renew what is due.
    private func loop(logger: Logger) async {
        while true {
            let due: [(UInt64, Held)]
            let wait: Duration? = state.withLock { state in
                guard let next = state.held.values.map({ $0.due(every: interval) }).min() else {
                    state.looping = false
                    return nil
                }
                return max(.zero, ContinuousClock.now.duration(to: next))
            }
            guard let wait else { return }
            if wait > .zero { try? await Task.sleep(for: min(wait, interval)) }
            let now = ContinuousClock.now
            due = state.withLock { state in state.held.filter { now >= $0.value.due(every: interval) }.map { ($0.key, $0.value) } }
            for (id, held) in due {
                await renew(id, held, logger: logger)
            }
        }
    }

    private func renew(_ id: UInt64, _ held: Held, logger: Logger) async {
        do {
            let attempted = ContinuousClock.now
            if try await store.renewLease(taskID: held.taskID, lease: held.lease, for: length, now: Date()) {
                state.withLock { state in
                    state.held[id]?.renewedAt = attempted
                    state.held[id]?.retryAt = nil
                }
            } else {
                held.stop()
            }
        } catch {
            logger.warning("could not renew the lease", metadata: ["task.id": "\(held.taskID)", "error": "\(error)"])
            // Retries come every tenth of the lease; if the next one could be too late, the lease
            // may have run out by then: stop before someone else starts.
            let retry = length / 10
            if held.renewedAt.duration(to: .now) + retry >= length {
                held.stop()
            } else {
                state.withLock { $0.held[id]?.retryAt = ContinuousClock.now.advanced(by: retry) }
            }
        }
    }
}
