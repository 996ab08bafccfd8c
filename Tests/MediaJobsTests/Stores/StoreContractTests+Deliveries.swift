import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// Webhook deliveries: claimed under a lease, retried, dead-lettered, redelivered, disabled by a 410.
    @Suite struct Deliveries {
        @Test(arguments: StoreFactory.all)
        func attemptsRetryThenDeadLetterThenRedeliver(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            try await store.task(.failed, callback: "https://client.example/cb")
            let now = store.now
            var job = try #require(try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: now).first)
            #expect(job.delivery.eventType == "task.failed")
            #expect(try await store.webhooks.claim(owner: "other", lease: .seconds(30), limit: 1, now: now).isEmpty)
            #expect(try await store.webhooks.nextDue() == nil, "a leased delivery is not waiting")

            try await store.webhooks.record(.retry(status: 500, error: "the endpoint answered 500", next: now.addingTimeInterval(60)), deliveryID: job.delivery.id, owner: "d", now: now)
            let failed = try #require(try await store.webhooks.list(.failed).first)
            #expect(failed.attempts == 1 && failed.lastResponseStatus == 500 && failed.lastAttemptAt == now && failed.status == .pending)
            #expect(try await store.webhooks.nextDue() == now.addingTimeInterval(60))
            #expect(try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: now).isEmpty)

            job = try #require(try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: now.addingTimeInterval(61)).first)
            try await store.webhooks.record(.dead(status: nil, error: "refused"), deliveryID: job.delivery.id, owner: "d", now: now.addingTimeInterval(61))
            let dead = try #require(try await store.webhooks.list(.dead).first)
            #expect(dead.attempts == 2 && dead.lastError == "refused" && dead.lastResponseStatus == nil)
            #expect(try await store.webhooks.list(.pending).isEmpty)
            #expect(try await store.webhooks.nextDue() == nil)

            #expect(try await store.webhooks.redeliverAllDead(now: now.addingTimeInterval(100)) == 1)
            #expect(try await store.webhooks.redeliverAllDead(now: now.addingTimeInterval(100)) == 0)
            let again = try #require(try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: now.addingTimeInterval(100)).first)
            #expect(again.delivery.eventID == dead.eventID && again.delivery.attempts == 0)
            #expect(again.payload == job.payload, "the same event, byte for byte")
            try await store.webhooks.record(.delivered(status: 204), deliveryID: again.delivery.id, owner: "d", now: now.addingTimeInterval(101))
            let delivered = try #require(try await store.webhooks.list(.delivered).first)
            #expect(delivered.deliveredAt == now.addingTimeInterval(101) && delivered.lastError == nil && delivered.attempts == 1)
            #expect(try await store.webhooks.counts() == [.delivered: 1])
        }

        /// Every outcome is fenced by the lease: a dispatcher that lost it records nothing.
        @Test(arguments: StoreFactory.all)
        func aLateOutcomeAfterTheLeaseMovedIsIgnored(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            try await store.task(.completed, callback: "https://client.example/cb")
            // A lease of zero has run out by the next claim, on whichever clock the store keeps leases.
            let first = try #require(try await store.webhooks.claim(owner: "slow", lease: .zero, limit: 1, now: store.now).first)
            let second = try #require(try await store.webhooks.claim(owner: "fast", lease: .seconds(30), limit: 1, now: store.now).first)
            #expect(first.delivery.id == second.delivery.id)
            try await store.webhooks.record(.dead(status: 500, error: "late"), deliveryID: first.delivery.id, owner: "slow", now: store.now.addingTimeInterval(32))
            #expect(try await store.webhooks.list(.all).first?.status == .pending)
            try await store.webhooks.record(.delivered(status: 200), deliveryID: second.delivery.id, owner: "fast", now: store.now.addingTimeInterval(32))
            #expect(try await store.webhooks.list(.all).first?.status == .delivered)
        }

        @Test(arguments: StoreFactory.all)
        func aGoneEndpointIsDisabledUntilRedelivered(_ factory: StoreFactory) async throws {
            let gone = "https://gone.example/cb"
            let store = try await factory.make()
            try await store.task(.completed, callback: gone)
            try await store.task(.failed, callback: gone)
            let jobs = try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: store.now)
            let job = try #require(jobs.first)
            try await store.webhooks.record(.endpointGone(url: gone), deliveryID: job.delivery.id, owner: "d", now: store.now)
            // The answered delivery and the other one waiting for the same endpoint are both disabled.
            let disabled = try await store.webhooks.list(.disabled)
            #expect(disabled.count == 2)
            #expect(disabled.allSatisfy { $0.lastResponseStatus == 410 })
            #expect(disabled.first { $0.id == job.delivery.id }?.attempts == 1)
            // Later events skip it.
            try await store.task(.completed, callback: gone)
            #expect(try await store.webhooks.list(.pending).isEmpty)
            #expect(try await store.webhooks.counts() == [.disabled: 2])

            // Redelivering one re-enables the endpoint.
            let redelivered = try #require(try await store.webhooks.redeliver(id: job.delivery.id, now: store.now))
            #expect(redelivered.status == .pending && redelivered.attempts == 0 && redelivered.deliveredAt == nil)
            try await store.task(.completed, callback: gone)
            #expect(try await store.webhooks.list(.pending).count == 2)
            #expect(try await store.webhooks.redeliver(id: 987_654, now: store.now) == nil)
        }

        @Test(arguments: StoreFactory.all)
        func listFiltersAndLimitsNewestFirst(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [WebhookEndpoint(url: "https://global.example/all")])
            for _ in 0..<3 { try await store.task(.completed) }
            let all = try await store.webhooks.list(.all)
            #expect(all.count == 3)
            #expect(all.map(\.id) == all.map(\.id).sorted(by: >))
            #expect(try await store.webhooks.list(.all, limit: 2).map(\.id) == Array(all.map(\.id).prefix(2)))
            #expect(try await store.webhooks.list(.pending).count == 3)
            #expect(try await store.webhooks.list(.failed).isEmpty)
            #expect(try await store.webhooks.counts() == [.pending: 3])
            #expect(try await store.webhooks.nextDue() == store.now)
        }

        /// A task's deliveries are found by its id however many newer ones other tasks have, and the
        /// list pages by id: each page starts below the last id of the one before.
        @Test(arguments: StoreFactory.all)
        func deliveriesOfOneTaskAndPagesAfterAnID(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [WebhookEndpoint(url: "https://global.example/all")])
            let old = try await store.task(.failed, callback: "https://client.example/cb")
            for _ in 0..<6 { try await store.task(.completed) }
            let mine = try await store.webhooks.list(taskID: old.id, limit: 100)
            #expect(mine.count == 2, "to its callback and to the global endpoint")
            #expect(mine.allSatisfy { $0.taskID == old.id && $0.eventType == "task.failed" })
            #expect(mine.map(\.id) == mine.map(\.id).sorted(by: >))
            #expect(Set(mine.map(\.endpointURL)) == ["https://client.example/cb", "https://global.example/all"])
            #expect(try await store.webhooks.list(.all, limit: 3).allSatisfy { $0.taskID != old.id }, "newer deliveries hide it from the newest")
            #expect(try await store.webhooks.list(taskID: old.id, limit: 1).map(\.id) == [mine[0].id])
            #expect(try await store.webhooks.list(taskID: "suno_none", limit: 100).isEmpty)

            let all = try await store.webhooks.list(.all, limit: 100)
            #expect(all.count == 8)
            var paged = [Int64]()
            var after: Int64?
            repeat {
                let page = try await store.webhooks.list(.all, after: after, limit: 3)
                #expect(page.count <= 3)
                paged += page.map(\.id)
                after = page.count == 3 ? page.last?.id : nil
            } while after != nil
            #expect(paged == all.map(\.id), "every delivery once, newest first")
            #expect(try await store.webhooks.list(.failed, after: all[0].id, limit: 10).isEmpty)
            #expect(try await store.webhooks.list(.pending, after: mine[0].id, limit: 10).map(\.id) == [mine[1].id])
        }
    }
}
