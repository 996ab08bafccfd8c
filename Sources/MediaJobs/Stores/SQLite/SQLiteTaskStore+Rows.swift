import Foundation
import GRDB

extension MediaTask {
    /// The `tasks` columns in the order ``init(row:)`` reads them: the table's own order, the
    /// columns later migrations added last. Every query whose rows become tasks selects (or
    /// returns) exactly these.
    static let columns = """
        id, kind, status, request, metadata, callback_url, owner, upstream_id, upstream_outputs, progress, fail_reason, \
        attempts, poll_count, next_attempt_at, deadline_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at, \
        lease_epoch, upstream_accepted_at, poll_priority
        """

    /// The `tasks` columns after ``columns`` that a task does not read back: written at insert from
    /// the request, for queries only (`duration_key`: ``WaitingPollStore``).
    static let derivedColumns = ["duration_key"]

    /// Decodes a row selected with ``columns``, by position: GRDB's by-name lookup lower-cases
    /// every name it is given, and for the 23 columns of every claimed task `String.lowercased`
    /// alone was 1.5 % of the server's CPU while it polls.
    init(row: Row) throws {
        let kind = try TaskKind.decode(row[1])
        let request = try TaskRequest(kind, stored: row[3])
        self.init(id: row[0] as String, request: request, deadline: .zero)
        status = try TaskStatus.decode(row[2])
        metadata = try (row[4] as String?).map { try JSONCoding.decode(JSONValue.self, from: $0) }
        callbackURL = row[5]
        owner = row[6]
        upstreamID = row[7]
        upstreamOutputs = try UpstreamOutput.list(fromStored: row[8])
        progress = row[9]
        failReason = row[10]
        attempts = row[11]
        pollCount = row[12]
        nextAttemptAt = Date(millis: row[13])
        deadlineAt = Date(millis: row[14])
        leaseOwner = row[15]
        leaseExpiresAt = (row[16] as Int64?).map(Date.init(millis:))
        createdAt = Date(millis: row[17])
        updatedAt = Date(millis: row[18])
        finishedAt = (row[19] as Int64?).map(Date.init(millis:))
        leaseEpoch = row[20]
        upstreamAcceptedAt = (row[21] as Int64?).map(Date.init(millis:))
        pollPriority = row[22]
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
            finishedAt?.millis.databaseValue ?? .null, DurationKey(task: self).value.databaseValue,
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
