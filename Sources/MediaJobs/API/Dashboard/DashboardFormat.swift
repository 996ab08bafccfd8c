import Foundation

/// How the dashboard writes numbers and times for people (the raw values go in `data-value`).
enum DashboardFormat {
    /// `1.5 MB`, decimal units as `ByteCount` parses them.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    /// `2026-12-02 04:55:01 UTC`, or a dash for no time.
    static func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    /// `42 s`, `3 min`, `2.5 h`, `4.0 d`.
    static func age(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        switch seconds {
        case ..<120: return "\(Int(seconds.rounded())) s"
        case ..<7200: return "\(Int((seconds / 60).rounded())) min"
        case ..<172_800: return String(format: "%.1f h", seconds / 3600)
        default: return String(format: "%.1f d", seconds / 86400)
        }
    }

    /// The first `limit` characters of `text`, with an ellipsis when cut.
    static func excerpt(_ text: String, limit: Int = 90) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
