import Foundation

/// Generates task ids: `<prefix>_` + 10 characters of millisecond time + 20 random characters.
///
/// Crockford base32 keeps ids URL-safe and lexically time-sortable, so the id doubles as the
/// paging cursor; the 100 random bits make ids unguessable (at least 96 are wanted).
public enum TaskID {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// A new id for a task of `kind` created at `date`.
    public static func make(kind: TaskKind, at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(kind: kind, at: date, using: &generator)
    }

    /// A new id drawing its random part from `generator` (tests pass a seeded one).
    public static func make(kind: TaskKind, at date: Date, using generator: inout some RandomNumberGenerator) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var chars = [UInt8]()
        chars.reserveCapacity(30)
        for shift in stride(from: 45, through: 0, by: -5) {
            chars.append(alphabet[Int((millis >> UInt64(shift)) & 31)])
        }
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        for index in 0..<20 {
            let bits = index < 12 ? (high >> UInt64(index * 5)) : (low >> UInt64((index - 12) * 5))
            chars.append(alphabet[Int(bits & 31)])
        }
        return kind.idPrefix + "_" + String(decoding: chars, as: UTF8.self)
    }

    /// The kind named by an id's prefix, if the id is well-formed.
    public static func kind(of id: String) -> TaskKind? {
        guard let separator = id.firstIndex(of: "_") else { return nil }
        let body = id[id.index(after: separator)...]
        guard body.count == 30, body.utf8.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return TaskKind(idPrefix: id[..<separator])
    }
}
