import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, read up to a small bound.
struct DashboardForm {
    private var fields: [String: String] = [:]

    init(_ request: Request) async throws {
        var request = request
        let buffer = try await request.collectBody(upTo: DashboardController<MediaJobsRequestContext>.maxFormBytes)
        self.init(encoded: String(buffer: buffer))
    }

    /// Parses `a=1&b=two+words`; a repeated name keeps its first value.
    init(encoded: String) {
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            guard !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field without surrounding spaces, empty when absent.
    func trimmed(_ name: String) -> String {
        (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
