import Foundation
import GRDB

extension MediaTask {
    /// Decodes a `tasks` row.
    init(row: Row) throws {
        let kind = try TaskKind.decode(row["kind"])
        let requestJSON: String = row["request"]
        let request: TaskRequest =
            switch kind {
            case .music: .music(try JSONCoding.decode(MusicRequest.self, from: requestJSON))
            case .image: .image(try JSONCoding.decode(ImageRequest.self, from: requestJSON))
            case .video: .video(try JSONCoding.decode(VideoRequest.self, from: requestJSON))
            }
        self.init(id: row["id"] as String, request: request, deadline: .zero)
        status = try TaskStatus.decode(row["status"])
        metadata = try (row["metadata"] as String?).map { try JSONCoding.decode(JSONValue.self, from: $0) }
        callbackURL = row["callback_url"]
        owner = row["owner"]
        upstreamID = row["upstream_id"]
        upstreamOutputs = try UpstreamOutput.list(fromStored: row["upstream_outputs"])
        progress = row["progress"]
        failReason = row["fail_reason"]
        attempts = row["attempts"]
        pollCount = row["poll_count"]
        upstreamAcceptedAt = (row["upstream_accepted_at"] as Int64?).map(Date.init(millis:))
        pollPriority = row["poll_priority"]
        nextAttemptAt = Date(millis: row["next_attempt_at"])
        deadlineAt = Date(millis: row["deadline_at"])
        leaseOwner = row["lease_owner"]
        leaseExpiresAt = (row["lease_expires_at"] as Int64?).map(Date.init(millis:))
        leaseEpoch = row["lease_epoch"]
        createdAt = Date(millis: row["created_at"])
        updatedAt = Date(millis: row["updated_at"])
        finishedAt = (row["finished_at"] as Int64?).map(Date.init(millis:))
    }

    /// Values for the `INSERT` column list of ``SQLiteTaskStore/insert(_:)``.
    func databaseArguments() throws -> StatementArguments {
        let requestJSON: String =
            switch request {
            case .music(let music): JSONWriter.string(music)
            case .image(let image): try JSONCoding.string(image)
            case .video(let video): try JSONCoding.string(video)
            }
        // A new task has no outputs yet: skip an encoder for the constant "[]".
        let outputsJSON = upstreamOutputs.isEmpty ? "[]" : try JSONCoding.string(upstreamOutputs)
        // Converted one by one with static types: a `[(any DatabaseValueConvertible)?]` costs an
        // existential box and a dynamic call per value (2–3 % of a submit's CPU with 20 columns).
        let values: [DatabaseValue] = [
            id.databaseValue, kind.rawValue.databaseValue, status.rawValue.databaseValue, requestJSON.databaseValue,
            try metadata.map(JSONCoding.string).databaseValue, callbackURL.databaseValue, owner.databaseValue,
            upstreamID.databaseValue, outputsJSON.databaseValue, progress.databaseValue, failReason.databaseValue, attempts.databaseValue,
            pollCount.databaseValue, nextAttemptAt.millis.databaseValue, deadlineAt.millis.databaseValue, leaseOwner.databaseValue,
            leaseExpiresAt?.millis.databaseValue ?? .null, createdAt.millis.databaseValue, updatedAt.millis.databaseValue,
            finishedAt?.millis.databaseValue ?? .null,
        ]
        return StatementArguments(values)
    }
}

extension TaskArtifact {
    /// The `artifacts` columns in the order ``init(row:)`` reads and ``databaseArguments()`` writes them.
    static let columns = "task_id, idx, file_name, content_type, bytes, sha256, source_url, title, duration, style, image_url, created_at, pruned_at"

    /// Decodes a row selected with ``columns``, by position (GRDB's by-name lookup lower-cases every name).
    init(row: Row) {
        self.init(
            taskID: row[0],
            index: row[1],
            fileName: row[2],
            contentType: row[3],
            bytes: row[4],
            sha256: row[5],
            sourceURL: row[6],
            title: row[7],
            duration: row[8],
            style: row[9],
            imageURL: row[10],
            createdAt: Date(millis: row[11]),
            prunedAt: (row[12] as Int64?).map(Date.init(millis:))
        )
    }

    /// Values for the `INSERT` column list of ``SQLiteTaskStore/saveArtifact(_:lease:)``.
    func databaseArguments() -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            taskID, index, fileName, contentType, bytes, sha256, sourceURL, title, duration, style, imageURL,
            createdAt.millis, prunedAt?.millis,
        ]
        return StatementArguments(values)
    }
}

extension TaskStatusRecord {
    /// The `tasks` columns ``init(row:)`` reads, in its order.
    static let columns = "id, kind, status, progress, fail_reason, owner, created_at, finished_at"

    /// Decodes a row selected with ``columns``, by position.
    init(row: Row) throws {
        self.init(
            id: row[0], kind: try TaskKind.decode(row[1]), status: try TaskStatus.decode(row[2]), progress: row[3], failReason: row[4],
            owner: row[5], createdAt: Date(millis: row[6]), finishedAt: (row[7] as Int64?).map(Date.init(millis:)))
    }
}

extension RawRepresentable where RawValue == String {
    /// Decodes a stored enum value, failing loudly on a value this build does not know.
    static func decode(_ raw: String) throws -> Self {
        guard let value = Self(rawValue: raw) else { throw StoredValueError(value: raw, type: "\(Self.self)") }
        return value
    }
}

/// A row holds a value this build cannot read (e.g. written by a newer version).
struct StoredValueError: Error, CustomStringConvertible {
    var value: String
    var type: String
    var description: String { "unknown \(type) '\(value)' in the database" }
}
