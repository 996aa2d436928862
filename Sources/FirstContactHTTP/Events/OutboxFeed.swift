import FirstContactApp
import FirstContactStore
import Logging
import ServiceLifecycle
import Synchronization

/// One reader of the outbox for every open event stream (`/v1/events`, `/ui/events`): it reads
/// what was appended once per interval and keeps the newest entries in memory, so a thousand
/// open pages cost one query per interval, not a thousand. A stream that resumes from further
/// back than memory reaches, or runs without the feed (a router built alone in a test), reads
/// the store itself.
package final class OutboxFeed: Service {
    private struct State {
        /// The newest sequence number read.
        var head: Int64 = 0
        var recent: [OutboxEntry] = []
        /// The newest sequence number dropped from `recent`: after it, memory is complete.
        var droppedThrough: Int64 = 0
        var reading = false
    }

    private let store: any ContactStore
    private let interval: Duration
    private let kept: Int
    private let logger: Logger
    private let state = Mutex(State())

    package init(
        store: any ContactStore, interval: Duration = .milliseconds(250), kept: Int = 5000,
        logger: Logger = Logger(label: "firstcontact.events")
    ) {
        self.store = store
        self.interval = interval
        self.kept = kept
        self.logger = logger
    }

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                var backoff = StorageBackoff()
                while !Task.isCancelled {
                    do {
                        try await self.read()
                        backoff.succeeded()
                        try await Task.sleep(for: self.interval)
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        // A read that fails (a busy or damaged database) must not take the
                        // service down with it: streams wait, and the next read resumes from
                        // the last sequence seen, so nothing is skipped.
                        let wait = max(self.interval, backoff.failed())
                        self.logger.error(
                            "reading the outbox for event streams failed; retrying",
                            metadata: ["error": "\(error)", "retry_in": "\(wait)"])
                        try await Task.sleep(for: wait)
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down: the streams end with the server.
        }
    }

    /// Reads what was appended since the last read (the whole outbox on the first).
    func read() async throws {
        var head = self.state.withLock { $0.head }
        while true {
            let entries = try await self.store.outbox(after: head, limit: 1000)
            head = self.state.withLock { state in
                state.recent += entries
                if state.recent.count > self.kept {
                    let dropped = state.recent.count - self.kept
                    state.droppedThrough = state.recent[dropped - 1].seq
                    state.recent.removeFirst(dropped)
                }
                state.head = entries.last?.seq ?? state.head
                state.reading = true
                return state.head
            }
            if entries.count < 1000 { break }
        }
    }

    /// The newest sequence number, when the feed is reading (a page listens from there).
    package var head: Int64? {
        self.state.withLock { $0.reading ? $0.head : nil }
    }

    /// Entries after `seq`, oldest first, at most `limit`.
    package func entries(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        let remembered: [OutboxEntry]? = self.state.withLock { state in
            guard state.reading, seq >= state.droppedThrough else { return nil }
            return Array(state.recent.lazy.filter { $0.seq > seq }.prefix(limit))
        }
        if let remembered { return remembered }
        return try await self.store.outbox(after: seq, limit: limit)
    }
}
