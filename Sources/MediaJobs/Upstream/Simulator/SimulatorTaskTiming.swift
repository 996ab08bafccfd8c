import Foundation

/// When a simulated music or video task arrived, how long it takes, and how the polling of it went.
///
/// Every time is measured on the simulator's clock (`UpstreamSimulator.now`) from the submission;
/// `submittedAt` anchors the figures `/_stats` reports to wall-clock milliseconds, so "seen − done"
/// is exactly how long after its end the task was first reported finished.
struct SimulatorTaskTiming: Sendable {
    /// When it arrived, on the simulator's clock.
    let createdAt: ContinuousClock.Instant
    /// Wall-clock twin of `createdAt`, for `/_stats` (benchmarks compare it with database times).
    let submittedAt: Date
    /// How long it takes (`SimulatorDurations`, drawn when it arrived).
    let duration: Duration
    /// Fetches of the task so far.
    private(set) var fetches = 0
    /// Fetches up to and including the first one that reported it finished; nil until one did.
    private(set) var polls: Int?
    /// Time from the submission to that first fetch.
    private(set) var seenAfter: Duration?

    init(createdAt: ContinuousClock.Instant, submittedAt: Date = Date(), duration: Duration) {
        self.createdAt = createdAt
        self.submittedAt = submittedAt
        self.duration = duration
    }

    /// Counts a fetch answered at `now` and returns the time since the submission.
    mutating func fetch(at now: ContinuousClock.Instant) -> Duration {
        fetches += 1
        let elapsed = now - createdAt
        if elapsed >= duration, polls == nil {
            polls = fetches
            seenAfter = elapsed
        }
        return elapsed
    }

    /// Whether the task has finished `elapsed` after its submission.
    func isFinished(after elapsed: Duration) -> Bool {
        elapsed >= duration
    }

    /// Percent of its own duration done `elapsed` after the submission (100 and more once finished).
    func percent(after elapsed: Duration) -> Int {
        Int(100 * elapsed.timeInterval / max(duration.timeInterval, 0.001))
    }

    /// The `/_stats?completions=1` entry: `{"kind", "submitted", "done", "seen", "polls", "fetches"}`,
    /// times in Unix milliseconds; `seen` null and `polls` equal to `fetches` while no fetch has reported it finished.
    func completion(kind: String) -> JSONValue {
        let submitted = submittedAt.timeIntervalSince1970 * 1000
        return .object([
            "kind": .string(kind),
            "submitted": .number(submitted),
            "done": .number(submitted + duration.timeInterval * 1000),
            "seen": seenAfter.map { .number(submitted + $0.timeInterval * 1000) } ?? .null,
            "polls": .number(Double(polls ?? fetches)),
            "fetches": .number(Double(fetches)),
        ])
    }
}
