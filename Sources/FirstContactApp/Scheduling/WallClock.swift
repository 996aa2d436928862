import FirstContactCore
import Foundation
import NIOConcurrencyHelpers

/// Where "now" comes from for the scheduler: the system clock in `serve`, a manual clock in tests.
/// Batch ingest and `tick --now` pass their time explicitly; the rules never read a clock.
package protocol WallClock: Sendable {
    func now() -> Timestamp
    /// Returns at `deadline` (or at once if it has passed); throws when the task is cancelled.
    func sleep(until deadline: Timestamp) async throws
}

/// The machine's clock.
package struct SystemWallClock: WallClock {
    package init() {}

    package func now() -> Timestamp { Timestamp(seconds: Int64(Date().timeIntervalSince1970)) }

    package func sleep(until deadline: Timestamp) async throws {
        let seconds = deadline - self.now()
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// A clock that moves only when told to (tests): `advance(to:)` wakes the sleepers whose time came.
package final class ManualClock: WallClock {
    private struct State {
        var now: Timestamp
        var nextID = 0
        var sleepers: [(id: Int, deadline: Timestamp, continuation: CheckedContinuation<Void, Never>)] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: NIOLockedValueBox<State>

    package init(now: Timestamp) {
        self.state = NIOLockedValueBox(State(now: now))
    }

    package func now() -> Timestamp { self.state.withLockedValue { $0.now } }

    package func sleep(until deadline: Timestamp) async throws {
        let id = self.state.withLockedValue { state in
            state.nextID += 1
            return state.nextID
        }
        // Cancellation (a graceful shutdown) wakes the sleeper, as Task.sleep would.
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: [CheckedContinuation<Void, Never>] = self.state.withLockedValue { state in
                    if deadline <= state.now || Task.isCancelled {
                        return [continuation]
                    }
                    state.sleepers.append((id, deadline, continuation))
                    let waking = state.waiters.filter { $0.count <= state.sleepers.count }.map(\.continuation)
                    state.waiters.removeAll { $0.count <= state.sleepers.count }
                    return waking
                }
                for waiting in ready { waiting.resume() }
            }
        } onCancel: {
            let cancelled = self.state.withLockedValue { state in
                defer { state.sleepers.removeAll { $0.id == id } }
                return state.sleepers.filter { $0.id == id }.map(\.continuation)
            }
            for continuation in cancelled { continuation.resume() }
        }
        try Task.checkCancellation()
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    package func advance(to time: Timestamp) {
        let woken: [CheckedContinuation<Void, Never>] = self.state.withLockedValue { state in
            state.now = max(state.now, time)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.map(\.continuation)
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for continuation in woken { continuation.resume() }
    }

    /// Suspends until at least `count` tasks are asleep on this clock (tests use it to know the
    /// scheduler has finished its work and is waiting).
    package func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { continuation in
            let ready = self.state.withLockedValue { state in
                if state.sleepers.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// When the earliest sleeper wants to wake.
    package var nextWake: Timestamp? { self.state.withLockedValue { $0.sleepers.map(\.deadline).min() } }

    /// Wakes every sleeper now (shutdown in tests).
    package func wakeAll() {
        let all = self.state.withLockedValue { state in
            defer { state.sleepers.removeAll() }
            return state.sleepers.map(\.continuation)
        }
        for continuation in all { continuation.resume() }
    }
}
