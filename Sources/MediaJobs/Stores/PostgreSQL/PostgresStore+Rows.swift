import Foundation
import PostgresNIO

extension MediaTask {
    /// Decodes a `tasks` row of a ``PostgresStore``.
    init(postgresRow row: PostgresRandomAccessRow) throws {
        let kind = try TaskKind.decode(try row.value("kind"))
        let request = try TaskRequest(kind, stored: try row.value("request"))
        self.init(id: try row.value("id"), request: request, deadline: .zero)
        status = try TaskStatus.decode(try row.value("status"))
        metadata = try (try row.value("metadata", as: String?.self)).map { try JSONCoding.decode(JSONValue.self, from: $0) }
        callbackURL = try row.value("callback_url")
        owner = try row.value("owner")
        upstreamID = try row.value("upstream_id")
        upstreamOutputs = try UpstreamOutput.list(fromStored: try row.value("upstream_outputs", as: String.self))
        progress = try row.value("progress")
        failReason = try row.value("fail_reason")
        attempts = try row.value("attempts")
        pollCount = try row.value("poll_count")
        upstreamAcceptedAt = try row.optionalDate("upstream_accepted_at")
        pollPriority = try row.value("poll_priority")
        nextAttemptAt = try row.date("next_attempt_at")
        deadlineAt = try row.date("deadline_at")
        leaseOwner = try row.value("lease_owner")
        leaseExpiresAt = try row.optionalDate("lease_expires_at")
        leaseEpoch = try row.value("lease_epoch")
        createdAt = try row.date("created_at")
        updatedAt = try row.date("updated_at")
        finishedAt = try row.optionalDate("finished_at")
    }

    /// The JSON columns of a task row, encoded once.
    struct EncodedColumns: Sendable {
        var request: String
        var upstreamOutputs: String
        var metadata: String?
    }

    /// This task's JSON columns (a new task has no outputs yet: no encoder for the constant "[]").
    func encodedColumns() throws -> EncodedColumns {
        let requestJSON: String =
            switch request {
            case .music(let music): JSONWriter.string(music)
            case .image(let image): try JSONCoding.string(image)
            case .video(let video): try JSONCoding.string(video)
            }
        return EncodedColumns(
            request: requestJSON, upstreamOutputs: upstreamOutputs.isEmpty ? "[]" : try JSONCoding.string(upstreamOutputs),
            metadata: try metadata.map(JSONCoding.string))
    }

    /// The `INSERT` of this task into a ``PostgresStore``, for a transaction (outside one,
    /// ``PostgresPreparedStatements/InsertTask`` is the same row, prepared).
    func postgresInsert() throws -> PostgresQuery {
        let columns = try encodedColumns()
        let (requestJSON, outputsJSON, metadataJSON) = (columns.request, columns.upstreamOutputs, columns.metadata)
        return """
            INSERT INTO tasks (id, kind, status, request, metadata, callback_url, owner, upstream_id,
                upstream_outputs, progress, fail_reason, attempts, poll_count, next_attempt_at, deadline_at,
                lease_owner, lease_expires_at, created_at, updated_at, finished_at, duration_key)
            VALUES (\(id), \(kind.rawValue), \(status.rawValue), \(requestJSON), \(metadataJSON), \(callbackURL), \(owner), \(upstreamID),
                \(outputsJSON), \(progress), \(failReason), \(attempts), \(pollCount), \(nextAttemptAt.millis), \(deadlineAt.millis),
                \(leaseOwner), \(leaseExpiresAt?.millis), \(createdAt.millis), \(updatedAt.millis), \(finishedAt?.millis),
                \(DurationKey(task: self).value))
            """
    }
}

extension TaskStatusRecord {
    /// Decodes a row of ``PostgresPreparedStatements/StatusWithArtifacts``.
    init(postgresRow row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), kind: try TaskKind.decode(try row.value("kind")), status: try TaskStatus.decode(try row.value("status")),
            progress: try row.value("progress"), failReason: try row.value("fail_reason"), owner: try row.value("owner"),
            createdAt: try row.date("created_at"), finishedAt: try row.optionalDate("finished_at"))
    }
}

extension TaskArtifact {
    /// The `artifacts` columns ``init(postgresRow:)`` reads.
    static let postgresColumns = "task_id, idx, file_name, content_type, bytes, sha256, source_url, title, duration, style, image_url, created_at, pruned_at"

    /// ``postgresColumns`` of the artifacts table aliased `a`, each named with the prefix `a_`, to
    /// select beside a task's columns.
    static let postgresJoinedColumns: String = postgresColumns.split(separator: ",").map { name -> String in
        let column = name.trimmingCharacters(in: .whitespaces)
        return "a.\(column) AS a_\(column)"
    }.joined(separator: ", ")

    /// Decodes a row selected with ``postgresColumns``.
    init(postgresRow row: PostgresRandomAccessRow) throws {
        try self.init(postgresRow: row, prefix: "")
    }

    /// Decodes a row selected with ``postgresColumns`` (`prefix` "") or ``postgresJoinedColumns`` (`prefix` "a_").
    init(postgresRow row: PostgresRandomAccessRow, prefix: String) throws {
        self.init(
            taskID: try row.value(prefix + "task_id"), index: try row.value(prefix + "idx"), fileName: try row.value(prefix + "file_name"),
            contentType: try row.value(prefix + "content_type"), bytes: try row.value(prefix + "bytes"), sha256: try row.value(prefix + "sha256"),
            sourceURL: try row.value(prefix + "source_url"), title: try row.value(prefix + "title"), duration: try row.value(prefix + "duration"),
            style: try row.value(prefix + "style"), imageURL: try row.value(prefix + "image_url"), createdAt: try row.date(prefix + "created_at"),
            prunedAt: try row.optionalDate(prefix + "pruned_at"))
    }
}

extension WebhookDelivery {
    /// Decodes a row of ``PostgresStore/selectDeliveries``.
    init(postgresRow row: PostgresRandomAccessRow) throws {
        self.init(
            id: try row.value("id"), eventID: try row.value("event_id"), eventType: try row.value("event_type"), taskID: try row.value("task_id"),
            endpointURL: try row.value("endpoint_url"), status: Status(rawValue: try row.value("status")) ?? .pending,
            attempts: try row.value("attempts"), nextAttemptAt: try row.date("next_attempt_at"), lastAttemptAt: try row.optionalDate("last_attempt_at"),
            lastResponseStatus: try row.value("last_response_status"), lastError: try row.value("last_error"), createdAt: try row.date("created_at"),
            deliveredAt: try row.optionalDate("delivered_at"))
    }
}
