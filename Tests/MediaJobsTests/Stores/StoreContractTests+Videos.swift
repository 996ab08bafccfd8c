import Foundation
import Testing

@testable import MediaJobs

extension StoreContractTests {
    /// What the Videos API needs of a store: video tasks read back, oldest-first pages, and a
    /// client's delete of one task with its files journaled in the same transaction.
    @Suite struct Videos {
        @Test(arguments: StoreFactory.all)
        func videoTasksReadBackUnchanged(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let task = try await store.queued(.video, prompt: "waves")
            #expect(task.id.hasPrefix("video_"))
            #expect(try await store.tasks.task(id: task.id) == task)
            guard case .video(let request) = try #require(try await store.tasks.task(id: task.id)).request else {
                Issue.record("not a video request")
                return
            }
            #expect(request == VideoRequest(prompt: "waves", seconds: 4, resolution: .p720, aspectRatio: .portrait))
            #expect(try await store.tasks.list(TaskQuery(kind: .video)).tasks.map(\.id) == [task.id])
        }

        @Test(arguments: StoreFactory.all)
        func listPagesOldestFirstWhenAsked(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            var videos: [MediaTask] = []
            for index in 0..<5 {
                // Two tasks share each creation time: ties go by id.
                videos.append(try await store.queued(.video, createdAt: store.now.addingTimeInterval(Double(index / 2))))
            }
            _ = try await store.queued(.music, createdAt: store.now.addingTimeInterval(1))
            var query = TaskQuery(kind: .video, limit: 2, ascending: true)
            var seen: [String] = []
            while true {
                let page = try await store.tasks.list(query)
                seen += page.tasks.map(\.id)
                guard page.hasMore, let last = page.tasks.last else { break }
                query.after = last.id
            }
            #expect(seen == videos.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(\.id))
        }

        @Test(arguments: StoreFactory.all)
        func deleteTaskRemovesOneTerminalTaskAndJournalsItsFolder(_ factory: StoreFactory) async throws {
            let store = try await factory.make()
            let done = try await store.task(.video, .completed, files: [(1000, store.now), (200, store.now)], callback: "https://client.example/cb")
            let running = try await store.task(.video, .processing)
            let other = try await store.task(.video, .completed, files: [(10, store.now)])

            #expect(try await store.tasks.deleteTask(id: running.id, now: store.now) == nil, "an unfinished task is not deleted")
            #expect(try await store.tasks.deleteTask(id: "video_missing", now: store.now) == nil)
            let deleted = try #require(try await store.tasks.deleteTask(id: done.id, now: store.now))
            #expect(deleted.id == done.id && deleted.kind == .video)
            #expect(deleted.stored == FileTotals(files: 2, bytes: 1200))
            #expect(try await store.tasks.task(id: done.id) == nil)
            #expect(try await store.artifacts(done).isEmpty)
            #expect(try await store.tasks.task(id: running.id) != nil)
            #expect(try await store.artifacts(other).count == 1)
            let removals = try await store.tasks.pendingFileRemovals(after: 0, limit: 10)
            #expect(removals.map(\.taskID) == [done.id])
            #expect(removals.allSatisfy { $0.fileName == nil })
            #expect(try await store.tasks.deleteTask(id: done.id, now: store.now) == nil, "deleted once")
        }
    }
}
