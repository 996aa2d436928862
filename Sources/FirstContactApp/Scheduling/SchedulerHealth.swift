import Foundation
import NIOConcurrencyHelpers

/// Whether the scheduler's ticks succeed, shared with `/healthz` and `/metrics`. A failing tick
/// (a busy or full database, a corrupt row) must not end `serve`: ingest and the API go on, the
/// scheduler backs off and retries, and this says so to whoever watches.
package final class SchedulerHealth: Sendable {
    package struct Snapshot: Sendable, Equatable {
        /// Ticks that failed since the service started.
        package var errors: Int = 0
        /// Failures in a row; zero once a tick succeeds again.
        package var consecutiveFailures: Int = 0
        package var lastError: String?
        /// When the current run of failures began.
        package var failingSince: Date?

        package var isFailing: Bool { self.consecutiveFailures > 0 }

        package init() {}
    }

    private struct State {
        var snapshot = Snapshot()
        var lastLogged: Date?
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    package var snapshot: Snapshot { self.state.withLockedValue { $0.snapshot } }

    package func succeeded() {
        self.state.withLockedValue { state in
            state.snapshot.consecutiveFailures = 0
            state.snapshot.failingSince = nil
            state.lastLogged = nil
        }
    }

    /// Records a failed tick.
    /// - Returns: how long to wait before the next attempt (1 s doubling to at most 60 s), and
    ///   whether to log this failure (the first of a run, then at most once a minute).
    package func failed(_ error: any Error, at now: Date = Date()) -> (delay: Int64, log: Bool) {
        self.state.withLockedValue { state in
            state.snapshot.errors += 1
            state.snapshot.consecutiveFailures += 1
            state.snapshot.lastError = String(describing: error)
            if state.snapshot.failingSince == nil { state.snapshot.failingSince = now }
            let log = state.lastLogged.map { now.timeIntervalSince($0) >= 60 } ?? true
            if log { state.lastLogged = now }
            let delay = Int64(1) << Int64(min(state.snapshot.consecutiveFailures - 1, 6))
            return (min(delay, 60), log)
        }
    }
}
