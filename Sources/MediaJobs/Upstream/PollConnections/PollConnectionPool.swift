import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive HTTP/1.1 connections to the provider that carry its polls: `GET`s whose answers
/// are small JSON documents, made many times per task.
///
/// Every other call (submits, downloads, webhooks) goes through AsyncHTTPClient. A poll went
/// through it too, and its request machinery was about a third of the server's CPU while it
/// polled (BENCHMARKS.md figure 9: URL parsing per request, a request bag and a pool manager
/// with their state machines, a deadline and an idle timer armed and cancelled per call). A poll
/// needs none of it: one host, one method, no body, no redirect. Here a poll is a request head
/// written to an idle connection on the pool's event loop and an answer read whole; deadlines and
/// idle connections are checked by one sweep while connections are open.
///
/// State is confined to the event loop. Callers on that loop (the poll worker, whose steps run
/// there: ``EventLoopTaskExecutor``) start their request without a hop.
final class PollConnectionPool: Sendable {
    /// A complete answer.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Why a `GET` got no answer.
    enum Failure: Error, CustomStringConvertible, Equatable {
        case timedOut(after: Duration)
        case tooLarge(limit: Int)
        /// The connection closed before the answer was complete.
        case closed(answerStarted: Bool)
        case connection(String)
        case cancelled
        case shutDown
        case invalidAddress(String)

        var description: String {
            switch self {
            case .timedOut(let after): "no answer within \(after)"
            case .tooLarge(let limit): "the answer is larger than \(limit) bytes"
            case .closed(let answerStarted): answerStarted ? "the connection closed in the middle of the answer" : "the connection closed before an answer"
            case .connection(let error): "connection failed: \(error)"
            case .cancelled: "the call was cancelled"
            case .shutDown: "the poll connections are shut down"
            case .invalidAddress(let reason): reason
            }
        }
    }

    struct Settings: Sendable {
        var maxAnswerBytes: Int
        var connectTimeout: Duration = .seconds(10)
        /// A connection unused this long is closed (providers close theirs after a while too).
        var idleTimeout: Duration = .seconds(60)
        /// How often deadlines and idle connections are checked while connections are open.
        var sweepInterval: Duration = .milliseconds(250)
        /// For an `https` provider: the system's trust roots, as AsyncHTTPClient uses them.
        var tls: TLSConfiguration = .makeClientConfiguration()
    }

    let eventLoop: any EventLoop
    private let baseURL: LateValue<String>
    private let state: NIOLoopBoundBox<State>

    /// `headers` go with every request (`Host` is added).
    init(baseURL: LateValue<String>, headers: HTTPHeaders, settings: Settings, eventLoop: any EventLoop) {
        self.baseURL = baseURL
        self.eventLoop = eventLoop
        self.state = .makeBoxSendingValue(State(settings: settings, headers: headers, eventLoop: eventLoop), eventLoop: eventLoop)
    }

    /// `GET` `path` (after the base URL's own path): the whole answer, whatever its status.
    func get(_ path: String, timeout: Duration) async throws(Failure) -> Answer {
        let base = await baseURL.get()
        let get = PendingGet(path: path, timeout: timeout, promise: eventLoop.makePromise(of: Answer.self))
        // On the pool's loop (the poll worker) the request starts here; from elsewhere it hops.
        if eventLoop.inEventLoop {
            state.value.start(get, base: base)
        } else {
            eventLoop.execute { [state] in state.value.start(get, base: base) }
        }
        do {
            return try await withTaskCancellationHandler {
                try await get.promise.futureResult.get()
            } onCancel: { [state, eventLoop] in
                eventLoop.execute { state.value.cancel(get) }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .connection(String(describing: error))
        }
    }

    /// Closes every connection; later calls fail.
    func shutdown() async {
        let done = eventLoop.makePromise(of: Void.self)
        eventLoop.execute { [state] in
            state.value.shutDown()
            done.succeed()
        }
        try? await done.futureResult.get()
    }

    /// The pool's state, on its event loop.
    final class State {
        private let settings: Settings
        private let eventLoop: any EventLoop
        /// What every request carries but `Host`.
        private let headers: HTTPHeaders
        private var address: (source: String, parsed: ProviderAddress)?
        private var tls: NIOSSLContext?
        /// `headers` and `Host`, once the address is known.
        private var hostHeaders: HTTPHeaders = [:]
        /// Kept-alive connections waiting for a request, the most recently used last.
        private var idle: [PollConnectionHandler] = []
        /// Every open connection, for the sweep.
        private var open: [ObjectIdentifier: PollConnectionHandler] = [:]
        private var sweep: Scheduled<Void>?
        private var isShutDown = false

        init(settings: Settings, headers: HTTPHeaders, eventLoop: any EventLoop) {
            self.settings = settings
            self.headers = headers
            self.eventLoop = eventLoop
        }

        /// Starts a `GET`: on an idle connection, or on a new one.
        func start(_ get: PendingGet, base: String) {
            guard !get.isDone else { return }
            guard !isShutDown else {
                get.fail(.shutDown)
                return
            }
            let address: ProviderAddress
            do {
                address = try self.address(of: base)
            } catch {
                get.fail(error)
                return
            }
            get.head = HTTPRequestHead(version: .http1_1, method: .GET, uri: address.pathPrefix + get.path, headers: hostHeaders)
            send(get, to: address)
        }

        /// The parsed base URL and the headers of every request, worked out on the first call.
        private func address(of base: String) throws(Failure) -> ProviderAddress {
            if let address, address.source == base { return address.parsed }
            let parsed: ProviderAddress
            do {
                parsed = try ProviderAddress(baseURL: base)
                if parsed.tls, tls == nil {
                    tls = try NIOSSLContext(configuration: settings.tls)
                }
            } catch {
                throw .invalidAddress(String(describing: error))
            }
            var all = headers
            all.replaceOrAdd(name: "Host", value: parsed.hostHeader)
            hostHeaders = all
            address = (base, parsed)
            return parsed
        }

        private func send(_ get: PendingGet, to address: ProviderAddress) {
            if let connection = idle.popLast() {
                connection.send(get)
            } else {
                connect(for: get, to: address)
            }
        }

        private func connect(for get: PendingGet, to address: ProviderAddress) {
            let (maxAnswerBytes, tls) = (settings.maxAnswerBytes, self.tls)
            let connectTimeout = min(TimeAmount(settings.connectTimeout), max(get.deadline - .now(), .milliseconds(1)))
            let serverName = address.tlsServerName
            ClientBootstrap(group: eventLoop)
                .connectTimeout(connectTimeout)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    do {
                        let pipeline = channel.pipeline.syncOperations
                        if let tls {
                            try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        }
                        try pipeline.addHTTPClientHandlers()
                        try pipeline.addHandler(PollConnectionHandler(maxAnswerBytes: maxAnswerBytes))
                        return channel.eventLoop.makeSucceededVoidFuture()
                    } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
                .connect(host: address.host, port: address.port)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        guard let connection = try? channel.pipeline.syncOperations.handler(type: PollConnectionHandler.self) else {
                            channel.close(promise: nil)
                            get.fail(.connection("the connection has no poll handler"))
                            return
                        }
                        connection.pool = self
                        self.open[ObjectIdentifier(connection)] = connection
                        self.startSweeping()
                        if self.isShutDown {
                            connection.close(failing: .shutDown)
                            get.fail(.shutDown)
                        } else if get.isDone {
                            // Cancelled or timed out while connecting: the connection serves the next call.
                            self.release(connection)
                        } else {
                            connection.send(get)
                        }
                    case .failure(let error):
                        get.fail(.connection(String(describing: error)))
                    }
                }
        }

        /// `connection` answered and may be kept alive.
        func release(_ connection: PollConnectionHandler) {
            guard !isShutDown else {
                connection.close(failing: .shutDown)
                return
            }
            idle.append(connection)
        }

        /// `connection` closed; `inFlight` was its `GET` then, if any. A `GET` that got no byte of
        /// an answer on a connection that had carried others is sent once more: the provider may
        /// have closed the connection as idle just as the request went out (a `GET` is safe to repeat).
        func closed(_ connection: PollConnectionHandler, inFlight: PendingGet?, answerStarted: Bool) {
            open[ObjectIdentifier(connection)] = nil
            if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
            guard let get = inFlight, !get.isDone else { return }
            get.connection = nil
            if !answerStarted, connection.answersCarried > 0, !get.resent, !isShutDown, let address {
                get.resent = true
                send(get, to: address.parsed)
            } else {
                get.fail(.closed(answerStarted: answerStarted))
            }
        }

        func cancel(_ get: PendingGet) {
            guard !get.isDone else { return }
            if let connection = get.connection {
                // Its answer may still come: the connection cannot carry another request.
                connection.close(failing: .cancelled)
            } else {
                get.fail(.cancelled)
            }
        }

        func shutDown() {
            isShutDown = true
            sweep?.cancel()
            sweep = nil
            idle.removeAll()
            for connection in open.values { connection.close(failing: .shutDown) }
        }

        /// While connections are open: fails the `GET`s past their deadline and closes connections
        /// idle too long, every sweep interval.
        private func startSweeping() {
            guard sweep == nil else { return }
            sweep = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(settings.sweepInterval)) { self.sweepOnce() }
        }

        private func sweepOnce() {
            sweep = nil
            let now = NIODeadline.now()
            let idleLimit = TimeAmount(settings.idleTimeout)
            for connection in open.values {
                if let get = connection.current {
                    if get.deadline <= now { connection.close(failing: .timedOut(after: get.timeout)) }
                } else if connection.idleSince + idleLimit <= now {
                    connection.close(failing: .closed(answerStarted: false))
                }
            }
            if !open.isEmpty, !isShutDown { startSweeping() }
        }
    }
}
