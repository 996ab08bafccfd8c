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

        @OptionGroup var options: OperatorOptions
        @Flag(help: "Only pending deliveries whose last attempt failed.") var failed = false
        @Flag(help: "Only dead-lettered deliveries.") var dead = false
        @Flag(help: "Only deliveries waiting for an attempt.") var pending = false
        @Option(help: "At most this many rows.") var limit = 50
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let filter: WebhookDeliveryFilter = dead ? .dead : failed ? .failed : pending ? .pending : .all
            let deliveries = try await options.openWebhooks().list(filter, limit: limit)
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
            print(OperatorText.table(header: ["ID", "STATUS", "EVENT", "TASK", "ATTEMPTS", "LAST", "ENDPOINT", "LAST ERROR"], rows: rows))
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a delivery again with a fresh retry schedule (same webhook-id).")

        @OptionGroup var options: OperatorOptions
        @Argument(help: "The delivery id (see 'webhooks list').") var id: Int64?
        @Flag(help: "Redeliver every dead-lettered delivery.") var allDead = false

        func validate() throws {
            if (id == nil) == !allDead { throw ValidationError("give either a delivery ID or --all-dead") }
        }

        func run() async throws {
            let store = try await options.openWebhooks()
            if allDead {
                print("scheduled \(try await store.redeliverAllDead()) dead deliveries again")
            } else if let id {
                guard let delivery = try await store.redeliver(id: id) else { throw ValidationError("no delivery with id \(id)") }
                print("delivery \(delivery.id) (\(delivery.eventID) → \(delivery.endpointURL)) is \(delivery.status.rawValue)")
            }
        }
    }
}
