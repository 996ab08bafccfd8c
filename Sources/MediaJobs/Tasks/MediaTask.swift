import Foundation

/// One generation request and everything MediaJobs knows about its progress (a row of `tasks`).
public struct MediaTask: Sendable, Equatable {
    public var id: String
    public var kind: TaskKind
    public var status: TaskStatus
    public var request: TaskRequest
    /// Client-owned JSON returned as given.
    public var metadata: JSONValue?
    public var callbackURL: String?
    /// Who submitted it (a digest of the API key), so a key sees only its own tasks.
    public var owner: String?
    /// The upstream provider's id once it accepted the task.
    public var upstreamID: String?
    /// What the upstream produced: the (expiring) URLs to copy into storage.
    public var upstreamOutputs: [UpstreamOutput]
    public var progress: Int
    public var failReason: String?
    /// Failed tries of the current step; capped, then the task fails.
    public var attempts: Int
    /// Status polls made so far.
    public var pollCount: Int
    /// When the provider accepted the task: its durations, and so its polls, count from here.
    public var upstreamAcceptedAt: Date?
    /// How likely the next poll is to find the task finished (0…1): under a backlog the likeliest
    /// are polled first.
    public var pollPriority: Double
    /// When a worker may next take this task.
    public var nextAttemptAt: Date
    /// After this the task fails instead of waiting longer on the upstream.
    public var deadlineAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    /// How many times the task was claimed; fences late writes of an earlier claim (``Lease``).
    public var leaseEpoch: Int64
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    /// A freshly accepted task, due at once.
    public init(
        id: String? = nil,
        request: TaskRequest,
        metadata: JSONValue? = nil,
        callbackURL: String? = nil,
        owner: String? = nil,
        createdAt: Date = Date(),
        deadline: Duration
    ) {
        self.id = id ?? TaskID.make(kind: request.kind, at: createdAt)
        self.kind = request.kind
        self.status = .queued
        self.request = request
        self.metadata = metadata
        self.callbackURL = callbackURL
        self.owner = owner
        self.upstreamID = nil
        self.upstreamOutputs = []
        self.progress = 0
        self.failReason = nil
        self.attempts = 0
        self.pollCount = 0
        self.nextAttemptAt = createdAt
        self.deadlineAt = createdAt.adding(deadline)
        self.leaseOwner = nil
        self.leaseExpiresAt = nil
        self.leaseEpoch = 0
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.finishedAt = nil
        self.upstreamAcceptedAt = nil
        self.pollPriority = 0
    }

    /// The lease a worker holds on the task, if it is claimed.
    public var lease: Lease? {
        leaseOwner.map { Lease(owner: $0, epoch: leaseEpoch) }
    }

    /// The model name shown to clients.
    public var model: String {
        switch request {
        case .music: "suno"
        case .image(let image): image.model
        case .video(let video): video.model
        }
    }
}

/// One result the upstream reported, before it is copied into storage.
public struct UpstreamOutput: Sendable, Equatable, Codable {
    public var url: String
    public var title: String?
    public var duration: Double?
    public var style: String?
    public var imageURL: String?

    public init(url: String, title: String? = nil, duration: Double? = nil, style: String? = nil, imageURL: String? = nil) {
        self.url = url
        self.title = title
        self.duration = duration
        self.style = style
        self.imageURL = imageURL
    }

    enum CodingKeys: String, CodingKey {
        case url, title, duration, style
        case imageURL = "image_url"
    }

    /// The outputs a store keeps as JSON. Until the provider finishes (every poll's claim) that
    /// is the constant `[]`, read without a decoder.
    static func list(fromStored json: String) throws -> [UpstreamOutput] {
        json == "[]" ? [] : try JSONCoding.decode([UpstreamOutput].self, from: json)
    }
}

extension Date {
    /// `self` moved forward by a Swift `Duration`.
    public func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.timeInterval)
    }
}

extension Duration {
    /// The duration in (fractional) seconds, for `Date` arithmetic.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// The duration in whole milliseconds (rounded), the unit stores keep times in.
    public var millis: Int64 {
        Int64((timeInterval * 1000).rounded())
    }
}
