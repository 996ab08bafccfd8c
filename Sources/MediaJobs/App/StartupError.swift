/// Why the service could not start.
public enum StartupError: Error, CustomStringConvertible {
    case dataDirectory(String)
    case configuration(String)

    public var description: String {
        switch self {
        case .dataDirectory(let reason): "data directory: \(reason)"
        case .configuration(let reason): "configuration: \(reason)"
        }
    }
}
