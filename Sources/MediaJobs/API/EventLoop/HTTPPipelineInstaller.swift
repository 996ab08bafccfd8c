import Logging
import NIOCore
import NIOHTTP1

/// Puts ``FileRegionWriter`` and ``HotRouteHandler`` on the socket side of Hummingbird's HTTP/1
/// codec, then leaves.
///
/// Hummingbird's `additionalChannelHandlers` are added after its codec, where bodies are
/// `ByteBuffer`s and requests already belong to the router; this one, added there, inserts the
/// real handlers between NIO's HTTP/1 request decoder and Hummingbird's codec instead:
/// decoder, ``FileRegionWriter`` (outbound: every answer passes it), ``HotRouteHandler``
/// (inbound: every request passes it), Hummingbird.
final class HTTPPipelineInstaller: ChannelInboundHandler, RemovableChannelHandler {
    /// NIO accepts only inbound or outbound handlers; this one leaves before any data flows.
    typealias InboundIn = Never

    private let logger: Logger
    private let routes: EventLoopRoutes?
    private let bodyLimit: RequestBodyLimit

    /// `routes` nil answers every request through the router (`--route-all-requests`).
    init(logger: Logger, routes: EventLoopRoutes?, bodyLimit: RequestBodyLimit) {
        self.logger = logger
        self.routes = routes
        self.bodyLimit = bodyLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        do {
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let writer = FileRegionWriter(logger: logger)
            try pipeline.addHandler(writer, position: .after(decoder))
            try pipeline.addHandler(HotRouteHandler(logger: logger, routes: routes, bodyLimit: bodyLimit), position: .after(writer))
        } catch {
            // Without them, marked responses would go out without their bodies and oversized
            // bodies could stall the connection: refuse it.
            logger.error("cannot install the event-loop handlers", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}
