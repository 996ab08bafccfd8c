import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// Races: claimers, idempotency keys and the per-key cap under many concurrent callers.
    @Suite struct Concurrency {
        @Test(arguments: StoreFactory.all)
        func concurrentClaimersNeverGetTheSameTask(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            var ids: Set<String> = []
            for index in 0..<120 {
                ids.insert(try await store.queued(createdAt: store.now.addingTimeInterval(-Double(index))).id)
            }
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for claimer in 0..<6 {
                    group.addTask {
                        var mine: [String] = []
                        while true {
                            let batch = try await store.tasks.claim(.queued, owner: "claimer-\(claimer)", lease: .seconds(60), limit: 4, now: store.now)
                            guard !batch.isEmpty else { return mine }
                            #expect(batch.allSatisfy { $0.leaseOwner == "claimer-\(claimer)" })
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claims.count == ids.count, "every task claimed exactly once")
            #expect(Set(claims) == ids)
        }

        /// N concurrent submits with one key and one request: one task, the others get it back.
        @Test(arguments: StoreFactory.all)
        func concurrentSubmitsWithOneKeyMakeOneTask(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let claim = IdempotencyClaim(owner: "key-1", key: "order-7", fingerprint: "same-body")
            let outcomes = try await withThrowingTaskGroup(of: AcceptOutcome.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        let task = MediaTask(request: .music(MusicRequest(prompt: "p\(index)")), owner: "key-1", createdAt: store.now, deadline: .seconds(600))
                        return try await store.tasks.accept(task, idempotency: claim, maxActivePerOwner: nil, now: store.now)
                    }
                }
                return try await group.reduce(into: [AcceptOutcome]()) { $0.append($1) }
            }
            let created = outcomes.compactMap { if case .created(let task) = $0 { task } else { nil } }
            #expect(created.count == 1)
            let winner = try #require(created.first)
            #expect(outcomes.allSatisfy { $0.task == winner })
            #expect(try await store.tasks.list(TaskQuery(limit: 100)).tasks.map(\.id) == [winner.id])

            // The same key with another request is refused, from any number of callers at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let other = MediaTask(request: .music(MusicRequest(prompt: "other")), owner: "key-1", createdAt: store.now, deadline: .seconds(600))
                        await #expect(throws: TaskStoreError.idempotencyKeyReused(key: "order-7")) {
                            try await store.tasks.accept(
                                other, idempotency: IdempotencyClaim(owner: "key-1", key: "order-7", fingerprint: "other-body"), maxActivePerOwner: nil, now: store.now)
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Keys belong to their owner: another owner's same key is a new task.
            let elsewhere = MediaTask(request: .music(MusicRequest(prompt: "x")), owner: "key-2", createdAt: store.now, deadline: .seconds(600))
            let outcome = try await store.tasks.accept(
                elsewhere, idempotency: IdempotencyClaim(owner: "key-2", key: "order-7", fingerprint: "other-body"), maxActivePerOwner: nil, now: store.now)
            #expect(outcome == .created(elsewhere))
        }

        /// Two different requests race for one key: exactly one wins, each loser learns which way it lost.
        @Test(arguments: StoreFactory.all)
        func twoRequestsRacingForOneKeyNeverMakeTwoTasks(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let results = try await withThrowingTaskGroup(of: (String, Result<AcceptOutcome, TaskStoreError>).self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let fingerprint = index % 2 == 0 ? "a" : "b"
                        let task = MediaTask(request: .music(MusicRequest(prompt: fingerprint)), createdAt: store.now, deadline: .seconds(600))
                        do {
                            let outcome = try await store.tasks.accept(
                                task, idempotency: IdempotencyClaim(owner: nil, key: "k", fingerprint: fingerprint), maxActivePerOwner: nil, now: store.now)
                            return (fingerprint, .success(outcome))
                        } catch let error as TaskStoreError {
                            return (fingerprint, .failure(error))
                        }
                    }
                }
                return try await group.reduce(into: [(String, Result<AcceptOutcome, TaskStoreError>)]()) { $0.append($1) }
            }
            let created = results.compactMap { fingerprint, result in
                if case .success(.created(let task)) = result { (fingerprint, task) } else { nil }
            }
            #expect(created.count == 1)
            let (winning, task) = try #require(created.first)
            for (fingerprint, result) in results {
                switch result {
                case .success(let outcome):
                    #expect(fingerprint == winning && outcome.task == task)
                case .failure(let error):
                    #expect(fingerprint != winning && error == .idempotencyKeyReused(key: "k"))
                }
            }
            #expect(try await store.tasks.list(TaskQuery(limit: 100)).tasks.count == 1)
        }

        /// A key is remembered for its lifetime, and free again after it.
        @Test(arguments: StoreFactory.all)
        func anExpiredKeyIsFreeAgain(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let claim = IdempotencyClaim(owner: nil, key: "k", fingerprint: "f", lifetime: .seconds(60))
            let first = MediaTask(request: .music(MusicRequest(prompt: "a")), createdAt: store.now, deadline: .seconds(600))
            #expect(try await store.tasks.accept(first, idempotency: claim, maxActivePerOwner: nil, now: store.now) == .created(first))
            let second = MediaTask(request: .music(MusicRequest(prompt: "a")), createdAt: store.now, deadline: .seconds(600))
            #expect(try await store.tasks.accept(second, idempotency: claim, maxActivePerOwner: nil, now: store.now.addingTimeInterval(30)) == .replayed(first))
            #expect(try await store.tasks.accept(second, idempotency: claim, maxActivePerOwner: nil, now: store.now.addingTimeInterval(61)) == .created(second))
        }

        /// The per-key cap on tasks in flight holds under concurrent submits, and frees up as tasks end.
        @Test(arguments: StoreFactory.all)
        func thePerKeyCapHoldsUnderConcurrentSubmits(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let results = try await withThrowingTaskGroup(of: Result<AcceptOutcome, TaskStoreError>.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let task = MediaTask(request: .music(MusicRequest(prompt: "p\(index)")), owner: "key-1", createdAt: store.now, deadline: .seconds(600))
                        do {
                            return .success(try await store.tasks.accept(task, idempotency: nil, maxActivePerOwner: 3, now: store.now))
                        } catch let error as TaskStoreError {
                            return .failure(error)
                        }
                    }
                }
                return try await group.reduce(into: [Result<AcceptOutcome, TaskStoreError>]()) { $0.append($1) }
            }
            let accepted = results.compactMap { try? $0.get().task }
            #expect(accepted.count == 3)
            #expect(results.filter { (try? $0.get()) == nil }.allSatisfy { $0 == .failure(.tooManyActiveTasks(limit: 3)) })
            // Another key has its own allowance; a task without an owner is never capped.
            let other = MediaTask(request: .music(MusicRequest(prompt: "x")), owner: "key-2", createdAt: store.now, deadline: .seconds(600))
            #expect(try await store.tasks.accept(other, idempotency: nil, maxActivePerOwner: 3, now: store.now) == .created(other))
            // A task that ends frees a place.
            _ = try await store.tasks.cancel(taskID: accepted[0].id, now: store.now)
            let next = MediaTask(request: .music(MusicRequest(prompt: "y")), owner: "key-1", createdAt: store.now, deadline: .seconds(600))
            #expect(try await store.tasks.accept(next, idempotency: nil, maxActivePerOwner: 3, now: store.now) == .created(next))
            let over = MediaTask(request: .music(MusicRequest(prompt: "z")), owner: "key-1", createdAt: store.now, deadline: .seconds(600))
            await #expect(throws: TaskStoreError.tooManyActiveTasks(limit: 3)) {
                try await store.tasks.accept(over, idempotency: nil, maxActivePerOwner: 3, now: store.now)
            }
        }

        /// Refused submits (a reused key) among many concurrent ones fail alone; the others are stored.
        @Test(arguments: StoreFactory.all)
        func refusedSubmitsAmongConcurrentOnesFailAlone(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let first = MediaTask(request: .music(MusicRequest(prompt: "first")), createdAt: store.now, deadline: .seconds(600))
            _ = try await store.tasks.accept(first, idempotency: IdempotencyClaim(owner: nil, key: "k", fingerprint: "f1"), maxActivePerOwner: nil, now: store.now)
            let outcomes = try await withThrowingTaskGroup(of: (Int, Result<AcceptOutcome, TaskStoreError>).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let task = MediaTask(request: .music(MusicRequest(prompt: "p\(index)")), createdAt: store.now, deadline: .seconds(600))
                        // Every fourth submit reuses the key with another request: refused.
                        let claim = index % 4 == 0 ? IdempotencyClaim(owner: nil, key: "k", fingerprint: "other") : nil
                        do {
                            return (index, .success(try await store.tasks.accept(task, idempotency: claim, maxActivePerOwner: nil, now: store.now)))
                        } catch let error as TaskStoreError {
                            return (index, .failure(error))
                        }
                    }
                }
                return try await group.reduce(into: [Int: Result<AcceptOutcome, TaskStoreError>]()) { $0[$1.0] = $1.1 }
            }
            var created: [MediaTask] = []
            for (index, outcome) in outcomes {
                switch outcome {
                case .success(.created(let task)):
                    #expect(index % 4 != 0)
                    created.append(task)
                case .failure(let error):
                    #expect(index % 4 == 0)
                    #expect(error == .idempotencyKeyReused(key: "k"))
                default:
                    Issue.record("unexpected outcome \(outcome) for submit \(index)")
                }
            }
            #expect(created.count == 30)
            for task in created {
                #expect(try await store.tasks.task(id: task.id) == task)
            }
            #expect(try await store.tasks.list(TaskQuery(limit: 100)).tasks.count == 31)
        }
    }
}
