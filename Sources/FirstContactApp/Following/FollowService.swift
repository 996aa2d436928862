import FirstContactCore
import FirstContactStore
import Foundation
import Logging
import ServiceLifecycle

/// The `follow:` files as a long-running service of `serve`: each pass reads what was appended
/// to every followed file, then lets the scheduler derive at the wall clock, as an HTTP ingest does.
///
/// Polling rather than inotify: a pass costs a `stat` and an `fstat` per file when nothing
/// changed, works the same on every file system (inotify misses NFS writes and does not exist
/// on macOS), and sees rotations by rename and copy-truncate without a second mechanism. A
/// quarter of a second is far below what anyone watching a dashboard or the lateness window
/// notices, and costs nothing measurable.
///
/// With several instances on one database each path is read by the holder of its lease
/// (`follow <path>`); when the holder dies another instance takes the path over once the lease
/// expires (``LeaseTerms``: within 25 s by default) and resumes from the checkpoint stored with
/// the records. An instance that gets a path (again) starts a new follower, which reads the
/// stored checkpoint rather than where this process last was.
package struct FollowService: Service {
    package let files: [FollowedFile]
    package let engine: Engine
    package let store: any ContactStore
    package let scheduler: ObligationScheduler
    package let status: FollowerStatus
    /// Where the followers count the records they ingest (`/metrics`).
    package var metrics: (any IngestCounting)?
    /// Where a followed file that cannot be read, or a failed derivation, is said.
    package var logger: Logger = Logger(label: "firstcontact.follow")
    package var interval: Duration = .milliseconds(250)
    /// How this instance holds each path's lease.
    package var lease = LeaseTerms()

    package init(
        files: [FollowedFile], engine: Engine, store: any ContactStore, scheduler: ObligationScheduler,
        status: FollowerStatus,
        metrics: (any IngestCounting)? = nil, logger: Logger = Logger(label: "firstcontact.follow"),
        interval: Duration = .milliseconds(250), lease: LeaseTerms = LeaseTerms()
    ) {
        (self.files, self.engine, self.store, self.scheduler, self.status) = (files, engine, store, scheduler, status)
        (self.metrics, self.logger, self.interval, self.lease) = (metrics, logger, interval, lease)
    }

    package func run() async throws {
        let (files, engine, store, status, scheduler, interval, metrics, logger) =
            (self.files, self.engine, self.store, self.status, self.scheduler, self.interval, self.metrics, self.logger)
        let leases = files.map { LeaseKeeper("follow \($0.path)", store: store, terms: self.lease) }
        do {
            try await cancelWhenGracefulShutdown {
                // Made inside the task that owns them: a follower is a cursor, not shared. Made
                // when this instance holds the path's lease, dropped when it does not.
                var followers: [FileFollower?] = files.map { _ in nil }
                var failing: Set<String> = []
                var backoff = StorageBackoff()
                while !Task.isCancelled {
                    var read = 0
                    var full = false
                    for (index, file) in files.enumerated() {
                        do {
                            guard try await leases[index].hold() else {
                                followers[index] = nil
                                continue
                            }
                            let follower =
                                followers[index]
                                ?? FileFollower(
                                    path: file.path, format: file.format, engine: engine, store: store, status: status,
                                    metrics: metrics)
                            follower.lease = leases[index]
                            followers[index] = follower
                            read += try await follower.poll().lines
                            failing.remove(file.path)
                        } catch let error as CancellationError {
                            throw error
                        } catch is LeaseLost {
                            // Another instance reads this path now, from the stored checkpoint.
                            followers[index] = nil
                        } catch {
                            // Retried on the next pass from the last checkpoint; said once, not every
                            // pass. A full disk is the store's, said once a minute for the service.
                            if store.storage.report(error, logger: logger) {
                                full = true
                            } else if failing.insert(file.path).inserted {
                                logger.warning(
                                    "followed file unreadable, retrying",
                                    metadata: ["fc.source": .string(file.path), "fc.error": .string("\(error)")])
                            }
                        }
                    }
                    if read > 0 {
                        do {
                            try await scheduler.tick()
                        } catch let error as CancellationError {
                            throw error
                        } catch {
                            // The records are stored and their customers marked: the scheduler's
                            // own loop derives them on its next tick.
                            if !store.storage.report(error, logger: logger) {
                                logger.error(
                                    "deriving after new lines failed", metadata: ["fc.error": .string("\(error)")])
                            }
                        }
                    }
                    // On a full disk every pass would read the same lines and fail the same way:
                    // wait longer each time (at most a minute), and go back to polling once a
                    // pass stores again.
                    if full {
                        try await Task.sleep(for: max(interval, backoff.failed()))
                    } else {
                        backoff.succeeded()
                        try await Task.sleep(for: interval)
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down: every batch committed with its checkpoint, or not at all.
        }
        for lease in leases { await lease.release(logger: logger) }
    }
}
