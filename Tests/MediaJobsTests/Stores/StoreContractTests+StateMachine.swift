import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// Every edge of the state machine (``TaskStatus/canTransition(to:)``) is taken, and every
    /// other step refused, by the store itself.
    @Suite struct StateMachine {
        /// A task in `status`, leased to "w", and its lease.
        func held(_ store: StoreUnderTest, in status: TaskStatus) async throws -> (MediaTask, Lease) {
            let task = try await store.drive(try await store.queued(), to: status)
            return (task, try await store.lease(task, in: status))
        }

        @Test(arguments: StoreFactory.all, TaskStatus.active)
        func everySingleStepFromAnActiveState(_ factory: StoreFactory, _ from: TaskStatus) async throws {
            let store = try await factory.make()
            for to in TaskStatus.allCases {
                let (task, lease) = try await held(store, in: from)
                let change = TaskChange(path: [to])
                if from.canTransition(to: to) {
                    let moved = try await store.tasks.advance(taskID: task.id, from: from, lease: lease, change: change, now: store.now)
                    #expect(moved.status == to, "\(from) → \(to)")
                    #expect((moved.finishedAt != nil) == to.isTerminal, "\(from) → \(to)")
                } else {
                    await #expect(throws: TaskStoreError.invalidTransition(from: from, path: [to]), "\(from) → \(to)") {
                        try await store.tasks.advance(taskID: task.id, from: from, lease: lease, change: change, now: store.now)
                    }
                    // Refused before anything changed: the task and its lease are as they were.
                    let current = try #require(try await store.tasks.task(id: task.id))
                    #expect(current.status == from && current.lease == lease, "\(from) → \(to)")
                }
            }
        }

        @Test(arguments: StoreFactory.all, TaskStatus.active)
        func everyTwoStepPathFromAnActiveState(_ factory: StoreFactory, _ from: TaskStatus) async throws {
            let store = try await factory.make()
            for first in TaskStatus.allCases {
                for second in TaskStatus.allCases {
                    let path = [first, second]
                    let (task, lease) = try await held(store, in: from)
                    let change = TaskChange(path: path)
                    if from.canFollow(path) {
                        let moved = try await store.tasks.advance(taskID: task.id, from: from, lease: lease, change: change, now: store.now)
                        #expect(moved.status == second, "\(from) → \(path)")
                    } else {
                        await #expect(throws: TaskStoreError.invalidTransition(from: from, path: path), "\(from) → \(path)") {
                            try await store.tasks.advance(taskID: task.id, from: from, lease: lease, change: change, now: store.now)
                        }
                        #expect(try await store.tasks.task(id: task.id)?.status == from, "\(from) → \(path)")
                    }
                }
            }
        }

        /// A terminal task never changes again: no step, no cancel, no claim.
        @Test(arguments: StoreFactory.all, [TaskStatus.completed, .failed, .canceled])
        func aTerminalTaskNeverChanges(_ factory: StoreFactory, _ terminal: TaskStatus) async throws {
            let store = try await factory.make()
            let task = try await store.task(terminal)
            #expect(task.status == terminal && task.finishedAt != nil)
            for to in TaskStatus.allCases {
                await #expect(throws: TaskStoreError.invalidTransition(from: terminal, path: [to])) {
                    try await store.tasks.advance(taskID: task.id, from: terminal, lease: Lease(owner: "w", epoch: task.leaseEpoch), change: TaskChange(path: [to]), now: store.now)
                }
            }
            // Claiming it under its old state finds nothing; a write from that state is refused.
            for active in TaskStatus.active {
                #expect(try await store.tasks.claim(active, owner: "w", lease: .seconds(60), limit: 10, now: store.now.addingTimeInterval(3600)).isEmpty)
                await #expect(throws: TaskStoreError.leaseLost(task.id)) {
                    try await store.tasks.advance(taskID: task.id, from: active, lease: Lease(owner: "w", epoch: task.leaseEpoch), change: .fail("late"), now: store.now)
                }
            }
            await #expect(throws: TaskStoreError.conflict(id: task.id, status: terminal)) { try await store.tasks.cancel(taskID: task.id, now: store.now) }
            #expect(try await store.tasks.task(id: task.id) == task)
        }
    }
}
