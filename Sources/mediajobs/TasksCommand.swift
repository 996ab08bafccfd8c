import ArgumentParser
import MediaJobs

struct TasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "List, inspect, cancel and retry tasks, directly on the data directory.",
        discussion: """
            Works while a server runs on the same data directory. A running server picks up a retried task at its \
            next idle tick (within a second); POST /admin/v1/tasks/{id}/retry wakes it at once.
            """,
        subcommands: [List.self, Show.self, Cancel.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tasks, newest first.")

        @Option(help: "Only tasks in this status: queued, processing, downloading, completed, failed or canceled.") var status: String?
        @Option(help: "Only tasks of this kind: music, image or video.") var kind: String?
        @Option(help: "At most this many tasks.") var limit = 20
        @Flag(help: "Print the list object of GET /v1/tasks.") var json = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            var query = TaskQuery(limit: limit)
            if let status {
                guard let value = TaskStatus(rawValue: status) else {
                    throw ValidationError("--status must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.status = value
            }
            if let kind {
                guard let value = TaskKind(rawValue: kind) else {
                    throw ValidationError("--kind must be one of \(TaskKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.kind = value
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
            let operators = try await options.open()
            let (page, artifacts) = try await operators.list(query)
            if json {
                print(try operators.json(page, artifacts: artifacts))
            } else {
                print(OperatorText.taskTable(page.tasks, artifacts: artifacts), terminator: "")
                if page.hasMore { printError("(more tasks: raise --limit)\n") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one task with its files.")

        @Argument(help: "The task id.") var id: String
        @Flag(help: "Print the task object of GET /v1/tasks/{id}.") var json = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            let operators = try await options.open()
            guard let (task, artifacts) = try await operators.task(id) else { throw CommandFailure("no task with id '\(id)'") }
            print(json ? try operators.json(task, artifacts: artifacts) : OperatorText.taskDetails(task, artifacts: artifacts, publicURLs: operators.publicURLs), terminator: json ? "\n" : "")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or processing task.")

        @Argument(help: "The task id.") var id: String
        @Flag(help: "Print the task object.") var json = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            try await changeTask(id, options: options, json: json, change: { try await $0.cancel($1) }) { status in
                "task \(id) is \(status.rawValue) and can no longer be canceled"
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a failed task back to the queue for a fresh run.",
            discussion: "Resets its attempts, failure reason and finish time and removes its old files: the one exception to 'a finished task never changes'."
        )

        @Argument(help: "The task id.") var id: String
        @Flag(help: "Print the task object.") var json = false
        @OptionGroup var options: OperatorOptions

        func run() async throws {
            try await changeTask(id, options: options, json: json, change: { try await $0.retry($1) }) { status in
                "task \(id) is \(status.rawValue); only failed tasks can be retried"
            }
        }
    }
}

/// Runs an operator change on one task and prints the result; a missing task or one in the wrong
/// status becomes a one-line failure (`conflict` words it).
private func changeTask(
    _ id: String, options: OperatorOptions, json: Bool, change: (OperatorConsole, String) async throws -> MediaTask,
    conflict: (TaskStatus) -> String
) async throws {
    let operators = try await options.open()
    let task: MediaTask
    do {
        task = try await change(operators, id)
    } catch TaskStoreError.notFound {
        throw CommandFailure("no task with id '\(id)'")
    } catch TaskStoreError.conflict(_, let status) {
        throw CommandFailure(conflict(status))
    }
    try printOutcome(task, operators: operators, json: json)
}

/// Prints a task after a change: its object with `--json`, else its table row.
private func printOutcome(_ task: MediaTask, operators: OperatorConsole, json: Bool) throws {
    if json {
        print(try operators.json(task, artifacts: []))
    } else {
        print(OperatorText.taskTable([task], artifacts: [:]), terminator: "")
    }
}
