/// Proof that a worker holds a task: who claimed it, and which claim it was.
///
/// Every claim of a task increments its epoch, so a worker whose lease expired while it was
/// paused is refused even when the task was claimed again by its own instance; the owner alone
/// would not tell the two claims apart.
public struct Lease: Sendable, Hashable, CustomStringConvertible {
    /// The worker identity of the instance that claimed the task.
    public var owner: String
    /// The task's claim counter at this claim.
    public var epoch: Int64

    public init(owner: String, epoch: Int64) {
        self.owner = owner
        self.epoch = epoch
    }

    public var description: String { "\(owner)#\(epoch)" }
}
