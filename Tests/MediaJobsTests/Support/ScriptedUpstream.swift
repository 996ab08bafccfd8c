import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import Testing

@testable import MediaJobs

/// A provider that plays back scripted answers, one per call.
final class ScriptedUpstream: UpstreamClient {
    let submissions: Mutex<[Result<UpstreamSubmission, UpstreamError>]>
    let polls: Mutex<[Result<UpstreamProgress, UpstreamError>]>
    let calls = Atomic<Int>(0)

    init(submissions: [Result<UpstreamSubmission, UpstreamError>] = [], polls: [Result<UpstreamProgress, UpstreamError>] = []) {
        self.submissions = Mutex(submissions)
        self.polls = Mutex(polls)
    }

    func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission {
        calls.add(1, ordering: .relaxed)
        return try submissions.withLock { $0.removeFirst() }.get()
    }

    func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress {
        calls.add(1, ordering: .relaxed)
        return try polls.withLock { $0.removeFirst() }.get()
    }
}
