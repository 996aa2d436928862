import FirstContactCore
import FirstContactStore
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Writes the screen pops of routed callers (`routed` notifications) to the outbox behind the
/// answer to `GET /v1/route`, so a dialplan waiting on the answer never waits on a write. From
/// the outbox they reach the agent's "my work" page, `/v1/events` and webhooks like any other.
package final class RouteAnnouncer: Service {
    /// A pop is worth something only while the phone rings: when writing falls this far behind
    /// (a full disk), the oldest are dropped rather than memory growing.
    static let kept = 1000

    private let store: any ContactStore
    private let logger: Logger
    private let waiting = NIOLockedValueBox<[Announcement]>([])
    /// One element means "there is something to write"; the writer takes all that waits.
    private let wake: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    package init(store: any ContactStore, logger: Logger = Logger(label: "firstcontact")) {
        self.store = store
        self.logger = logger
        (self.wake, self.wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `notice` for the outbox; returns at once.
    package func announce(_ notice: Notice, customerKey: String?) {
        self.waiting.withLockedValue { waiting in
            waiting.append(Announcement(notice, customerKey: customerKey))
            if waiting.count > Self.kept { waiting.removeFirst(waiting.count - Self.kept) }
        }
        self.wakeUp.yield()
    }

    package func run() async throws {
        for await _ in self.wake.cancelOnGracefulShutdown() {
            // Everything that arrived meanwhile, in one transaction: under a burst of routed
            // calls the writer commits once per batch, not once per call.
            let batch = self.waiting.withLockedValue { waiting in
                defer { waiting.removeAll(keepingCapacity: true) }
                return waiting
            }
            do {
                try await self.store.announce(batch)
            } catch {
                self.logger.warning(
                    "the screen pops of \(batch.count) routed calls were not written",
                    metadata: ["error": "\(error)"])
            }
        }
    }
}
