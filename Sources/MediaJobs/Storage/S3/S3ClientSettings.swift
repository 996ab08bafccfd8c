/// How an ``S3Client`` uploads, waits and retries.
public struct S3ClientSettings: Sendable, Equatable {
    /// Files larger than this go up in parts of this size (S3's minimum part is 5 MiB).
    public var partSize: Int64 = 8 << 20
    /// Parts of one upload in flight at once.
    public var partConcurrency = 4
    /// Deadline of one attempt of a call without a body, and the base of one with a body.
    public var callTimeout: Duration = .seconds(30)
    /// A body attempt also gets one second per this many bytes: a slow link is not a dead one.
    public var bytesPerSecondFloor: Int64 = 1 << 20
    /// Tries of one call (the first included) before its error is final.
    public var maxAttempts = 5
    /// The wait between tries (with jitter).
    public var backoff = RetryBackoff(base: .milliseconds(200), cap: .seconds(5))

    /// S3 refuses parts below 5 MiB (all but the last).
    public static let minimumPartSize: Int64 = 5 << 20
    /// S3 allows at most 10,000 parts per upload.
    public static let maximumParts: Int64 = 10_000

    public init() {}

    /// The deadline of one attempt that sends `bytes`.
    func timeout(sending bytes: Int64) -> Duration {
        callTimeout + .seconds(bytes / max(bytesPerSecondFloor, 1))
    }

    /// The part size for a file of `bytes`: the configured one, grown when the file would need
    /// more than S3's 10,000 parts.
    func partSize(for bytes: Int64) -> Int64 {
        let size = max(partSize, Self.minimumPartSize)
        let needed = (bytes + Self.maximumParts - 1) / Self.maximumParts
        return max(size, needed)
    }
}
