import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A TCP server on loopback that answers each `GET` as a script says, byte for byte: for what a
/// framework-built server never does on cue (close a kept-alive connection as a request arrives,
/// stop in the middle of an answer, never answer). Optionally over TLS.
final class ScriptedHTTPPeer: Sendable {
    /// What the peer does with one request.
    enum Reply: Sendable {
        /// Writes `bytes` (a whole HTTP answer, or part of one); then closes if `close`.
        case bytes(String, close: Bool)
        /// Over TLS: writes `bytes`, then closes the socket without TLS's close_notify.
        case bytesThenRaggedClose(String)
        /// Closes the connection without a byte.
        case close
        /// Never answers.
        case silence

        /// A 200 with a JSON body and a length.
        static func json(_ body: String, keepAlive: Bool = true) -> Reply {
            let connection = keepAlive ? "" : "Connection: close\r\n"
            return .bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\(connection)\r\n\(body)", close: !keepAlive)
        }
    }

    /// One request as it arrived: its head's text, which connection (from 1) and how many
    /// requests that connection had carried before.
    struct Arrival: Sendable {
        var head: String
        var connection: Int
        var indexOnConnection: Int
    }

    private let channel: any Channel
    private let record = Record()
    let port: Int

    /// `script` is given the request's arrival (numbered from 0 overall) and says what to do.
    init(tls: NIOSSLContext? = nil, script: @escaping @Sendable (_ index: Int, _ arrival: Arrival) -> Reply) async throws {
        let record = record
        let box = ScriptBox(script: script, record: record)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = record.withLock { state in
                    state.connections += 1
                    return state.connections
                }
                do {
                    // Before TLS, so that a close from it skips TLS's close_notify.
                    try channel.pipeline.syncOperations.addHandler(RaggedCloser())
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(PeerHandler(connection: number, script: box))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    var connections: Int { record.withLock { $0.connections } }
    var arrivals: [Arrival] { record.withLock { $0.arrivals } }

    func stop() async {
        try? await channel.close()
    }

    /// Connections accepted and requests seen, shared by every connection.
    private final class Record: Sendable {
        let state = Mutex<(connections: Int, arrivals: [Arrival])>((0, []))
        func withLock<T>(_ body: (inout (connections: Int, arrivals: [Arrival])) -> T) -> T { state.withLock { body(&$0) } }
    }

    private final class ScriptBox: Sendable {
        let script: @Sendable (Int, Arrival) -> Reply
        let record: Record
        init(script: @escaping @Sendable (Int, Arrival) -> Reply, record: Record) {
            self.script = script
            self.record = record
        }

        func reply(to arrival: Arrival) -> Reply {
            let index = record.withLock { state in
                state.arrivals.append(arrival)
                return state.arrivals.count - 1
            }
            return script(index, arrival)
        }
    }

    /// Closes the connection from the socket's side of the pipeline.
    private final class RaggedCloser: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func close() { context?.close(promise: nil) }
    }

    private final class PeerHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let connection: Int
        let script: ScriptBox
        var buffered = ""
        var served = 0

        init(connection: Int, script: ScriptBox) {
            self.connection = connection
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            buffered += String(buffer: unwrapInboundIn(data))
            while let end = buffered.range(of: "\r\n\r\n") {
                let head = String(buffered[..<end.lowerBound])
                buffered = String(buffered[end.upperBound...])
                let reply = script.reply(to: Arrival(head: head, connection: connection, indexOnConnection: served))
                served += 1
                switch reply {
                case .bytes(let text, let close):
                    let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)))
                    if close { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
                case .bytesThenRaggedClose(let text):
                    let closer = try? context.pipeline.syncOperations.handler(type: RaggedCloser.self)
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).assumeIsolated().whenComplete { _ in closer?.close() }
                case .close:
                    context.close(promise: nil)
                case .silence:
                    break
                }
            }
        }
    }
}
