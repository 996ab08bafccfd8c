import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The loop every background worker runs: claim due items, process up to `concurrency` at once,
/// and sleep until the next item is due, a wake-up signal arrives, or a slot frees up.
///
/// On graceful shutdown it stops claiming and lets the items in hand finish.
struct WorkLoop<Item: Sendable>: Sendable {
    let name: String
    let concurrency: Int
    let idleTick: Duration
    /// After a shutdown request, how long items in hand may run before they are cancelled.
    let shutdownGrace: Duration
    /// Shortest sleep until items come due: items due within it are claimed together, in one
    /// transaction, instead of one claim each (a poll then starts at most this late).
    var batchWindow: Duration = .milliseconds(100)
    let signal: WorkSignal
    let claim: @Sendable (_ limit: Int) async throws -> [Item]
    let nextDue: @Sendable () async throws -> Date?
    let process: @Sendable (Item) async -> Void
    let logger: Logger

    func run() async {
        let stopping = SharedFlag()
        let inFlight = SharedCounter()
        let limit = max(1, concurrency)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                // Consecutive failed claims (the database unreachable): the wait before the next grows.
                var failedClaims = 0
                while !stopping.isSet, !Task.isCancelled {
                    let free = limit - inFlight.value
                    if free > 0 {
                        let claimed: [Item]
                        do {
                            claimed = try await claim(free)
                            if failedClaims > 0 { logger.notice("claiming work again", metadata: ["worker": "\(name)"]) }
                            failedClaims = 0
                        } catch {
                            failedClaims += 1
                            let backoff = Self.claimBackoff(afterFailures: failedClaims, idleTick: idleTick)
                            logger.error("claiming work failed", metadata: ["worker": "\(name)", "error": "\(error)", "retry.in": "\(backoff)"])
                            await signal.wait(timeout: backoff)
                            continue
                        }
                        for item in claimed {
                            inFlight.add(1)
                            group.addTask {
                                await process(item)
                                // Only a full loop waits for a free slot; otherwise it wakes when
                                // the next item is due (a claim per finished item would cost a
                                // transaction each).
                                if inFlight.add(-1) == limit - 1 { signal.signal() }
                            }
                        }
                        if claimed.count == free { continue }
                    }
                    // With every slot busy only a finishing item (which signals) frees room.
                    let wait = free > 0 ? await idleWait() : idleTick
                    await signal.wait(timeout: wait)
                }
                // Stopping: give the items in hand the grace period, then cancel what is left
                // (each item releases its claim when cancelled).
                let deadline = ContinuousClock.now.advanced(by: shutdownGrace)
                while inFlight.value > 0, ContinuousClock.now < deadline {
                    await signal.wait(timeout: min(.milliseconds(100), ContinuousClock.now.duration(to: deadline)))
                }
                if inFlight.value > 0 {
                    logger.notice("shutdown grace period over; cancelling unfinished work", metadata: ["worker": "\(name)", "in_flight": "\(inFlight.value)"])
                    group.cancelAll()
                }
            }
        } onGracefulShutdown: {
            stopping.set()
            signal.signal()
        }
    }

    /// The wait after `failures` failed claims in a row: one idle tick, doubling up to 30 s.
    static func claimBackoff(afterFailures failures: Int, idleTick: Duration) -> Duration {
        min(idleTick * (1 << min(failures - 1, 16)), max(idleTick, .seconds(30)))
    }

    /// Until the next due item, at most one idle tick.
    private func idleWait() async -> Duration {
        guard let due = try? await nextDue() else { return idleTick }
        let wait = due.timeIntervalSinceNow
        if wait <= 0 { return min(batchWindow, .milliseconds(5)) }
        return min(idleTick, max(batchWindow, .milliseconds(Int64(wait * 1000) + 1)))
    }
}

/// A flag set once and read from any task.
final class SharedFlag: Sendable {
    private let storage = Atomic<Bool>(false)
    var isSet: Bool { storage.load(ordering: .acquiring) }
    func set() { storage.store(true, ordering: .releasing) }
}

/// A counter shared between a worker loop and its items.
final class SharedCounter: Sendable {
    private let storage = Atomic<Int>(0)
    var value: Int { storage.load(ordering: .acquiring) }
    /// Adds `delta`; returns the new value.
    @discardableResult
    func add(_ delta: Int) -> Int { storage.add(delta, ordering: .acquiringAndReleasing).newValue }
}
