import ArgumentParser
import Foundation
import MediaJobs

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "List webhook deliveries and redeliver failed ones (works on the data directory; a running server picks changes up).",
        subcommands: [List.self, Redeliver.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first.")

        @Option(help: "Data directory. [env: MEDIAJOBS_DATA_DIR] (default: ./storage)") var dataDir: String?
        @Flag(help: "Only pending deliveries whose last attempt failed.") var failed = false
        @Flag(help: "Only dead-lettered deliveries.") var dead = false
        @Flag(help: "Only deliveries waiting for an attempt.") var pending = false
        @Option(help: "At most this many rows.") var limit = 50
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let filter: WebhookDeliveryFilter = dead ? .dead : failed ? .failed : pending ? .pending : .all
            let deliveries = try await openWebhookStore(dataDir).list(filter, limit: limit)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(deliveries), as: UTF8.self))
                return
            }
            let rows = deliveries.map { delivery in
                [
                    "\(delivery.id)", delivery.status.rawValue, delivery.eventType, delivery.taskID, "\(delivery.attempts)",
                    delivery.lastResponseStatus.map(String.init) ?? "-", delivery.endpointURL, delivery.lastError ?? "",
                ]
            }
            print(textTable(header: ["ID", "STATUS", "EVENT", "TASK", "ATTEMPTS", "LAST", "ENDPOINT", "LAST ERROR"], rows: rows))
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a delivery again with a fresh retry schedule (same webhook-id).")

        @Option(help: "Data directory. [env: MEDIAJOBS_DATA_DIR] (default: ./storage)") var dataDir: String?
        @Argument(help: "The delivery id (see 'webhooks list').") var id: Int64?
        @Flag(help: "Redeliver every dead-lettered delivery.") var allDead = false

        func validate() throws {
            if (id == nil) == !allDead { throw ValidationError("give either a delivery ID or --all-dead") }
        }

        func run() async throws {
            let store = try openWebhookStore(dataDir)
            if allDead {
                print("scheduled \(try await store.redeliverAllDead()) dead deliveries again")
            } else if let id {
                guard let delivery = try await store.redeliver(id: id) else { throw ValidationError("no delivery with id \(id)") }
                print("delivery \(delivery.id) (\(delivery.eventID) → \(delivery.endpointURL)) is \(delivery.status.rawValue)")
            }
        }
    }
}

/// The webhook tables of the data directory's database.
func openWebhookStore(_ dataDir: String?) throws -> WebhookStore {
    let directory = URL(fileURLWithPath: Setting.text(dataDir, "MEDIAJOBS_DATA_DIR") ?? "storage", isDirectory: true)
    let database = directory.appendingPathComponent("mediajobs.sqlite").path
    guard FileManager.default.fileExists(atPath: database) else { throw ValidationError("no MediaJobs database at \(database)") }
    return WebhookStore(writer: try SQLiteTaskStore.open(path: database).writer)
}

/// Aligned columns for terminal output.
func textTable(header: [String], rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    return ([header] + rows).map { row in
        row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
}
