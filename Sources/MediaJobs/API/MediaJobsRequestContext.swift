import Hummingbird
import NIOCore

/// A request context that knows which client (API key) sent the request.
public protocol AuthenticatedRequestContext: RequestContext {
    /// Digest of the caller's API key; nil when the server runs without keys.
    var owner: String? { get set }
}

/// The request context of every MediaJobs route.
public struct MediaJobsRequestContext: AuthenticatedRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var owner: String?
    /// The client's address, which slows down its wrong dashboard sign-ins (``LoginThrottle``).
    public var remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
