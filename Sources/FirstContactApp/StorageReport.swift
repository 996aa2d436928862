import FirstContactCore
import FirstContactStore
import Foundation
import Logging

extension StorageWatch {
    /// Says in the log that the database's disk is full, when `error` says so: at the first
    /// failure of a run, then at most once a minute whoever hits it (each HTTP request, the
    /// scheduler, every follower and webhook loop report here; one line stands for them all).
    /// - Returns: whether `error` was a full disk (the caller backs off rather than logging it).
    @discardableResult
    package func report(_ error: any Error, logger: Logger, at now: Date = Date()) -> Bool {
        guard case StoreError.storageFull(let path) = error else { return false }
        if let failures = self.reportDue(at: now) {
            logger.error(
                "storage full: writes to the database fail for lack of space; ingest and actions are answered 507, the scheduler, followers and webhooks retry",
                metadata: [
                    "storage.database": .string(path),
                    "storage.free_bytes": .string(self.freeBytes.map(String.init) ?? "unknown"),
                    "storage.failures": .stringConvertible(failures),
                ])
        }
        return true
    }

    /// The warning for free space below `storage.min_free`, or nil when there is enough (or the
    /// threshold is 0, or the file system cannot be asked).
    package func lowSpace(minimum: Int) -> String? {
        guard minimum > 0, let free = self.freeBytes, free < Int64(minimum) else { return nil }
        return
            "storage low: \(free) bytes free on the file system of \(self.database), below storage.min_free (\(minimum) bytes)"
    }
}

/// Waits between retries of a write that failed for lack of space: 1 s doubling to at most 60 s,
/// as the scheduler's back-off, so that a full disk is not hammered and a freed one is used
/// again within a minute.
package struct StorageBackoff: Sendable {
    package private(set) var failures = 0

    package init() {}

    /// Counts a failure and returns how long to wait before the next try.
    package mutating func failed() -> Duration {
        self.failures += 1
        return .seconds(min(Int64(1) << Int64(min(self.failures - 1, 6)), 60))
    }

    package mutating func succeeded() { self.failures = 0 }
}

extension Engine {
    /// What `serve` does with the store before it listens: warns when the database's file system
    /// has less than `storage.min_free` left, then derives what a killed run left underived. On a
    /// full disk that derivation waits for the scheduler rather than stopping the start: a service
    /// that answers 507 tells the PBX to keep its records, one that is down tells it nothing.
    package func prepareToServe(store: any ContactStore, logger: Logger = Logger(label: "firstcontact")) async throws {
        if let low = store.storage.lowSpace(minimum: self.configuration.storage.minFree) {
            logger.warning("\(low): writes fail with 507 once it is gone; free space (or lower storage.min_free)")
        }
        do {
            try await self.applyWatermark(store: store)
        } catch {
            guard store.storage.report(error, logger: logger) else { throw error }
        }
    }
}
