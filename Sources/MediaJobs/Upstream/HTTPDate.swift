import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// RFC 9110 dates (`Sun, 06 Nov 1994 08:49:37 GMT`), as in `Retry-After` and `Last-Modified`.
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }

    /// The IMF-fixdate of `date` (whole seconds, rounded down).
    ///
    /// Built with `gmtime_r` rather than a `DateFormatter`: it runs on every file response, and a
    /// formatter costs tens of microseconds to create and is not safe to share across threads.
    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let weekday = weekdays[Int(parts.tm_wday)]
        let month = months[Int(parts.tm_mon)]
        return "\(weekday), \(twoDigits(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    /// The `Date` header of an answer written now: formatted once per second, as Hummingbird
    /// does for the routed answers (formatting it per request was 1 % of a status read's CPU).
    static func now() -> String {
        let second = Int64(Date().timeIntervalSince1970.rounded(.down))
        if let cached = current.withLock({ $0.second == second ? $0.text : nil }) { return cached }
        let text = format(Date(timeIntervalSince1970: TimeInterval(second)))
        current.withLock { $0 = (second, text) }
        return text
    }

    private static let current = Mutex<(second: Int64, text: String)>((-1, ""))

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func twoDigits(_ value: Int32) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
