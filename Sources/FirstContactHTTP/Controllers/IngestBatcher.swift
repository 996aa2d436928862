import FirstContactApp
import FirstContactCore
import FirstContactStore
import Hummingbird
import ServiceLifecycle

/// Group commit for `POST /v1/ingest/{format}`: requests that arrive while a commit is running
/// wait in a queue, and the next commit stores all of them and derives them at the wall clock in
/// ONE transaction, then answers each request with its own outcome.
///
/// Why: alone, each request pays its own write transaction plus the clock's (several more), all
/// serialised on SQLite's one writer, so 16 concurrent PBXs would wait for 16 × 5 commits. Grouped,
/// they wait for one commit whatever their number, and nothing is answered before its records
/// are committed and synced (durability is the store's: WAL with `synchronous=FULL`, one sync
/// per group; storing and deriving in one commit halved the syncs per one-line post).
///
/// One request's store error rolls back that request alone (a savepoint each); a reject is no
/// error, it is stored and counted like a record. An error of the whole transaction, or of the
/// derivation after it, is every waiting request's answer, as it would have been one by one.
///
/// The commits run in ``run()``, a service of the application: requests queue and wait, the
/// service drains the queue. On graceful shutdown it finishes what is queued, then stops.
package actor IngestBatcher: Service {
    private struct Waiting {
        var records: [IngestRecord]
        var continuation: CheckedContinuation<BatchOutcome, any Error>
    }

    private let store: any ContactStore
    private let scheduler: ObligationScheduler
    /// Most records in one group (a request larger than this is still taken, alone): bounds the
    /// transaction, so that the writer is never held long enough for other requests to time out.
    private let maximumRecords: Int
    /// Counts groups and the requests in them (`/metrics`: how well requests are grouped).
    private let metrics: ServiceMetrics?
    private var waiting: [Waiting] = []
    /// ``run()`` has ended: nothing would commit a request now, so one is refused at once rather
    /// than left waiting for ever (a request awaiting a group that never comes held a test run,
    /// and would hold a graceful shutdown, open without end).
    private var stopped = false
    /// One element per queued request: wakes ``run()``.
    private let queued: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    package init(
        store: any ContactStore, scheduler: ObligationScheduler, metrics: ServiceMetrics? = nil,
        maximumRecords: Int = 20_000
    ) {
        self.store = store
        self.scheduler = scheduler
        self.metrics = metrics
        self.maximumRecords = maximumRecords
        (self.queued, self.wake) = AsyncStream.makeStream(of: Void.self)
    }

    package func run() async throws {
        for await _ in self.queued.cancelOnGracefulShutdown() {
            await self.drain()
        }
        // Shutting down: nobody is left waiting for an answer that never comes.
        await self.drain()
        self.stopped = true
    }

    /// Stores `records` with whatever else is waiting, derives, and returns this request's own
    /// outcome once all of it is committed.
    package func ingest(_ records: [IngestRecord]) async throws -> BatchOutcome {
        guard !self.stopped else {
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "5"],
                message: "the service is stopping and takes no more records; post them again in a moment")
        }
        return try await withCheckedThrowingContinuation { continuation in
            self.waiting.append(Waiting(records: records, continuation: continuation))
            self.wake.yield()
        }
    }

    /// Commits groups until nobody waits. While one group's transaction runs, the actor is free
    /// to queue new requests: they form the next group.
    private func drain() async {
        while !self.waiting.isEmpty {
            var group: [Waiting] = []
            var count = 0
            while let next = self.waiting.first, group.isEmpty || count + next.records.count <= self.maximumRecords {
                group.append(self.waiting.removeFirst())
                count += next.records.count
            }
            self.metrics?.groupCommitted(requests: group.count)
            var results: [Result<BatchOutcome, any Error>]
            do {
                // Stored and derived in one transaction: the answer carries derived state, and
                // nothing is answered before its records are committed and synced.
                results = try await self.store.ingest(
                    batches: group.map(\.records), advancingClockTo: self.scheduler.clock.now(),
                    correlator: self.scheduler.engine.correlator
                ).batches
            } catch {
                results = group.map { _ in .failure(error) }
            }
            for (request, result) in zip(group, results) {
                if case .success = result {
                    self.scheduler.engine.presence.note(request.records, directory: self.scheduler.engine.directory)
                }
                request.continuation.resume(with: result)
            }
        }
    }
}
