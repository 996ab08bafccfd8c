import NIOCore

/// A `close` a channel handler holds back until what it is still sending has gone out; every
/// close asked for meanwhile completes with the one that finally happens.
struct DeferredClose {
    /// The promise the final close completes; nil when no caller asked to be told.
    private(set) var promise: EventLoopPromise<Void>?

    init(_ promise: EventLoopPromise<Void>?) {
        self.promise = promise
    }

    /// Adds another close asked for while this one waits.
    mutating func add(_ another: EventLoopPromise<Void>?) {
        guard let another else { return }
        if let promise { promise.futureResult.cascade(to: another) } else { promise = another }
    }
}
