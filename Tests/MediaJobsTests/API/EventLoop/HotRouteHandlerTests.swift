import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import MediaJobs

/// ``HotRouteHandler`` on an embedded channel, without event-loop routes (as with
/// `--route-all-requests`): what reaches the router (the tail of the pipeline), what the client
/// gets and when the connection closes, for bodies within and over the limit.
@Suite struct HotRouteHandlerTests {
    /// A connected channel whose only handler is the one under test.
    static func channel(_ limit: RequestBodyLimit) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HotRouteHandler(logger: Logger(label: "test"), routes: nil, bodyLimit: limit))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        return channel
    }

    static func post(_ headers: [(String, String)]) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/suno/submit/music", headers: HTTPHeaders(headers)))
    }

    static func body(_ count: Int) -> HTTPServerRequestPart {
        .body(ByteBuffer(repeating: UInt8(ascii: "a"), count: count))
    }

    /// Everything that reached the router so far.
    static func routed(_ channel: EmbeddedChannel) throws -> [HTTPServerRequestPart] {
        var parts: [HTTPServerRequestPart] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) { parts.append(part) }
        return parts
    }

    /// The router answers 413 (as ``JSONRequestBody`` does); returns the head the client gets.
    static func answer(_ channel: EmbeddedChannel, status: HTTPResponseStatus = .payloadTooLarge) throws -> HTTPResponseHead? {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: ["content-length": "0"])))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        guard case .head(let head)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        #expect(try channel.readOutbound(as: HTTPServerResponsePart.self) == .end(nil))
        return head
    }

    @Test func aBodyWithinTheLimitPassesWholeAndTheConnectionStays() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100))
        let request = [Self.post([("content-length", "100")]), Self.body(60), Self.body(40), .end(nil)]
        for part in request { try channel.writeInbound(part) }
        #expect(try Self.routed(channel) == request)
        let head = try #require(try Self.answer(channel, status: .ok))
        #expect(head.headers["connection"].isEmpty)
        #expect(channel.isActive)
    }

    @Test func aDeclaredLengthOverTheLimitReachesTheRouterAsAHeadOnly() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100))
        let head = Self.post([("content-length", "5000")])
        try channel.writeInbound(head)
        #expect(try Self.routed(channel) == [head, .end(nil)])
        let answered = try #require(try Self.answer(channel))
        #expect(answered.headers["connection"] == ["close"])
        // The client is still sending: its rest is read and dropped, and only then the connection closes.
        for _ in 0..<5 { try channel.writeInbound(Self.body(1000)) }
        #expect(try Self.routed(channel).isEmpty)
        #expect(channel.isActive)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test func aChunkedBodyIsCutWhereItCrossesTheLimit() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100))
        let head = Self.post([("transfer-encoding", "chunked")])
        for part in [head, Self.body(60), Self.body(60), Self.body(60)] { try channel.writeInbound(part) }
        // The crossing chunk reaches the router, so its own count refuses the body; then the request ends for it.
        #expect(try Self.routed(channel) == [head, Self.body(60), Self.body(60), .end(nil)])
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        // The request has ended, but its answer is not out yet: the connection waits for it.
        #expect(channel.isActive)
        #expect(try Self.answer(channel)?.headers["connection"] == ["close"])
        #expect(!channel.isActive)
    }

    /// A form is read as it comes: declared over the limit, it reaches the router up to the limit
    /// (where a file part at its start can be refused for what it is), then ends there like a
    /// chunked body that crosses the limit.
    @Test func aFormDeclaredOverTheLimitReachesTheRouterUpToTheLimit() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100))
        let head = HTTPServerRequestPart.head(
            HTTPRequestHead(
                version: .http1_1, method: .POST, uri: "/v1/videos",
                headers: ["content-length": "5000", "content-type": "multipart/form-data; boundary=x"]))
        for part in [head, Self.body(60), Self.body(60), Self.body(60)] { try channel.writeInbound(part) }
        #expect(try Self.routed(channel) == [head, Self.body(60), Self.body(60), .end(nil)])
        #expect(try Self.answer(channel, status: .badRequest)?.headers["connection"] == ["close"])
        // The rest the client sends is dropped; the connection closes when it has ended.
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(!channel.isActive)
    }

    @Test func theDiscardStopsAtItsByteBound() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100, discardBytes: 1000))
        try channel.writeInbound(Self.post([("content-length", "1000000")]))
        _ = try Self.answer(channel)
        try channel.writeInbound(Self.body(1000))
        #expect(channel.isActive)
        try channel.writeInbound(Self.body(1))
        #expect(!channel.isActive)
    }

    @Test func theDiscardStopsAtItsTimeBound() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100, discardTime: .seconds(10)))
        try channel.writeInbound(Self.post([("content-length", "1000000")]))
        _ = try Self.answer(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
    }

    @Test func earlierAnswersGoOutBeforeTheRefusalAndKeepTheConnectionOpen() throws {
        let channel = try Self.channel(RequestBodyLimit(maxBytes: 100))
        let first = [Self.post([("content-length", "10")]), Self.body(10), .end(nil)]
        for part in first { try channel.writeInbound(part) }
        try channel.writeInbound(Self.post([("content-length", "5000")]))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        #expect(try Self.routed(channel).count == 5)
        // The first answer (still owed when the second request was refused) keeps its framing.
        #expect(try Self.answer(channel, status: .ok)?.headers["connection"].isEmpty == true)
        #expect(channel.isActive)
        #expect(try Self.answer(channel)?.headers["connection"] == ["close"])
        #expect(!channel.isActive)
    }
}
