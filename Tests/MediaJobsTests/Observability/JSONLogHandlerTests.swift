import Foundation
import Logging
import Synchronization
import Testing

@testable import MediaJobs

@Suite struct JSONLogHandlerTests {
    @Test func writesOneJSONObjectPerLine() throws {
        let line = JSONLogHandler.line(
            timestamp: Date(timeIntervalSince1970: 1_800_000_000.25), level: .warning, label: "mediajobs", message: "task \"failed\"\nbadly",
            metadata: ["task.id": "suno_1", "task.kind": "music", "message": "clash", "nested": .dictionary(["a": .array(["1", "2"])])])
        #expect(line.hasSuffix("}\n"))
        #expect(!line.dropLast().contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "mediajobs")
        #expect(object["message"] as? String == "task \"failed\"\nbadly")
        #expect(object["task.id"] as? String == "suno_1")
        #expect(object["task.kind"] as? String == "music")
        #expect(object["meta.message"] as? String == "clash")
        #expect(value(object, "nested") as? [String: [String]] == ["a": ["1", "2"]])
    }

    @Test func handlerMergesLoggerMetadata() throws {
        let lines = LineLog()
        var logger = Logger(label: "test") { label in JSONLogHandler(label: label, output: lines.append) }
        logger[metadataKey: "task.id"] = "img_1"
        logger.info("stored", metadata: ["upstream.id": "up_9"])
        let first = try #require(lines.values.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["task.id"] as? String == "img_1")
        #expect(object["upstream.id"] as? String == "up_9")
        #expect(object["level"] as? String == "info")
    }
}

/// Lines written by a handler under test.
final class LineLog: Sendable {
    private let storage = Mutex<[String]>([])
    var append: @Sendable (String) -> Void { { line in self.storage.withLock { $0.append(line) } } }
    var values: [String] { storage.withLock { $0 } }
}
