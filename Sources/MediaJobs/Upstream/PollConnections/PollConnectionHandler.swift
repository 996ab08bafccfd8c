import NIOCore
import NIOHTTP1
import NIOSSL

/// One `GET` the poll connections carry: its path, when it must have been answered, and the
/// promise its caller awaits.
///
/// Confined to the pool's event loop (every field is read and written there only); `Sendable` so
/// a caller's cancellation handler can hand it back to the loop.
final class PendingGet: @unchecked Sendable {
    let path: String
    let deadline: NIODeadline
    let timeout: Duration
    let promise: EventLoopPromise<PollConnectionPool.Answer>
    /// Its request head, made when it starts (from the pool's address and headers).
    var head: HTTPRequestHead?
    /// The connection carrying it, once sent.
    var connection: PollConnectionHandler?
    /// Sent again once already, after a kept-alive connection closed under it.
    var resent = false
    private(set) var isDone = false

    init(path: String, timeout: Duration, promise: EventLoopPromise<PollConnectionPool.Answer>) {
        self.path = path
        self.deadline = .now() + TimeAmount(timeout)
        self.timeout = timeout
        self.promise = promise
    }

    func succeed(_ answer: PollConnectionPool.Answer) {
        guard !isDone else { return }
        isDone = true
        connection = nil
        promise.succeed(answer)
    }

    func fail(_ error: PollConnectionPool.Failure) {
        guard !isDone else { return }
        isDone = true
        connection = nil
        promise.fail(error)
    }
}

/// The last handler of a poll connection: sends one `GET` at a time and reads its answer whole
/// (up to the size limit), then hands the connection back to its pool if it may be kept alive.
final class PollConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Told when an answer ended well, and when the connection closed.
    weak var pool: PollConnectionPool.State?
    private let maxAnswerBytes: Int
    private var context: ChannelHandlerContext?
    /// The `GET` in flight on this connection.
    private(set) var current: PendingGet?
    private var answerHead: HTTPResponseHead?
    private var answerBody: ByteBuffer?
    /// Answers this connection has carried: a closed connection that had carried some may just
    /// have been closed by the provider while idle, and its request may go again elsewhere.
    private(set) var answersCarried = 0
    /// Since when it waits for a request (for closing idle connections).
    private(set) var idleSince = NIODeadline.now()

    init(maxAnswerBytes: Int) {
        self.maxAnswerBytes = maxAnswerBytes
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `get` on this connection, which must be idle.
    func send(_ get: PendingGet) {
        guard let context, let head = get.head else {
            get.fail(.closed(answerStarted: false))
            return
        }
        current = get
        get.connection = self
        answerHead = nil
        answerBody = nil
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Closes the connection; a `GET` still in flight fails with `failure`.
    func close(failing failure: PollConnectionPool.Failure) {
        if let get = current {
            current = nil
            get.fail(failure)
        }
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            answerHead = head
        case .body(var part):
            if answerBody == nil {
                answerBody = part
            } else {
                answerBody!.writeBuffer(&part)
            }
            if answerBody!.readableBytes > maxAnswerBytes {
                close(failing: .tooLarge(limit: maxAnswerBytes))
            }
        case .end:
            guard let get = current, let head = answerHead else { return }
            current = nil
            answersCarried += 1
            idleSince = .now()
            let keepAlive = head.isKeepAlive
            get.succeed(PollConnectionPool.Answer(status: Int(head.status.code), headers: head.headers, body: answerBody ?? ByteBuffer()))
            answerHead = nil
            answerBody = nil
            if keepAlive, let pool {
                pool.release(self)
            } else {
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let get = current
        current = nil
        pool?.closed(self, inFlight: get, answerStarted: answerHead != nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer that closed without close_notify: the connection is ending anyway, and an
        // answer delimited by the close is complete once the decoder has seen the end (its
        // `.end`, or `invalidEOFState` for one cut short, comes next).
        if case .uncleanShutdown? = error as? NIOSSLError { return }
        // The decoder reports a connection that ended inside an answer as an error of its own.
        if let parse = error as? HTTPParserError, parse == .invalidEOFState {
            close(failing: .closed(answerStarted: answerHead != nil))
        } else {
            close(failing: .connection(String(describing: error)))
        }
    }
}
