import Foundation

/// Who this `serve` process is among the instances sharing a store: the owner of its leases and
/// the name of its temporary folder.
///
/// Host, process id and a random part: a restarted process (same host, maybe the same pid in a
/// container) is a new identity, so it can never mistake an earlier run's leases for its own.
public struct WorkerIdentity: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// A fresh identity for this process.
    public static func forThisProcess() -> WorkerIdentity {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let random = UInt32.random(in: 0...UInt32.max)
        return WorkerIdentity("\(sanitized(host))-\(ProcessInfo.processInfo.processIdentifier)-\(String(random, radix: 16))")
    }

    public var description: String { value }

    /// Keeps the identity usable as a folder name and a log value.
    private static func sanitized(_ host: String) -> String {
        let kept = host.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII ? Character(scalar) : "-"
        }
        let name = String(kept.prefix(40))
        return name.isEmpty ? "host" : name
    }
}
