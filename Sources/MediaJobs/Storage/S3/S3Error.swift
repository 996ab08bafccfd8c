/// Why a call to object storage failed, in words an operator can act on.
///
/// Never holds credentials: S3's error bodies name the access key id at most.
public enum S3Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// Settings that cannot work (bad endpoint, missing credentials).
    case configuration(String)
    /// The service answered with an error: its status, and the `Code`/`Message` of its XML body.
    case service(operation: String, target: String, status: Int, code: String, message: String)
    /// No answer: connection refused or reset, TLS failure.
    case transport(operation: String, target: String, reason: String)
    /// The call's deadline passed.
    case timedOut(operation: String, target: String)
    /// An answer that makes no sense (unparsable XML, a missing upload id).
    case invalidResponse(operation: String, reason: String)
    /// The local file's bytes are not the ones that were downloaded.
    case checksumMismatch(expected: String, actual: String)
    /// The local file could not be read.
    case file(String)

    /// Whether the same call may succeed if tried again: throttling, server errors, lost connections.
    public var isRetryable: Bool {
        switch self {
        case .service(_, _, let status, let code, _):
            status >= 500 || status == 429 || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "RequestTimeTooSkewed"].contains(code)
        case .transport, .timedOut: true
        case .configuration, .invalidResponse, .checksumMismatch, .file: false
        }
    }

    /// The status the service answered, when it did.
    public var status: Int? {
        if case .service(_, _, let status, _, _) = self { return status }
        return nil
    }

    public var description: String {
        switch self {
        case .configuration(let reason): "S3 configuration: \(reason)"
        case .service(let operation, let target, let status, let code, let message):
            "S3 \(operation) \(target): \(status) \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .transport(let operation, let target, let reason): "S3 \(operation) \(target): no answer (\(reason))"
        case .timedOut(let operation, let target): "S3 \(operation) \(target): timed out"
        case .invalidResponse(let operation, let reason): "S3 \(operation): unexpected answer (\(reason))"
        case .checksumMismatch(let expected, let actual): "S3 upload refused: the file's sha256 is \(actual), the download's was \(expected)"
        case .file(let reason): "S3 upload: \(reason)"
        }
    }
}
