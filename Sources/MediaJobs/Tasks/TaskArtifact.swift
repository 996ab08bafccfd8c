import Foundation

/// A file copied into storage for a task (a row of `artifacts`).
public struct TaskArtifact: Sendable, Equatable {
    public var taskID: String
    /// Position in the task's outputs; also the file's base name, so re-downloads overwrite.
    public var index: Int
    /// `<index>.<ext>`, relative to the task's folder.
    public var fileName: String
    public var contentType: String
    public var bytes: Int64
    /// Lower-case hex SHA-256 of the stored bytes.
    public var sha256: String
    /// Where it was copied from (the upstream's expiring URL); kept for audits, never shown as a link.
    public var sourceURL: String
    public var title: String?
    public var duration: Double?
    public var style: String?
    public var imageURL: String?
    public var createdAt: Date
    /// Set when retention removed the file; the row stays so clients see "expired", not a dead link.
    public var prunedAt: Date?

    public init(
        taskID: String, index: Int, fileName: String, contentType: String, bytes: Int64, sha256: String,
        sourceURL: String, title: String? = nil, duration: Double? = nil, style: String? = nil,
        imageURL: String? = nil, createdAt: Date = Date(), prunedAt: Date? = nil
    ) {
        self.taskID = taskID
        self.index = index
        self.fileName = fileName
        self.contentType = contentType
        self.bytes = bytes
        self.sha256 = sha256
        self.sourceURL = sourceURL
        self.title = title
        self.duration = duration
        self.style = style
        self.imageURL = imageURL
        self.createdAt = createdAt
        self.prunedAt = prunedAt
    }

    /// Path below the media root: `<task id>/<index>.<ext>`.
    public var relativePath: String { "\(taskID)/\(fileName)" }
}
