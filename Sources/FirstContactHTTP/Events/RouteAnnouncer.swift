import FirstContactCore
import FirstContactStore
import Logging
import ServiceLifecycle

/// Writes the screen pops of routed callers (`routed` notifications) to the outbox behind the
/// answer to `GET /v1/route`, so a dialplan waiting on the answer never waits on a write. From
/// the outbox they reach the agent's "my work" page, `/v1/events` and webhooks like any other.
package final class RouteAnnouncer: Service {
    private typealias Announcement = (notice: Notice, customerKey: String?)

    private let store: any ContactStore
    private let logger: Logger
    private let stream: AsyncStream<Announcement>
    private let continuation: AsyncStream<Announcement>.Continuation

    package init(store: any ContactStore, logger: Logger = Logger(label: "firstcontact")) {
        self.store = store
        self.logger = logger
        // A pop is worth something only while the phone rings: when writing falls this far
        // behind (a full disk), the oldest are dropped rather than memory growing.
        (self.stream, self.continuation) = AsyncStream.makeStream(
            of: Announcement.self, bufferingPolicy: .bufferingNewest(1000))
    }

    /// Queues `notice` for the outbox; returns at once.
    package func announce(_ notice: Notice, customerKey: String?) {
        self.continuation.yield((notice, customerKey))
    }

    package func run() async throws {
        for await announcement in self.stream.cancelOnGracefulShutdown() {
            do {
                try await self.store.announce([announcement.notice], customerKey: announcement.customerKey)
            } catch {
                self.logger.warning(
                    "the screen pop of a routed caller was not written",
                    metadata: ["key": "\(announcement.notice.key)", "error": "\(error)"])
            }
        }
    }
}
