import FirstContactCore
import FirstContactStore

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

    /// Runs until the task is cancelled: tick, sleep until the next due time, repeat.
    package func run() async throws {
        while !Task.isCancelled {
            try await self.tick()
            let now = self.clock.now()
            let next = try await self.store.nextCheck() ?? now + self.maximumSleep
            try await self.clock.sleep(until: max(now + 1, min(next, now + self.maximumSleep)))
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
