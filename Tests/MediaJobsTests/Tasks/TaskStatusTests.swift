import Testing

@testable import MediaJobs

@Suite struct TaskStatusTests {
    @Test func forwardEdgesFollowTheDiagram() {
        #expect(TaskStatus.queued.canTransition(to: .processing))
        #expect(TaskStatus.processing.canTransition(to: .downloading))
        #expect(TaskStatus.downloading.canTransition(to: .completed))
        #expect(!TaskStatus.queued.canTransition(to: .downloading))
        #expect(!TaskStatus.queued.canTransition(to: .completed))
        #expect(!TaskStatus.processing.canTransition(to: .queued))
    }

    @Test(arguments: [TaskStatus.queued, .processing, .downloading])
    func everyActiveStateCanFail(_ status: TaskStatus) {
        #expect(status.canTransition(to: .failed))
    }

    @Test func onlyQueuedAndProcessingCanBeCanceled() {
        #expect(TaskStatus.queued.canTransition(to: .canceled))
        #expect(TaskStatus.processing.canTransition(to: .canceled))
        #expect(!TaskStatus.downloading.canTransition(to: .canceled))
    }

    @Test(arguments: [TaskStatus.completed, .failed, .canceled])
    func terminalStatesNeverChange(_ status: TaskStatus) {
        #expect(status.isTerminal)
        for next in TaskStatus.allCases {
            #expect(!status.canTransition(to: next))
        }
    }

    @Test func pathsMustFollowEdges() {
        #expect(TaskStatus.queued.canFollow([.processing, .downloading]))
        #expect(!TaskStatus.queued.canFollow([.downloading]))
        #expect(!TaskStatus.queued.canFollow([]))
    }
}
