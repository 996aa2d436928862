import FirstContactApp
import FirstContactStore
import Logging
import NIOConcurrencyHelpers
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
    private let listeningInterval: Duration
    private let kept: Int
    private let state = NIOLockedValueBox(State())
    /// Whether the store's commits wake the feed (``ContactStore/listenForOutbox(listening:notified:)``).
    private let listening = Atomic<Bool>(false)
    private let logger: Logger

    /// - Parameters:
    ///   - interval: how often the outbox is read when nothing wakes the feed.
    ///   - listeningInterval: how often while the store wakes it on every commit (PostgreSQL's
    ///     LISTEN/NOTIFY, which carries other instances' notifications too): a fallback only.
    package init(
        store: any ContactStore, interval: Duration = .milliseconds(250), listeningInterval: Duration = .seconds(2),
        kept: Int = 5000, logger: Logger = Logger(label: "firstcontact.events")
    ) {
        self.store = store
        self.interval = interval
        self.listeningInterval = listeningInterval
        self.kept = kept
        self.logger = logger
    }

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                // One reader: a wake-up while a read runs is kept (the newest) and read after it.
                let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.listen(wake) }
                    group.addTask {
                        while !Task.isCancelled {
                            wake.yield()
                            try await Task.sleep(
                                for: self.listening.load(ordering: .acquiring) ? self.listeningInterval : self.interval)
                        }
                    }
                    var backoff = StorageBackoff()
                    for await _ in wakes {
                        do {
                            try await self.read()
                            backoff.succeeded()
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
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            // Shutting down: the streams end with the server.
        }
    }

    /// Wakes the feed on every commit the store announces, for as long as it can; polling
    /// covers the gaps (a lost connection is listened on again after a few seconds).
    private func listen(_ wake: AsyncStream<Void>.Continuation) async throws {
        while !Task.isCancelled {
            do {
                try await self.store.listenForOutbox(
                    listening: {
                        self.listening.store(true, ordering: .releasing)
                        // Whatever committed before listening began is read now.
                        wake.yield()
                    },
                    notified: { wake.yield() })
                if !self.listening.load(ordering: .acquiring) { return }  // the store has no such signal
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                self.logger.warning("outbox notifications lost, polling meanwhile: \(error)")
            }
            self.listening.store(false, ordering: .releasing)
            try await Task.sleep(for: .seconds(5))
        }
    }

    /// Reads what was appended since the last read (the whole outbox on the first).
    func read() async throws {
        var head = self.state.withLockedValue { $0.head }
        while true {
            let entries = try await self.store.outbox(after: head, limit: 1000)
            head = self.state.withLockedValue { state in
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

    /// Whether the store's commits wake the feed now (else it polls every `interval`).
    package var isListening: Bool { self.listening.load(ordering: .acquiring) }

    /// The newest sequence number, when the feed is reading (a page listens from there).
    package var head: Int64? {
        self.state.withLockedValue { $0.reading ? $0.head : nil }
    }

    /// Entries after `seq`, oldest first, at most `limit`.
    package func entries(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        let remembered: [OutboxEntry]? = self.state.withLockedValue { state in
            guard state.reading, seq >= state.droppedThrough else { return nil }
            return Array(state.recent.lazy.filter { $0.seq > seq }.prefix(limit))
        }
        if let remembered { return remembered }
        return try await self.store.outbox(after: seq, limit: limit)
    }
}
