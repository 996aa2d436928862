import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Whether the store's writes fail for lack of space, and how much space its file system has.
///
/// The store records every write's fate here (a failure for space, or a success that ends a run
/// of them); the service reads it for `/healthz`, `/metrics` and its 507 answers, and asks it
/// whether the log should say so now, so that a full disk is one log line a minute whoever hits
/// it (HTTP requests, the scheduler, followers, webhooks), not one per request.
package final class StorageWatch: Sendable {
    package struct Snapshot: Sendable, Equatable {
        /// A write failed for lack of space, and none succeeded since with room on the file system.
        package var isFull = false
        /// When the current run of failures began.
        package var fullSince: Date?
        /// Writes that failed for space in the current run.
        package var failures = 0

        package init() {}
    }

    private struct State {
        var snapshot = Snapshot()
        /// When a write last committed (nil: none by this process yet).
        var lastWrite: Date?
        var lastReported: Date?
        /// Failures since the last report, for the next one.
        var unreported = 0
    }

    /// The database file whose file system is watched.
    package let database: String
    private let state = NIOLockedValueBox(State())

    package init(database: String) {
        self.database = database
    }

    package var snapshot: Snapshot { self.state.withLockedValue { $0.snapshot } }

    /// When this process last committed a write (nil: not yet).
    package var lastWrite: Date? { self.state.withLockedValue { $0.lastWrite } }

    /// A write committed. The disk counts as full until a write succeeds with room on the file
    /// system again: at its limit, small writes squeeze in between failing ones (a failed
    /// transaction's WAL frames are reused by the next), and `/healthz` must not flap with them.
    /// The time of the last report stays, so the log keeps to once a minute across such runs.
    package func wrote(at now: Date = Date()) {
        let full = self.state.withLockedValue { state in
            state.lastWrite = now
            return state.snapshot.isFull
        }
        guard full else { return }
        if let free = self.freeBytes, free < Self.room { return }
        self.state.withLockedValue { state in
            state.snapshot = Snapshot()
            state.unreported = 0
        }
    }

    /// Less free space than this is no room: a transaction and its WAL frames need more, and an
    /// I/O error with this little left is taken for the disk being full.
    package static let room: Int64 = 1 << 20

    /// A write failed for lack of space.
    package func failedForSpace(at now: Date = Date()) {
        self.state.withLockedValue { state in
            if !state.snapshot.isFull { state.snapshot.fullSince = now }
            state.snapshot.isFull = true
            state.snapshot.failures += 1
            state.unreported += 1
        }
    }

    /// Whether to log the full disk now: at the first failure, then at most once a minute while
    /// failures go on (however often a write succeeds in between). Returns the failures since the last report when it is time.
    package func reportDue(at now: Date = Date()) -> Int? {
        self.state.withLockedValue { state in
            guard state.snapshot.isFull, state.unreported > 0 else { return nil }
            if let last = state.lastReported, now.timeIntervalSince(last) < 60 { return nil }
            state.lastReported = now
            defer { state.unreported = 0 }
            return state.unreported
        }
    }

    /// Bytes an unprivileged process may still write on the database's file system (statvfs);
    /// nil when the file system cannot be asked (the path vanished), which callers show as unknown.
    package var freeBytes: Int64? { Self.freeBytes(at: self.database) }

    /// The size of the database's write-ahead log: what commits wrote since the last checkpoint
    /// reset it (0 when there is none; nil when it cannot be read).
    package var walBytes: Int64? {
        var info = stat()
        guard stat(self.database + "-wal", &info) == 0 else { return errno == ENOENT ? 0 : nil }
        return Int64(info.st_size)
    }

    /// Bytes free for unprivileged writers on the file system holding `path` (or, when `path` does
    /// not exist yet, its directory).
    package static func freeBytes(at path: String) -> Int64? {
        var info = statvfs()
        let target = FileManager.default.fileExists(atPath: path) ? path : (path as NSString).deletingLastPathComponent
        guard statvfs(target.isEmpty ? "." : target, &info) == 0 else { return nil }
        let (bytes, overflow) = Int64(info.f_bavail).multipliedReportingOverflow(by: Int64(info.f_frsize))
        return overflow ? Int64.max : bytes
    }
}
