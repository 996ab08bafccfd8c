import Foundation

extension Date {
    /// Milliseconds since 1970: the stores' time unit, so every comparison is exact to the millisecond.
    public var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The date `millis` milliseconds after 1970.
    public init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}
