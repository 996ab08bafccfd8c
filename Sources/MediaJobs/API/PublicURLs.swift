/// The URLs clients download artifacts from: `<base>/files/<task id>/<file name>`, answered by
/// ``FilesController``, the same whatever ``ArtifactStore`` keeps the bytes.
public struct PublicURLs: Sendable {
    /// Base of the URLs, e.g. `http://127.0.0.1:8080` (no trailing slash).
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// The stable URL of `artifact`.
    public func url(for artifact: TaskArtifact) -> String {
        "\(baseURL)/files/\(artifact.relativePath)"
    }
}
