import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Which bytes of which file a `/files` response sends as its body, handed to ``SendfileHandler``.
///
/// Hummingbird's response bodies are `ByteBuffer`s, so a route cannot return a file region
/// itself; it answers with the full head, this marker as an extra header and an empty body, and
/// the handler turns that into a `sendfile(2)` write. The marker is only ever read from
/// responses, so a client that sends it in a request changes nothing, and the handler removes it
/// before the head is encoded, so no client ever sees it.
struct SendfileMarker: Equatable {
    static let headerName = "x-mediajobs-sendfile"
    static let fieldName = HTTPField.Name(headerName)!

    /// Absolute path of the file.
    var path: String
    /// The first and last byte to send, inclusive (as in `Content-Range`).
    var first: Int64
    var last: Int64

    init(path: String, first: Int64, last: Int64) {
        self.path = path
        self.first = first
        self.last = last
    }

    /// `<first>-<last> <path>`: the path goes last, so it may contain spaces.
    var headerValue: String { "\(first)-\(last) \(path)" }

    init?(headerValue: String) {
        guard let space = headerValue.firstIndex(of: " ") else { return nil }
        let bounds = headerValue[..<space].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, last >= first else { return nil }
        let path = headerValue[headerValue.index(after: space)...]
        guard path.hasPrefix("/") else { return nil }
        self.init(path: String(path), first: first, last: last)
    }
}

/// Sends `/files` bodies with `sendfile(2)` instead of copying the file through user space: NIO
/// writes a `FileRegion` with `sendfile` on plain TCP sockets.
///
/// It sits on the socket side of Hummingbird's HTTP/1 codec (`HTTP1ToHTTPServerCodec`), the only
/// place where response bodies are `IOData` and so may be file regions; ``Installer`` puts it
/// there. Two kinds of answers go out through it:
/// - a marked response from ``FilesController``: the head loses its marker, the file region follows;
/// - with ``EventLoopRoutes``, their own answers to status reads and plain file requests, when no
///   request of the connection is waiting on the router (answers leave in request order); a file
///   answer is written as a marked response. What the routes do not answer goes to the router.
/// Every other message passes through untouched (one header lookup per head).
final class SendfileHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// `TCP_CORK`: NIO names no constant for it.
    private static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_CORK))

    private let logger: Logger
    private let routes: EventLoopRoutes?
    /// Set when an error answer replaced a marked response: the body parts the route wrote for the
    /// file (none today) are dropped until its `.end`, which still ends the error answer.
    private var droppingBody = false
    /// Requests handed to the router whose answer has not ended yet. The event loop answers only
    /// when there are none, so answers leave in the order the requests came (HTTP/1 pipelining).
    private var routedInFlight = 0
    /// Set from the head of a request answered here to its `.end`: its parts go no further.
    private var swallowingRequest = false
    /// Set while this handler writes an answer of its own (not one coming down from the router).
    private var writingOwnAnswer = false
    /// A submit whose body is being read here, to be answered here if it passes every check.
    private var collecting: EventLoopRoutes.PendingSubmit?
    /// Set while a submit read here waits for its commit. Meanwhile no more bytes are read from
    /// the socket, and requests already decoded wait in `held`: answers leave in request order.
    private var awaitingCommit = false
    private var held: [HTTPServerRequestPart] = []
    /// A `read` asked for while a commit was awaited, passed on once it is done.
    private var readPending = false
    /// File regions not yet sent, and a close asked for meanwhile (Hummingbird closes a connection
    /// at shutdown once the answer's `.end` has passed, which is before the file has been sent; and
    /// idle-looking connections while a submit waits for its commit).
    private var regionsInFlight = 0
    private var deferredClose: EventLoopPromise<Void>?
    private var closeIsDeferred = false
    /// Set once the channel is gone: a commit that completes later has no one to answer.
    private var removed = false

    init(logger: Logger, routes: EventLoopRoutes?) {
        self.logger = logger
        self.routes = routes
    }

    // MARK: Requests

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard !awaitingCommit else {
            held.append(part)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if routedInFlight == 0, let routes {
                if let answer = routes.answer(head) {
                    swallowingRequest = true
                    writeAnswer(answer, context: context, promise: nil)
                    return
                }
                if let pending = routes.submitCandidate(head) {
                    collecting = pending
                    return
                }
            }
            routedInFlight += 1
            context.fireChannelRead(wrapInboundOut(part))
        case .body(var bytes):
            if var pending = collecting {
                collecting = nil
                if pending.body == nil { pending.body = bytes } else { pending.body?.writeBuffer(&bytes) }
                collecting = pending
            } else if !swallowingRequest {
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .end(let trailers):
            if let pending = collecting {
                collecting = nil
                commit(pending, trailers: trailers, context: context)
            } else if swallowingRequest {
                swallowingRequest = false
            } else {
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    /// Hands a collected submit to the store; the answer is written when the commit is done. A
    /// submit that fails a check goes to the router as it came, which answers it with the error.
    private func commit(_ pending: EventLoopRoutes.PendingSubmit, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        awaitingCommit = true
        let started =
            routes?.commit(pending) { answer in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.finishCommit(answer, context: context)
                }
            } ?? false
        guard !started else { return }
        awaitingCommit = false
        routedInFlight += 1
        context.fireChannelRead(wrapInboundOut(.head(pending.head)))
        if let body = pending.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
    }

    /// Writes a submit's answer, then reads on: the requests held meanwhile, in order, then the socket.
    private func finishCommit(_ answer: EventLoopRoutes.Answer, context: ChannelHandlerContext) {
        awaitingCommit = false
        // The client left while the commit ran: the task is stored all the same (as through the router).
        guard !removed else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { _ in self.closeIfDeferred(context: context) }
        writeAnswer(answer, context: context, promise: written)
        let waiting = held
        held = []
        for (index, part) in waiting.enumerated() {
            // A held request may be a submit of its own: what follows it waits again.
            guard !awaitingCommit else {
                held.append(contentsOf: waiting[index...])
                break
            }
            handle(part, context: context)
        }
        if !awaitingCommit, readPending {
            readPending = false
            context.read()
        }
    }

    private func writeAnswer(_ answer: EventLoopRoutes.Answer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        writingOwnAnswer = true
        defer { writingOwnAnswer = false }
        write(context: context, data: wrapOutboundOut(.head(answer.head)), promise: nil)
        if let body = answer.body { write(context: context, data: wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        write(context: context, data: wrapOutboundOut(.end(nil)), promise: promise)
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        held = []
    }

    func read(context: ChannelHandlerContext) {
        // No more bytes off the socket while a submit waits for its commit (what is read already
        // waits in `held`), so a client pipelining requests cannot make this handler buffer them.
        if awaitingCommit {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Answers

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            guard let value = head.headers.first(name: SendfileMarker.headerName) else {
                context.write(data, promise: promise)
                return
            }
            head.headers.remove(name: SendfileMarker.headerName)
            switch openRegion(value) {
            case .success(let region):
                // Corked, the head leaves in the same packet as the file's first bytes instead of a
                // small packet of its own (nginx's `tcp_nopush`); uncorking when the region is sent
                // pushes out its last partial packet. Packetization only: the bytes are the same.
                let options = context.channel.syncOptions
                try? options?.setOption(Self.cork, value: 1)
                context.write(wrapOutboundOut(.head(head)), promise: promise)
                // The handle must stay open until the kernel has sent the region, and be closed
                // however the write ends: NIO completes (or fails, when the connection closes
                // first) this promise exactly once.
                let sent = context.eventLoop.makePromise(of: Void.self)
                regionsInFlight += 1
                sent.futureResult.assumeIsolated().whenComplete { _ in
                    try? options?.setOption(Self.cork, value: 0)
                    try? region.fileHandle.close()
                    self.regionsInFlight -= 1
                    self.closeIfDeferred(context: context)
                }
                context.write(wrapOutboundOut(.body(.fileRegion(region))), promise: sent)
            case .failure(let error):
                droppingBody = true
                writeError(error, replacing: head, context: context, promise: promise)
            }
        case .body:
            if droppingBody {
                promise?.succeed(())
            } else {
                context.write(data, promise: promise)
            }
        case .end:
            droppingBody = false
            // Ends coming down from the router finish routed requests; this handler's own answers
            // were never counted.
            if !writingOwnAnswer, routedInFlight > 0 { routedInFlight -= 1 }
            context.write(data, promise: promise)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, regionsInFlight > 0 || awaitingCommit else {
            context.close(mode: mode, promise: promise)
            return
        }
        // Let the file, or the answer to a stored submit, go out first; the close follows.
        closeIsDeferred = true
        if let promise {
            if let deferredClose { deferredClose.futureResult.cascade(to: promise) } else { deferredClose = promise }
        }
    }

    private func closeIfDeferred(context: ChannelHandlerContext) {
        guard closeIsDeferred, regionsInFlight == 0, !awaitingCommit else { return }
        closeIsDeferred = false
        context.close(mode: .all, promise: deferredClose)
        deferredClose = nil
    }

    /// Opens the marked file and checks it still holds the whole range.
    ///
    /// This runs on the event loop: `open(2)` and `fstat(2)` of a local file are metadata
    /// look-ups that take microseconds (nginx does the same on its event loop), far less than
    /// the hop to a thread pool would. Opening here rather than in the route also means the
    /// descriptor exists only once the response is actually being written, so no path can leak it.
    private func openRegion(_ markerValue: String) -> Result<FileRegion, APIError> {
        guard let marker = SendfileMarker(headerValue: markerValue) else {
            logger.error("malformed sendfile marker on a response", metadata: ["marker": "\(markerValue)"])
            return .failure(.internalError)
        }
        let descriptor = Glibc.open(marker.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            if code == ENOENT {
                // The row said the file exists, but it is gone (a prune racing this request, or
                // the data directory was changed by hand): the same answer as a file without a row.
                logger.warning("artifact file missing on disk", metadata: ["file.path": "\(marker.path)"])
                return .failure(APIError(status: .notFound, kind: .notFound, code: "file_not_found", message: "the stored file is missing"))
            }
            logger.error("cannot open artifact file", metadata: ["file.path": "\(marker.path)", "errno": "\(code)"])
            return .failure(.internalError)
        }
        var status = stat()
        // A file shorter than the range would leave `sendfile` returning 0 forever and the
        // response short of its Content-Length; refuse it before anything is written.
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, Int64(status.st_size) > marker.last else {
            Glibc.close(descriptor)
            logger.error("artifact file shorter than its recorded size", metadata: ["file.path": "\(marker.path)", "range.last": "\(marker.last)"])
            return .failure(.internalError)
        }
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
        return .success(FileRegion(fileHandle: handle, readerIndex: Int(marker.first), endIndex: Int(marker.last) + 1))
    }

    /// Answers with the error envelope of DESIGN.md §5 instead of the file, keeping the head's
    /// `Date`, `Server` and `Connection` so the answer looks like every other one.
    private func writeError(_ error: APIError, replacing fileHead: HTTPResponseHead, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let body = error.body(sunoStyle: false)
        var headers = HTTPHeaders()
        for name in ["date", "server", "connection"] {
            for value in fileHead.headers[name] { headers.add(name: name, value: value) }
        }
        headers.add(name: "content-type", value: "application/json; charset=utf-8")
        headers.add(name: "content-length", value: String(body.readableBytes))
        let head = HTTPResponseHead(version: fileHead.version, status: .init(statusCode: Int(error.status.code)), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
    }
}

extension SendfileHandler {
    /// Puts a ``SendfileHandler`` on the socket side of Hummingbird's HTTP/1 codec, then leaves.
    ///
    /// Hummingbird's `additionalChannelHandlers` are added after its codec, where bodies are
    /// `ByteBuffer`s; this one, added there, inserts the real handler between NIO's HTTP/1 request
    /// decoder and Hummingbird's codec instead.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        /// NIO accepts only inbound or outbound handlers; this one leaves before any data flows.
        typealias InboundIn = Never

        private let logger: Logger

        private let routes: EventLoopRoutes?

        init(logger: Logger, routes: EventLoopRoutes?) {
            self.logger = logger
            self.routes = routes
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            do {
                // After NIO's request decoder (requests arrive parsed) and before Hummingbird's codec.
                let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try pipeline.addHandler(SendfileHandler(logger: logger, routes: routes), position: .after(decoder))
            } catch {
                // Without the handler, marked responses would go out without their bodies: refuse the connection.
                logger.error("cannot install the sendfile handler", metadata: ["error": "\(error)"])
                context.close(promise: nil)
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}

extension FileRequestHeaders {
    init(_ headers: HTTPHeaders) {
        self.init(
            range: headers.first(name: "range"), ifRange: headers.first(name: "if-range"), ifNoneMatch: headers["if-none-match"],
            ifModifiedSince: headers.first(name: "if-modified-since"))
    }
}
