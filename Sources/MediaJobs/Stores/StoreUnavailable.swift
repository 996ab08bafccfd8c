/// The database cannot be reached, or stopped answering: API requests get `503` with the error
/// envelope, `/readyz` says why, and workers back off until it is back. Nothing accepted is lost:
/// what was committed stays, and a request that got this error was not accepted.
public struct StoreUnavailable: Error, Sendable, CustomStringConvertible {
    /// Why, in words fit for logs and `/readyz` (never a password).
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "the database is unavailable: \(reason)" }
}
