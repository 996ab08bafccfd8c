import Logging
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#endif

/// Sends `/files` bodies with `sendfile(2)` instead of copying the file through user space: NIO
/// writes a `FileRegion` with `sendfile` on plain TCP sockets.
///
/// It sits on the socket side of Hummingbird's HTTP/1 codec, the only place where response
/// bodies are `IOData` and so may be file regions (``HTTPPipelineInstaller`` puts it there), below
/// ``HotRouteHandler`` so that the router's answers and those written on the event loop both pass
/// it. A head carrying a ``SendfileMarker`` loses the marker and is followed by the file region;
/// every other part passes through untouched (one header lookup per head).
final class FileRegionWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// `TCP_CORK`: NIO names no constant for it.
    private static let cork = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: TCP_CORK))

    private let logger: Logger
    /// Set when an error answer replaced a marked response: the body parts the route wrote for the
    /// file (none today) are dropped until its `.end`, which still ends the error answer.
    private var droppingBody = false
    /// File regions not yet sent: their handles stay open until the kernel has sent them.
    private var regionsInFlight = 0
    /// A close asked for while regions are in flight. Hummingbird closes a connection at shutdown
    /// once the answer's `.end` has passed, which is before the file has been sent.
    private var deferredClose: DeferredClose?

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
                writeFile(head, region, context: context, promise: promise)
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

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, regionsInFlight > 0 else {
            context.close(mode: mode, promise: promise)
            return
        }
        // Let the file go out first; the close follows.
        if deferredClose == nil { deferredClose = DeferredClose(promise) } else { deferredClose?.add(promise) }
    }

    private func closeIfDeferred(context: ChannelHandlerContext) {
        guard let deferred = deferredClose, regionsInFlight == 0 else { return }
        deferredClose = nil
        context.close(mode: .all, promise: deferred.promise)
    }

    /// Writes the head, then the region; the handle is closed once the region is sent.
    private func writeFile(_ head: HTTPResponseHead, _ region: FileRegion, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
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

    /// Answers with the error envelope (``APIError/rendered(sunoStyle:)``, as the router renders
    /// it) instead of the file, keeping the head's `Date`, `Server` and `Connection` so the
    /// answer looks like every other one. `/files` paths never take the Suno variant.
    private func writeError(_ error: APIError, replacing fileHead: HTTPResponseHead, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let rendered = error.rendered(sunoStyle: false)
        var headers = HTTPHeaders(rendered.headers, reservingExtra: 4)
        for name in ["date", "server", "connection"] {
            for value in fileHead.headers[name] { headers.add(name: name, value: value) }
        }
        headers.add(name: "content-length", value: String(rendered.body.readableBytes))
        let head = HTTPResponseHead(version: fileHead.version, status: .init(statusCode: Int(rendered.status.code)), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
        context.write(wrapOutboundOut(.body(.byteBuffer(rendered.body))), promise: nil)
    }
}
