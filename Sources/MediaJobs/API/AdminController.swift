import Foundation
import Hummingbird

/// The operator routes under `/admin/v1` (behind ``AdminAuthMiddleware``): statistics, prune and task retry.
struct AdminController<Context: RequestContext> {
    let operators: OperatorConsole
    let metrics: ServiceMetrics
    let body: JSONRequestBody

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("stats", use: stats)
        group.post("prune", use: prune)
        group.post("tasks/{id}/retry", use: retry)
    }

    /// `GET /admin/v1/stats`: the ``OperatorStats``.
    @Sendable func stats(_ request: Request, context: Context) async throws -> Response {
        try JSONResponse.make(try await operators.stats())
    }

    /// `POST /admin/v1/prune` with the options of `mediajobs prune`; answers the ``PruneReport``.
    @Sendable func prune(_ request: Request, context: Context) async throws -> Response {
        let input = try await body.decode(PruneRequestBody.self, from: request)
        let policy: PrunePolicy
        do {
            policy = try PrunePolicy(
                olderThan: input.olderThan, maxTotalSize: input.maxTotalSize, kind: input.kind, deleteTasksOlderThan: input.deleteTasksOlderThan)
        } catch {
            throw Self.translate(error)
        }
        guard !policy.isEmpty else { throw Self.translate(.nothingToDo) }
        let dryRun = input.dryRun ?? false
        let report: PruneReport
        do {
            report = try await operators.pruner.run(policy, dryRun: dryRun)
        } catch {
            metrics.pruneFailed(trigger: "admin")
            throw error
        }
        metrics.pruneRun(report, trigger: "admin")
        context.logger.notice(
            "prune requested through the admin API",
            metadata: ["prune.dry_run": "\(dryRun)", "prune.files": "\(report.removed.files)", "prune.bytes": "\(report.removed.bytes)"])
        return try JSONResponse.make(report)
    }

    /// `POST /admin/v1/tasks/{id}/retry`: a failed task back to `queued`; answers the task object.
    @Sendable func retry(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        let task: MediaTask
        do {
            task = try await operators.retry(id)
        } catch TaskStoreError.notFound {
            throw APIError.taskNotFound(id)
        } catch TaskStoreError.conflict(_, let status) {
            throw APIError(
                status: .conflict, kind: .conflict, code: "task_not_retryable",
                message: "the task is \(status.rawValue); only failed tasks can be retried")
        }
        return try JSONResponse.make(TaskRepresentations(publicURLs: operators.publicURLs).task(task, artifacts: []))
    }

    /// A policy error as a `400` naming the JSON field at fault.
    static func translate(_ error: RetentionError) -> APIError {
        switch error {
        case .invalidOption(let option, let message):
            .invalidValue(option.jsonKey, "'\(option.jsonKey)' \(message)")
        case .nothingToDo:
            .invalidRequest(
                "give at least one of 'older_than', 'max_total_size' or 'delete_tasks_older_than'", code: "missing_parameter")
        }
    }
}

/// The body of `POST /admin/v1/prune`: the CLI's options, written the same way (`"30d"`, `"50GB"`).
struct PruneRequestBody: JSONBodyDecodable {
    var olderThan: String?
    var maxTotalSize: String?
    var kind: String?
    var deleteTasksOlderThan: String?
    var dryRun: Bool?

    init(_ body: JSONBodyFields) throws {
        olderThan = try body.string("older_than")
        maxTotalSize = try body.string("max_total_size")
        kind = try body.string("kind")
        deleteTasksOlderThan = try body.string("delete_tasks_older_than")
        dryRun = try body.bool("dry_run")
    }
}
