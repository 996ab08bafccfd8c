import Hummingbird

/// The request context of every MediaJobs route.
public struct MediaJobsRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
