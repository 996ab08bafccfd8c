import NIOCore

/// How a connection treats a request body over `--max-body-size` (nginx's `client_max_body_size`
/// with its lingering close), applied by ``HotRouteHandler`` on both the event-loop and the
/// routed path.
///
/// The router refuses such a body with its 413 (``JSONRequestBody``), but the client may still be
/// sending it: most HTTP libraries (Python's `urllib`, anything without `Expect: 100-continue`)
/// read no answer before their whole body is sent. Left unread, the body fills the socket
/// buffers and both sides wait forever; closing with unread bytes makes the kernel answer with a
/// reset, which throws away the 413 on the client's side. So the rest is read and dropped, up
/// to a bound in bytes and in time, and then the connection closes (the 413 says
/// `Connection: close`).
struct RequestBodyLimit: Sendable {
    /// Largest request body the routes accept, in bytes (`--max-body-size`).
    var maxBytes: Int
    /// Most bytes of a refused request read and dropped before the connection closes anyway.
    var discardBytes: Int
    /// Longest time spent reading and dropping a refused request's rest.
    var discardTime: TimeAmount

    /// 64 MiB take a fraction of a second to drop on a local network; 10 s let a slower client
    /// finish a body a few times the limit, yet bound what one client can hold.
    init(maxBytes: Int, discardBytes: Int = 64 * 1024 * 1024, discardTime: TimeAmount = .seconds(10)) {
        self.maxBytes = maxBytes
        self.discardBytes = discardBytes
        self.discardTime = discardTime
    }
}
