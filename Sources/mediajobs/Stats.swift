import ArgumentParser
import MediaJobs

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show tasks by kind and status, queue age, storage, retention totals and webhook backlog.",
        discussion: "Reads the data directory directly; the numbers are those of GET /admin/v1/stats."
    )

    @Flag(help: "Print the statistics as JSON.") var json = false
    @OptionGroup var options: OperatorOptions

    func run() async throws {
        let stats = try await options.open().stats()
        print(json ? try OperatorConsole.json(stats) : OperatorText.stats(stats), terminator: json ? "\n" : "")
    }
}
