import Foundation
import Hummingbird

/// Kind-neutral task routes: `GET /v1/tasks/{id}`, `GET /v1/tasks`, `POST /v1/tasks/{id}/cancel`.
struct TasksController<Context: AuthenticatedRequestContext> {
    let service: TaskOperations

    static var maxPageSize: Int { 100 }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("tasks", use: list)
        group.get("tasks/{id}", use: get)
        group.post("tasks/{id}/cancel", use: cancel)
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let (task, artifacts) = try await service.find(try context.parameters.require("id"), owner: context.owner)
        return try JSONResponse.make(service.representations.task(task, artifacts: artifacts))
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = TaskQuery(owner: context.owner)
        if let kind = parameters["kind"].map(String.init) {
            guard let value = TaskKind(rawValue: kind) else {
                throw APIError.invalidValue("kind", "'kind' must be one of \(TaskKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.kind = value
        }
        if let status = parameters["status"].map(String.init) {
            guard let value = TaskStatus(rawValue: status) else {
                throw APIError.invalidValue("status", "'status' must be one of \(TaskStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = value
        }
        if let limit = parameters["limit"].map(String.init) {
            guard let value = Int(limit), (1...Self.maxPageSize).contains(value) else {
                throw APIError.invalidValue("limit", "'limit' must be an integer from 1 to \(Self.maxPageSize)")
            }
            query.limit = value
        }
        if let after = parameters["after"].map(String.init) {
            guard let cursor = try await service.store.task(id: after), TaskOperations.visible(cursor, to: context.owner) else {
                throw APIError.invalidValue("after", "'after' must be the id of a task from a previous page")
            }
            query.after = after
        }
        let page = try await service.store.list(query)
        let artifacts = try await service.store.artifacts(forTasks: page.tasks.map(\.id))
        let objects = page.tasks.map { service.representations.task($0, artifacts: artifacts[$0.id] ?? []) }
        return try JSONResponse.make(TaskList(data: objects, hasMore: page.hasMore, nextCursor: page.hasMore ? page.tasks.last?.id : nil))
    }

    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let task = try await service.cancel(try context.parameters.require("id"), owner: context.owner)
        context.logger.info("task canceled", metadata: ["task.id": "\(task.id)", "task.kind": "\(task.kind.rawValue)"])
        let artifacts = try await service.store.artifacts(forTasks: [task.id])[task.id] ?? []
        return try JSONResponse.make(service.representations.task(task, artifacts: artifacts))
    }
}

struct TaskList: Encodable {
    var object = "list"
    var data: [TaskObject]
    var hasMore: Bool
    @NullEncoded var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case object, data
        case hasMore = "has_more", nextCursor = "next_cursor"
    }
}
