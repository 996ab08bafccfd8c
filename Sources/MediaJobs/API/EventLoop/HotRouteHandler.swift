import Logging
import NIOCore
import NIOHTTP1

/// Reads every request of a connection on the event loop, between NIO's HTTP/1 decoder and
/// Hummingbird's codec (``HTTPPipelineInstaller`` puts it there), and decides where it goes:
/// - the hot routes of ``EventLoopRoutes`` are answered here, when no request of the connection
///   is waiting on the router (answers leave in request order, as HTTP/1 pipelining needs);
///   a file answer goes out as a marked response, which ``FileRegionWriter`` turns into `sendfile`;
/// - everything else goes to the router as it came;
/// - a body over the limit is cut off (``RequestBodyLimit``): the router gets what it needs to
///   refuse it with its 413, the rest is read and dropped up to a bound, then the connection closes.
///
/// Without ``EventLoopRoutes`` (`--route-all-requests`) only the last of these applies.
final class HotRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the connection is reading.
    enum State {
        /// Between requests: the next part is a head.
        case idle
        /// A request going to the router, with the bytes of its body so far.
        case routing(bodyBytes: Int)
        /// The rest of a request answered here (up to its `.end`): it goes no further.
        case swallowing
        /// A submit whose body is read here, to be answered here if it passes every check.
        case collectingSubmit(EventLoopRoutes.PendingSubmit)
        /// A submit read here waits for its commit. Meanwhile no more bytes are read off the
        /// socket: requests already decoded wait in `held`, and a `read` asked for is owed.
        case awaitingCommit(held: [HTTPServerRequestPart], readPending: Bool)
        /// The rest of a request is read and dropped; the connection closes once it has ended (or
        /// the bound is reached) and the router's answers are out.
        case discarding(Discard)
        /// The connection is closing or gone: nothing more is read or answered.
        case closed
    }

    /// A refused request's rest being read and dropped.
    struct Discard {
        /// Bytes dropped so far.
        var bytes = 0
        /// The client has sent the whole request.
        var requestEnded = false
        /// The bound was reached (``RequestBodyLimit``): nothing more is read.
        var boundReached = false
        /// Ends the discard when ``RequestBodyLimit/discardTime`` is up.
        var timer: Scheduled<Void>?
    }

    private let logger: Logger
    private let routes: EventLoopRoutes?
    private let bodyLimit: RequestBodyLimit
    private var state = State.idle
    /// Requests handed to the router whose answer has not ended yet. The event loop answers only
    /// when there are none, so answers leave in the order the requests came.
    private var routedInFlight = 0
    /// A close asked for while a commit is awaited: the answer to the stored submit goes out first.
    private var deferredClose: DeferredClose?

    init(logger: Logger, routes: EventLoopRoutes?, bodyLimit: RequestBodyLimit) {
        self.logger = logger
        self.routes = routes
        self.bodyLimit = bodyLimit
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .awaitingCommit(var held, let readPending) = state {
            state = .closed  // drops the state's reference, so `held` grows in place
            held.append(part)
            state = .awaitingCommit(held: held, readPending: readPending)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            guard case .head(let head) = part else {
                // Out of order (NIO's decoder never does this): Hummingbird reports it.
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            receive(head, context: context)
        case .routing(let bodyBytes):
            route(part, bodyBytes: bodyBytes, context: context)
        case .swallowing:
            if case .end = part { state = .idle }
        case .collectingSubmit:
            collect(part, context: context)
        case .awaitingCommit:
            // `channelRead` holds parts while a commit is awaited; `finishCommit` stops replaying before this.
            break
        case .discarding:
            discard(part, context: context)
        case .closed:
            break
        }
    }

    /// A new request: answered here, collected here, or handed to the router.
    private func receive(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if routedInFlight == 0, let routes {
            if let answer = routes.answer(head, logger: logger) {
                state = .swallowing
                writeAnswer(answer, context: context, promise: nil)
                return
            }
            if let pending = routes.submitCandidate(head, logger: logger) {
                state = .collectingSubmit(pending)
                return
            }
        }
        routedInFlight += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > bodyLimit.maxBytes, !Self.isReadAsItComes(head) {
            // Declared over the limit: the router refuses it from its head (``JSONRequestBody``)
            // and gets none of the body.
            cutOff(context: context)
        } else {
            state = .routing(bodyBytes: 0)
        }
    }

    /// A form (`multipart/form-data`) is read part by part as it comes (``MultipartFormBody``), so
    /// even one declared over the limit reaches the router up to the limit, like a chunked body:
    /// a file part at its start is refused for what it is (400), not for its size.
    static func isReadAsItComes(_ head: HTTPRequestHead) -> Bool {
        head.headers.first(name: "content-type")?.lowercased().hasPrefix("multipart/form-data") == true
    }

    /// The body and end of a routed request, counted against the limit.
    private func route(_ part: HTTPServerRequestPart, bodyBytes: Int, context: ChannelHandlerContext) {
        switch part {
        case .body(let bytes):
            let total = bodyBytes + bytes.readableBytes
            context.fireChannelRead(wrapInboundOut(part))
            if total > bodyLimit.maxBytes {
                // The router has now seen more than the limit (a chunked body), so a route that
                // reads its body refuses it with 413; for the router the request ends here.
                cutOff(context: context)
            } else {
                state = .routing(bodyBytes: total)
            }
        case .end:
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        case .head:
            // A head before the previous request's end (NIO's decoder never does this): Hummingbird reports it.
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Ends a routed request for the router and drops the rest the client sends.
    private func cutOff(context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(.end(nil)))
        startDiscarding(context: context)
    }

    // MARK: Submits read here

    private func collect(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        guard case .collectingSubmit(var pending) = state else { return }
        state = .closed  // drops the state's reference, so the body grows in place
        switch part {
        case .body(var bytes):
            if pending.body == nil { pending.body = bytes } else { pending.body?.writeBuffer(&bytes) }
            state = .collectingSubmit(pending)
        case .end(let trailers):
            commit(pending, trailers: trailers, context: context)
        case .head:
            // A head before the submit's end (NIO's decoder never does this): Hummingbird reports it.
            state = .collectingSubmit(pending)
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Hands a collected submit to the store; the answer is written when the commit is done. A
    /// submit that fails a check goes to the router as it came, which answers it with the error.
    private func commit(_ pending: EventLoopRoutes.PendingSubmit, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        state = .awaitingCommit(held: [], readPending: false)
        let started =
            routes?.commit(pending, logger: logger) { answer in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.finishCommit(answer, context: context)
                }
            } ?? false
        guard !started else { return }
        // Within the limit (``SubmitFastPath/maxBodyBytes``): the router gets it whole.
        state = .idle
        routedInFlight += 1
        context.fireChannelRead(wrapInboundOut(.head(pending.head)))
        if let body = pending.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
    }

    /// Writes a submit's answer, then reads on: the requests held meanwhile, in order, then the socket.
    private func finishCommit(_ answer: EventLoopRoutes.Answer, context: ChannelHandlerContext) {
        // The client left while the commit ran: the task is stored all the same (as through the router).
        guard case .awaitingCommit(let held, let readPending) = state else { return }
        state = .idle
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in self.closeIfDeferred(context: context) }
        writeAnswer(answer, context: context, promise: written)
        for (index, part) in held.enumerated() {
            if case .awaitingCommit(let again, let pendingAgain) = state {
                // A held request was a submit of its own: what follows it waits again.
                state = .awaitingCommit(held: again + held[index...], readPending: pendingAgain || readPending)
                return
            }
            handle(part, context: context)
        }
        if case .awaitingCommit(let again, _) = state {
            state = .awaitingCommit(held: again, readPending: readPending)
        } else if readPending {
            context.read()
        }
    }

    private func writeAnswer(_ answer: EventLoopRoutes.Answer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        if let body = answer.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
        context.flush()
    }

    // MARK: Dropping a refused request's rest

    private func startDiscarding(context: ChannelHandlerContext) {
        let timer = context.eventLoop.assumeIsolated().scheduleTask(in: bodyLimit.discardTime) {
            self.discardTimeIsUp(context: context)
        }
        state = .discarding(Discard(timer: timer))
        // Hummingbird may have stopped asking for bytes (after the answer to a `Connection: close`
        // request it only waits for the close): ask here, or a client still sending waits forever.
        context.read()
    }

    private func discard(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        guard case .discarding(var discard) = state else { return }
        switch part {
        case .body(let bytes):
            discard.bytes += bytes.readableBytes
            if discard.bytes > bodyLimit.discardBytes { discard.boundReached = true }
        case .end, .head:
            // A head is a request pipelined after the refused one: the connection closes before it.
            discard.requestEnded = true
        }
        state = .discarding(discard)
        closeIfDiscarded(context: context)
    }

    private func discardTimeIsUp(context: ChannelHandlerContext) {
        guard case .discarding(var discard) = state else { return }
        discard.boundReached = true
        discard.timer = nil
        state = .discarding(discard)
        closeIfDiscarded(context: context)
    }

    /// Closes once the refused request has ended (or the bound is reached) and the router's answers are out.
    private func closeIfDiscarded(context: ChannelHandlerContext) {
        guard case .discarding(let discard) = state, routedInFlight == 0, discard.requestEnded || discard.boundReached else { return }
        discard.timer?.cancel()
        state = .closed
        context.close(mode: .all, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .discarding(let discard) = state, !discard.boundReached {
            context.read()
        }
        context.fireChannelReadComplete()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if case .discarding(let discard) = state { discard.timer?.cancel() }
        state = .closed
        // The channel is gone, which is what a close held back for a commit asked for.
        deferredClose?.promise?.succeed(())
        deferredClose = nil
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        switch state {
        case .awaitingCommit(let held, _):
            // No more bytes off the socket while a submit waits for its commit (what is read
            // already waits in `held`), so a client pipelining requests cannot make this handler
            // buffer them.
            state = .awaitingCommit(held: held, readPending: true)
        case .discarding(let discard) where discard.boundReached:
            // Enough was dropped: the connection closes as soon as the answers are out.
            break
        default:
            context.read()
        }
    }

    /// Sees the router's answers (this handler's own go straight to the socket side).
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .discarding = state else {
            if case .end = unwrapOutboundIn(data), routedInFlight > 0 { routedInFlight -= 1 }
            context.write(data, promise: promise)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head) where routedInFlight == 1:
            // The last answer the router owes is the refused request's: the connection closes after it.
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end:
            if routedInFlight > 0 { routedInFlight -= 1 }
            guard routedInFlight == 0 else {
                context.write(data, promise: promise)
                return
            }
            // Closing before the answer has been written would lose it.
            let written = promise ?? context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { _ in self.closeIfDiscarded(context: context) }
            context.write(data, promise: written)
        default:
            context.write(data, promise: promise)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch state {
        case .awaitingCommit where mode == .all:
            // The answer to a stored submit goes out first; the close follows.
            if deferredClose == nil { deferredClose = DeferredClose(promise) } else { deferredClose?.add(promise) }
        case .routing where mode == .output:
            // Hummingbird answered a `Connection: close` request before its body ended and now
            // only waits for the close: read and drop the rest, or the client never gets to read
            // the answer.
            startDiscarding(context: context)
            context.close(mode: mode, promise: promise)
        default:
            context.close(mode: mode, promise: promise)
        }
    }

    private func closeIfDeferred(context: ChannelHandlerContext) {
        guard let deferred = deferredClose else { return }
        if case .awaitingCommit = state { return }
        deferredClose = nil
        context.close(mode: .all, promise: deferred.promise)
    }
}
