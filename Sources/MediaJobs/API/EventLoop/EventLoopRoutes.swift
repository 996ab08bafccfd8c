import Logging
import NIOCore
import NIOHTTP1

/// The hot routes ``HotRouteHandler`` answers itself, on the event loop: `GET /suno/fetch/{id}`
/// (what polling clients call most), plain `GET`/`HEAD /files/{task}/{file}`, and plain
/// `POST /suno/submit/music`.
///
/// Through the router, every request hops from the event loop to a Swift task and back, with
/// Hummingbird's per-request work (async request and response streams, router, middleware chain)
/// in between; that was two fifths of the server's CPU for a status read, a third for a 1 MB file,
/// half for a submit (BENCHMARKS.md, figures 1, 2 and 4). nginx answers on its event loop, and so
/// do these routes: a synchronous point read of the store (microseconds, see
/// ``EventLoopStoreAccess``), or for a submit the body's checks and a place in the store's next
/// group commit whose completion writes the answer; the same checks and the same bytes as
/// the routed handlers, whose code they share.
///
/// Reads are answered here when they succeed; a submit once its body passed every check (a store
/// refusal after that, such as the per-key limit, is answered here with the usual envelope).
/// Anything else (another method or HTTP version, a path the router might read differently, a
/// missing or refused key, an unknown task, an invalid body, any error before the commit) goes to
/// the router, which answers it the usual way, error envelope included; why is logged at debug level.
struct EventLoopRoutes: Sendable {
    /// The client keys, checked by ``Requester`` as the router checks them.
    var keys: APIKeyRing
    /// Where every answer written here is counted (``HTTPRequestTiming``).
    var metrics: ServiceMetrics
    /// The `Server` header every answer carries.
    var serverName: String
    var status: StatusFastPath
    var files: FilesFastPath
    var submit: SubmitFastPath

    /// A whole answer: the head, and the body when it is not a file (a file goes out as a
    /// ``SendfileMarker`` in the head).
    struct Answer {
        var head: HTTPResponseHead
        var body: ByteBuffer?
    }

    /// What one route made of a request, before ``EventLoopRoutes/finish(_:_:route:started:)``.
    struct RouteAnswer {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer?
    }

    /// The answer to `head`, or nil when the router should answer it.
    func answer(_ head: HTTPRequestHead, logger: Logger) -> Answer? {
        let started = ContinuousClock.now
        // Requests with a body, HTTP/1.0 and `Connection: close` are rare here and have framing
        // rules of their own: the router's.
        guard head.version == .http1_1, head.isKeepAlive, !head.headers.contains(name: "content-length"),
            !head.headers.contains(name: "transfer-encoding")
        else { return nil }
        let route: String
        let answer: RouteAnswer?
        if head.method == .GET, let segments = Self.plainSegments(head.uri, after: StatusFastPath.prefix, count: 1) {
            route = StatusFastPath.route
            answer = admitted(head, route: route, logger: logger).flatMap { status.answer(id: segments[0], requester: $0.owner, logger: logger) }
        } else if head.method == .GET || head.method == .HEAD, let segments = Self.plainSegments(head.uri, after: FilesFastPath.prefix, count: 2) {
            route = FilesFastPath.route
            answer = admitted(head, route: route, logger: logger).flatMap {
                files.answer(head, taskID: segments[0], fileName: segments[1], requester: $0.owner, logger: logger)
            }
        } else {
            return nil
        }
        return answer.map { finish($0, head, route: route, started: started) }
    }

    /// Finishes every answer written here, as Hummingbird finishes the router's: `Date` and
    /// `Server` added, and the request counted under its route template (``HTTPRequestTiming``).
    private func finish(_ answer: RouteAnswer, _ head: HTTPRequestHead, route: String, started: ContinuousClock.Instant) -> Answer {
        var headers = answer.headers
        headers.add(name: "date", value: HTTPDate.now())
        headers.add(name: "server", value: serverName)
        HTTPRequestTiming(method: head.method.rawValue, started: started).record(route: route, status: Int(answer.status.code), in: metrics)
        return Answer(head: HTTPResponseHead(version: head.version, status: answer.status, headers: headers), body: answer.body)
    }

    // MARK: Submits

    /// A submit whose body is being collected, to be answered here if it passes every check.
    struct PendingSubmit {
        /// The request's head, replayed to the router when the body fails a check.
        var head: HTTPRequestHead
        /// The key's owner (nil when the API is open).
        var owner: String?
        /// When the head was read: the answer's time counts from here.
        var started: ContinuousClock.Instant
        /// The body read so far.
        var body: ByteBuffer?
    }

    /// A submit that may be answered here once its body has arrived; nil when the router should take it.
    func submitCandidate(_ head: HTTPRequestHead, logger: Logger) -> PendingSubmit? {
        let started = ContinuousClock.now
        guard head.method == .POST, head.version == .http1_1, head.isKeepAlive, SubmitFastPath.isSubmitPath(head.uri),
            let length = head.headers.first(name: "content-length").flatMap(Int.init), (1...min(SubmitFastPath.maxBodyBytes, submit.body.maxBytes)).contains(length),
            // Chunked bodies, `Expect: 100-continue` and idempotent replays keep to the router.
            !head.headers.contains(name: "transfer-encoding"), !head.headers.contains(name: "expect"),
            !head.headers.contains(name: "idempotency-key"),
            let admitted = admitted(head, route: SubmitFastPath.route, logger: logger)
        else { return nil }
        return PendingSubmit(head: head, owner: admitted.owner, started: started)
    }

    /// Checks the collected body and stores the task; `completion` gets the answer (on the
    /// thread the group commit ran on). False, with nothing stored, when the router should answer
    /// instead.
    func commit(_ pending: PendingSubmit, logger: Logger, completion: @escaping @Sendable (Answer) -> Void) -> Bool {
        guard let body = pending.body, let task = submit.task(from: body, owner: pending.owner) else { return false }
        submit.store(task, owner: pending.owner) { answer in
            completion(finish(answer, pending.head, route: SubmitFastPath.route, started: pending.started))
        }
        return true
    }

    // MARK: Shared checks

    /// A request ``Requester`` admitted.
    struct Admitted {
        /// The key's owner id; nil when the server runs without keys.
        var owner: String?
    }

    /// Who asks, as ``APIKeyAuthMiddleware`` decides it; nil when the router should answer the 401.
    private func admitted(_ head: HTTPRequestHead, route: String, logger: Logger) -> Admitted? {
        switch Requester(authorization: head.headers.first(name: "authorization"), keys: keys).admission {
        case .success(let owner):
            return Admitted(owner: owner)
        case .failure(let refusal):
            return Self.fallBack(route, because: refusal, logger: logger)
        }
    }

    /// Leaves a request to the router, which answers it (and logs any failure of its own), saying
    /// why at debug level: a fast path that silently declined would hide a change of behaviour.
    static func fallBack<T>(_ route: String, because reason: @autoclosure () -> Any, logger: Logger) -> T? {
        logger.debug("left to the router", metadata: ["route": "\(route)", "reason": "\(reason())"])
        return nil
    }

    /// The `count` segments of `uri`'s path after `prefix` (a query is ignored, as the router
    /// does); nil for anything the router might read differently (percent-escapes, dot segments,
    /// empty segments, another number of them).
    ///
    /// Scans bytes: `Substring.contains("%")` goes through Foundation's string search, which made
    /// this a third of the event loop's own work per `/files` request.
    static func plainSegments(_ uri: String, after prefix: String, count: Int) -> [String]? {
        var path = uri.utf8[...]
        if let query = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<query] }
        guard path.starts(with: prefix.utf8), !path.contains(UInt8(ascii: "%")), !path.contains(UInt8(ascii: "#")) else { return nil }
        let segments = path.dropFirst(prefix.utf8.count).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard segments.count == count,
            segments.allSatisfy({ !$0.isEmpty && !$0.elementsEqual(".".utf8) && !$0.elementsEqual("..".utf8) })
        else { return nil }
        return segments.map { String(Substring($0)) }
    }
}

extension EventLoopRoutes.RouteAnswer {
    /// A JSON answer with its length.
    static func json(_ status: HTTPResponseStatus, _ body: ByteBuffer) -> Self {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "content-type", value: JSONResponse.contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        return .init(status: status, headers: headers, body: body)
    }

    /// The error envelope, rendered as the router's middleware renders it.
    static func error(_ error: APIError, sunoStyle: Bool) -> Self {
        let rendered = error.rendered(sunoStyle: sunoStyle)
        var headers = HTTPHeaders(rendered.headers, reservingExtra: 3)
        headers.add(name: "content-length", value: String(rendered.body.readableBytes))
        return .init(status: .init(statusCode: Int(rendered.status.code)), headers: headers, body: rendered.body)
    }
}
