import Foundation

/// A provider that generates media: MediaJobs hands it tasks and asks how they are going.
public protocol UpstreamClient: Sendable {
    /// Starts generating `task`. Synchronous providers may answer with the finished outputs at once.
    func submit(_ task: MediaTask) async throws(UpstreamError) -> UpstreamSubmission

    /// How the task the provider knows as `upstreamID` is going.
    func poll(kind: TaskKind, upstreamID: String) async throws(UpstreamError) -> UpstreamProgress
}

/// The provider's answer to a submission.
public enum UpstreamSubmission: Sendable, Equatable {
    /// Accepted; poll with this id.
    case accepted(upstreamID: String)
    /// Done already (synchronous endpoints such as images).
    case finished(upstreamID: String, outputs: [UpstreamOutput])
}

/// The provider's answer to a poll.
public enum UpstreamProgress: Sendable, Equatable {
    /// Still working; `progress` in percent when the provider says.
    case pending(progress: Int?)
    case completed(outputs: [UpstreamOutput])
    case failed(reason: String)
}

/// Why an upstream call did not give an answer.
public enum UpstreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 429: slow down; `retryAfter` when the provider said how long.
    case rateLimited(retryAfter: Duration?)
    /// 5xx: the provider is having trouble; try again later.
    case unavailable(status: Int, retryAfter: Duration?)
    /// No answer: connection refused, reset, or the call's deadline passed.
    case transport(String)
    /// A 4xx other than 429: this request will never succeed as sent.
    case rejected(status: Int, message: String)
    /// An answer we cannot understand (bad JSON, missing fields).
    case invalidResponse(String)

    /// Whether trying the same call again later can help.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .unavailable, .transport, .invalidResponse: true
        case .rejected: false
        }
    }

    /// The wait the provider asked for, if any.
    public var retryAfter: Duration? {
        switch self {
        case .rateLimited(let retryAfter), .unavailable(_, let retryAfter): retryAfter
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .rateLimited: "upstream rate limited the request (429)"
        case .unavailable(let status, _): "upstream unavailable (\(status))"
        case .transport(let reason): "upstream unreachable: \(reason)"
        // The provider's own text stays in the log: it may carry details clients should not see.
        case .rejected(let status, _): "the upstream provider rejected the request (HTTP \(status))"
        case .invalidResponse(let reason): "upstream answered with something unreadable: \(reason)"
        }
    }
}
