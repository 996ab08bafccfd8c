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

/// Sends the body of a marked `/files` response with `sendfile(2)` instead of copying the file
/// through user space: NIO writes a `FileRegion` with `sendfile` on plain TCP sockets.
///
/// It must sit on the socket side of Hummingbird's HTTP/1 codec (`HTTP1ToHTTPServerCodec`), the
/// only place where response bodies are `IOData` and so may be file regions; ``Installer`` puts
/// it there. Every other response passes through untouched (one header lookup per head).
final class SendfileHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// `TCP_CORK`: NIO names no constant for it.
    private static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_CORK))

    private let logger: Logger
    /// Set when an error answer replaced a marked response: the body parts the route wrote for the
    /// file (none today) are dropped until its `.end`, which still ends the error answer.
    private var droppingBody = false

    init(logger: Logger) {
        self.logger = logger
    }

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
                sent.futureResult.whenComplete { _ in
                    try? options?.setOption(Self.cork, value: 0)
                    try? region.fileHandle.close()
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
            context.write(data, promise: promise)
        }
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
    /// `ByteBuffer`s; this one, added there, inserts the real handler right after NIO's
    /// `HTTPResponseEncoder` instead.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        /// NIO accepts only inbound or outbound handlers; this one leaves before any data flows.
        typealias InboundIn = Never

        private let logger: Logger

        init(logger: Logger) {
            self.logger = logger
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            do {
                let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
                try pipeline.addHandler(SendfileHandler(logger: logger), position: .after(encoder))
            } catch {
                // Without the handler, marked responses would go out without their bodies: refuse the connection.
                logger.error("cannot install the sendfile handler", metadata: ["error": "\(error)"])
                context.close(promise: nil)
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
