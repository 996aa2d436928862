import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers a client that sends too slowly (`http.request_timeout` between the parts of a request:
/// headers that never end, a body that trickles, a connection opened and left silent) with
/// `408 Request Timeout` and closes the connection, instead of holding a connection (and a task)
/// for it for ever or dropping it without a word. A request that was read whole is never timed
/// out, however long its answer or event stream takes; a kept-alive connection left idle after
/// its answers is closed without one.
///
/// Placed after the HTTP decoder, behind an `IdleStateHandler` that fires when no request part
/// arrived for the timeout.
final class RequestTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests whose end has not arrived yet.
    private var reading = 0
    /// Requests read whole whose answer has not ended yet.
    private var answering = 0
    /// A response head went out whose end has not: a 408 now would be written into it.
    private var responding = false
    /// Requests answered whole on this connection.
    private var answered = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head: self.reading += 1
        case .end:
            self.reading -= 1
            self.answering += 1
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch self.unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational: self.responding = true
        case .end:
            self.responding = false
            self.answering = max(0, self.answering - 1)
            self.answered += 1
        default: break
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case IdleStateHandler.IdleStateEvent.read = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Waiting for an answer (or streaming one) is not the client's slowness.
        guard self.answering == 0, !self.responding else { return }
        // A kept-alive connection idle after its answers is closed without a word, as servers
        // close idle keep-alive connections: a 408 there would be read as the answer to a
        // request the client sends at that moment on the connection it thinks is still open.
        if self.reading == 0, self.answered > 0 {
            context.close(promise: nil)
            return
        }
        var head = HTTPResponse(status: .requestTimeout)
        head.headerFields[.connection] = "close"
        head.headerFields[.contentLength] = "0"
        context.write(self.wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
