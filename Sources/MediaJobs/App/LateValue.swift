import Synchronization

/// A value that becomes known after start-up (e.g. the port an in-process simulator bound); readers wait for it.
public final class LateValue<Value: Sendable>: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Value, Never>])
        case ready(Value)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    /// Sets the value once and releases every reader; later calls are ignored.
    public func set(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value, Never>] in
            guard case .waiting(let waiters) = state else { return [] }
            state = .ready(value)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, waiting until it is set.
    public func get() async -> Value {
        // Once set (every call after start-up, e.g. each call to the provider) no continuation.
        let ready = state.withLock { state -> Value? in
            guard case .ready(let value) = state else { return nil }
            return value
        }
        if let ready { return ready }
        return await withCheckedContinuation { continuation in
            let value = state.withLock { state -> Value? in
                switch state {
                case .ready(let value): return value
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                }
            }
            if let value { continuation.resume(returning: value) }
        }
    }
}
