import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// The outbox: a terminal update writes its webhook event and deliveries in the same
    /// transaction, and only then; when the event cannot be written, the task does not end.
    @Suite struct Outbox {
        static let everything = WebhookEndpoint(url: "https://global.example/all")
        static let failuresOnly = WebhookEndpoint(url: "https://global.example/failures", events: [.failed])

        @Test(arguments: StoreFactory.all)
        func aTerminalTaskWritesOneEventPerTarget(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.everything, Self.failuresOnly])
            let task = try await store.task(.completed, files: [(10, store.now), (20, store.now)], callback: "https://client.example/cb")
            #expect(store.probe.wakes == 1)
            let rows = try await store.webhooks.list(.all)
            #expect(Set(rows.map(\.endpointURL)) == ["https://client.example/cb", Self.everything.url])
            #expect(Set(rows.map(\.eventID)).count == 1)
            #expect(rows.allSatisfy { $0.status == .pending && $0.taskID == task.id && $0.eventType == "task.completed" && $0.attempts == 0 })
            #expect(rows.allSatisfy { $0.nextAttemptAt == store.now && $0.createdAt == store.now })
            #expect(rows.first?.eventID.hasPrefix("msg_") == true)

            // The payload was rendered from the ended task and its artifacts, inside the transaction.
            let jobs = try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 10, now: store.now)
            #expect(jobs.count == 2)
            let job = try #require(jobs.first)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(job.payload)) as? [String: Any])
            #expect(body["task"] as? String == task.id)
            #expect(body["status"] as? String == "completed")
            #expect(body["artifacts"] as? Int == 2)
        }

        @Test(arguments: StoreFactory.all)
        func everyTerminalStateHasItsEventType(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.failuresOnly])
            let failed = try await store.task(.failed)
            let canceled = try await store.task(.canceled, callback: "https://client.example/cb")
            let rows = try await store.webhooks.list(.all)
            #expect(rows.count == 2)
            #expect(rows.first { $0.taskID == failed.id }?.eventType == "task.failed")
            #expect(rows.first { $0.taskID == failed.id }?.endpointURL == Self.failuresOnly.url)
            #expect(rows.first { $0.taskID == canceled.id }?.eventType == "task.canceled")
            #expect(store.probe.wakes == 2)
        }

        @Test(arguments: StoreFactory.all)
        func nonTerminalChangesWriteNothing(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.everything])
            let task = try await store.task(.downloading, callback: "https://client.example/cb")
            #expect(try await store.webhooks.list(.all).isEmpty)
            #expect(store.probe.wakes == 0)
            #expect(try await store.tasks.task(id: task.id)?.status == .downloading)
        }

        @Test(arguments: StoreFactory.all)
        func aTaskWithoutTargetsGetsNoEvent(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.failuresOnly])
            try await store.task(.completed)
            #expect(try await store.webhooks.list(.all).isEmpty)
            #expect(try await store.webhooks.nextDue() == nil)
            #expect(store.probe.wakes == 0)
        }

        @Test(arguments: StoreFactory.all)
        func aCallbackThatIsAlsoAnEndpointIsSentOnce(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.everything])
            try await store.task(.completed, callback: Self.everything.url)
            #expect(try await store.webhooks.list(.all).map(\.endpointURL) == [Self.everything.url])
        }

        /// Atomicity: an event that cannot be written rolls the terminal update back.
        @Test(arguments: StoreFactory.all)
        func aFailingEventWriteKeepsTheTaskWhereItWas(_ factory: StoreFactory) async throws {
            let store = try await factory.make(endpoints: [Self.everything])
            let task = try await store.drive(try await store.queued(), to: .downloading, files: [(10, store.now)])
            let held = try await store.lease(task, in: .downloading)
            store.probe.failRendering(true)
            await #expect(throws: OutboxProbe.RenderingFailed()) {
                try await store.tasks.advance(taskID: task.id, from: .downloading, lease: held, change: TaskChange(path: [.completed]), now: store.now)
            }
            await #expect(throws: OutboxProbe.RenderingFailed()) {
                try await store.tasks.advance(taskID: task.id, from: .downloading, lease: held, change: .fail("x"), now: store.now)
            }
            let unchanged = try #require(try await store.tasks.task(id: task.id))
            #expect(unchanged.status == .downloading && unchanged.finishedAt == nil && unchanged.lease == held)
            #expect(try await store.webhooks.list(.all).isEmpty)
            #expect(store.probe.wakes == 0)

            // A cancel is a terminal update too.
            let queued = try await store.queued()
            await #expect(throws: OutboxProbe.RenderingFailed()) { try await store.tasks.cancel(taskID: queued.id, now: store.now) }
            #expect(try await store.tasks.task(id: queued.id)?.status == .queued)
            #expect(try await store.webhooks.list(.all).isEmpty)

            // Once events can be written again, the worker still holds the task and ends it.
            store.probe.failRendering(false)
            let completed = try await store.tasks.advance(taskID: task.id, from: .downloading, lease: held, change: TaskChange(path: [.completed]), now: store.now)
            #expect(completed.status == .completed)
            #expect(try await store.webhooks.list(.all).count == 1)
            #expect(store.probe.wakes == 1)
        }

        /// The service's own payload: `{"type", "timestamp", "data": <task object>}`.
        @Test(arguments: StoreFactory.all)
        func theServicePayloadCarriesTheTaskObject(_ factory: StoreFactory) async throws {
            let representations = TaskRepresentations(publicURLs: PublicURLs(baseURL: "http://files.test"))
            let outbox = WebhookOutbox.taskEvents(endpoints: [Self.everything], representations: representations, wake: {})
            let opened = try await factory.open(outbox)
            let store = StoreUnderTest(tasks: opened.tasks, webhooks: opened.webhooks, probe: OutboxProbe(), keepAlive: opened.keepAlive)
            let task = try await store.task(.completed, files: [(10, store.now)])
            let job = try #require(try await store.webhooks.claim(owner: "d", lease: .seconds(30), limit: 1, now: store.now).first)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(job.payload)) as? [String: Any])
            #expect(body["type"] as? String == "task.completed")
            #expect((body["timestamp"] as? String)?.hasSuffix("Z") == true)
            let data = try #require(body["data"] as? [String: Any])
            #expect(data["id"] as? String == task.id)
            #expect(data["status"] as? String == "completed")
            #expect((data["artifacts"] as? [[String: Any]])?.first?["url"] as? String == "http://files.test/files/\(task.id)/0.wav")
        }
    }
}
