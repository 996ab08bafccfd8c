/// A secret string that never prints: logs, `String(describing:)` and reflection all see `<redacted>`.
///
/// Service lifecycle and error paths describe values by reflection; wrapping keys in this type
/// keeps them out of every such description.
public struct Redacted: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself; read it only where it is sent.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
