import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The connections open now, shared by every connection's ``ConnectionLimitHandler``.
final class ConnectionCount: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts one more; whether it is within the limit.
    func take() -> Bool { self.open.wrappingAdd(1, ordering: .relaxed).newValue <= self.limit }

    func release() { self.open.wrappingSubtract(1, ordering: .relaxed) }
}

/// At most `http.max_connections` connections at once: one more is answered `503 Service
/// Unavailable` with `Retry-After` and closed as soon as it opens, before it costs a request's
/// worth of memory or a task, rather than being accepted without limit or dropped without a word.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private let count: ConnectionCount
    private var counted = false
    private var refused = false

    init(count: ConnectionCount) {
        self.count = count
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.counted = true
        guard !self.count.take() else { return }
        self.refused = true
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.retryAfter] = "5"
        head.headerFields[.connection] = "close"
        head.headerFields[.contentType] = "text/plain; charset=utf-8"
        let text = "the server holds \(self.count.limit) connections already (http.max_connections); retry later\n"
        head.headerFields[.contentLength] = String(text.utf8.count)
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.write(self.wrapOutboundOut(.body(context.channel.allocator.buffer(string: text))), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if self.counted {
            self.counted = false
            self.count.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's request goes no further: it was answered already.
        guard !self.refused else { return }
        context.fireChannelRead(data)
    }
}
