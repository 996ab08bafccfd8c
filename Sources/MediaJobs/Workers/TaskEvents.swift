import Foundation
import ServiceLifecycle
import Synchronization

/// In-process notice that a task ended, so a client waiting on a synchronous image request answers at once.
///
/// Only a hint: waiters also re-read the store on a timer, so a notice from another process (or
/// one missed) only delays an answer, never loses it.
public final class TaskEvents: Sendable {
    private let waiters = Mutex<[String: [UInt64: CheckedContinuation<Void, Never>]]>([:])
    private let counter = Atomic<UInt64>(0)

    public init() {}

    /// Tells waiters on `taskID` that it reached a terminal state.
    public func taskEnded(_ taskID: String) {
        let continuations = waiters.withLock { $0.removeValue(forKey: taskID) } ?? [:]
        for continuation in continuations.values { continuation.resume() }
    }

    /// Waits until `load` returns a terminal task, or `timeout` passes; returns the latest state read.
    public func waitForTerminal(
        taskID: String, timeout: Duration, recheckEvery: Duration = .seconds(1), load: @Sendable () async throws -> MediaTask?
    ) async throws -> MediaTask? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let task = try await load()
            // On shutdown answer with what we have (a 202 for images) instead of holding the server open.
            guard let task, !task.status.isTerminal, !Task.isShuttingDownGracefully else { return task }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return task }
            await wait(taskID: taskID, timeout: min(remaining, recheckEvery))
        }
    }

    private func wait(taskID: String, timeout: Duration) async {
        let id = counter.add(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let cancelled = self.waiters.withLock { waiters -> Bool in
                            if Task.isCancelled { return true }
                            waiters[taskID, default: [:]][id] = continuation
                            return false
                        }
                        if cancelled { continuation.resume() }
                    }
                } onCancel: {
                    let continuation = self.waiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
                        let removed = waiters[taskID]?.removeValue(forKey: id)
                        if waiters[taskID]?.isEmpty == true { waiters[taskID] = nil }
                        return removed
                    }
                    continuation?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
