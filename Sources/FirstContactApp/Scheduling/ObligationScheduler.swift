import FirstContactCore
import FirstContactStore
import Foundation
import Logging

/// The durable scheduler: obligations live in the store; it sleeps until the next due time,
/// then lets the store derive exactly the customers whose deadlines passed (claimed from an
/// index, in chunks, each in its own transaction). Nothing is held in memory between ticks, so
/// a crash or `kill -9` loses nothing: on restart the same due customers are still due, and a
/// chunk that was cut short was rolled back whole.
package struct ObligationScheduler: Sendable {
    package let engine: Engine
    package let store: any ContactStore
    package let clock: any WallClock
    /// Longest sleep, so that new records and configuration are picked up even when nothing is due.
    package let maximumSleep: Int64

    package init(engine: Engine, store: any ContactStore, clock: any WallClock, maximumSleep: Int64 = 60) {
        self.engine = engine
        self.store = store
        self.clock = clock
        self.maximumSleep = maximumSleep
    }

    /// Applies everything due at the clock's now.
    @discardableResult
    package func tick() async throws -> ClockOutcome {
        try await self.store.advanceClock(to: self.clock.now(), correlator: self.engine.correlator)
    }

    /// Runs until the task is cancelled: tick, sleep until the next due time, repeat. A tick that
    /// throws is reported to `health` and retried after its back-off; only cancellation ends the loop.
    package func run(health: SchedulerHealth = SchedulerHealth(), logger: Logger? = nil) async throws {
        while !Task.isCancelled {
            let wake: Timestamp
            do {
                try await self.tick()
                let now = self.clock.now()
                let next = try await self.store.nextCheck() ?? now + self.maximumSleep
                health.succeeded()
                wake = max(now + 1, min(next, now + self.maximumSleep))
                await self.compactLogIfIdle(logger: logger)
            } catch let error as CancellationError {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                let (delay, log) = health.failed(error)
                // A full disk is said once a minute for the whole service, not once more here.
                let full = logger.map { self.store.storage.report(error, logger: $0) } ?? false
                if log, !full {
                    logger?.error(
                        "scheduler tick failed; retrying with back-off",
                        metadata: ["scheduler.error": "\(error)", "scheduler.retry_in_s": "\(delay)"])
                }
                wake = self.clock.now() + delay
            }
            try await self.clock.sleep(until: wake)
        }
    }

    /// Seconds without a write after which the write-ahead log is given back (a truncating
    /// checkpoint): between bursts of ingest the log costs no disk.
    package static let idleBeforeCheckpoint: TimeInterval = 30

    /// Runs on every wake of the scheduler; a checkpoint that fails is said and tried again at
    /// the next idle wake (it is housekeeping: nothing waits for it).
    private func compactLogIfIdle(logger: Logger?) async {
        do {
            _ = try await self.store.checkpointIfIdle(for: Self.idleBeforeCheckpoint)
        } catch {
            logger?.warning("write-ahead log checkpoint failed", metadata: ["store.error": "\(error)"])
        }
    }

    /// Event-time mode: fires every transition due up to `end` in time order, jumping from one
    /// due time to the next (what the scheduler would have done had it run through that time).
    /// Safe to interrupt and run again: it resumes from the stored clock.
    package func replay(until end: Timestamp) async throws -> ClockOutcome {
        var total = ClockOutcome(clock: try await self.store.clock() ?? end)
        // New records first, at the stored clock.
        let settled = try await self.engine.applyWatermark(store: self.store)
        total.derived += settled.derived
        while let next = try await self.store.nextCheck(), next <= end {
            let step = try await self.store.advanceClock(to: next, correlator: self.engine.correlator)
            total.derived += step.derived
            total.amendments += step.amendments
        }
        let last = try await self.store.advanceClock(to: end, correlator: self.engine.correlator)
        total.derived += last.derived
        total.clock = last.clock
        return total
    }
}
