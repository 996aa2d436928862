import FirstContactCore
import FirstContactStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// The scheduler as a long-running service of `serve`: stops on graceful shutdown (SIGTERM/SIGINT).
package struct SchedulerService: Service {
    package let scheduler: ObligationScheduler

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.scheduler.run()
            }
        } catch is CancellationError {
            // Shutting down: the current chunk committed or rolled back whole.
        }
    }
}

/// The `follow:` files as a long-running service of `serve`: each pass reads what was appended
/// to every followed file, then lets the scheduler derive at the wall clock, as an HTTP ingest does.
///
/// Polling rather than inotify: a pass costs a `stat` and an `fstat` per file when nothing
/// changed, works the same on every file system (inotify misses NFS writes and does not exist
/// on macOS), and sees rotations by rename and copy-truncate without a second mechanism. A
/// quarter of a second is far below what anyone watching a dashboard or the lateness window
/// notices, and costs nothing measurable.
package struct FollowService: Service {
    package let files: [FollowedFile]
    package let engine: Engine
    package let store: any ContactStore
    package let scheduler: ObligationScheduler
    package let status: FollowerStatus
    /// Where the followers count the records they ingest (`/metrics`).
    package var metrics: ServiceMetrics?
    package var interval: Duration = .milliseconds(250)

    package func run() async throws {
        let (files, engine, store, status, scheduler, interval, metrics) =
            (self.files, self.engine, self.store, self.status, self.scheduler, self.interval, self.metrics)
        do {
            try await cancelWhenGracefulShutdown {
                // Made inside the task that owns them: a follower is a cursor, not shared.
                let followers = files.map {
                    FileFollower(path: $0.path, format: $0.format, engine: engine, store: store, status: status, metrics: metrics)
                }
                var failing: Set<String> = []
                while !Task.isCancelled {
                    var read = 0
                    for follower in followers {
                        do {
                            read += try await follower.poll().lines
                            failing.remove(follower.path)
                        } catch let error as CancellationError {
                            throw error
                        } catch {
                            // Retried on the next pass from the last checkpoint; said once, not every pass.
                            if failing.insert(follower.path).inserted {
                                Self.warn("follow \(follower.path): \(error) (retrying)")
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
                            Self.warn("follow: deriving after new lines failed: \(error)")
                        }
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down: every batch committed with its checkpoint, or not at all.
        }
    }
}

extension FollowService {
    /// To stderr, like the server's own log lines (the app target has no logger of its own).
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// Builds the service: HTTP API, web pages (`/ui`), scheduler, file followers and (when configured)
/// webhook delivery over one store. Used by `firstcontact serve` and the tests.
/// - Parameter onServerRunning: called once the server listens (with the bound port when `port` is 0).
package func buildApplication(
    engine: Engine, store: any ContactStore, clock: any WallClock, host: String, port: Int,
    webhooks: WebhookDelivery? = nil, logger: Logger = Logger(label: "firstcontact"),
    onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let scheduler = ObligationScheduler(engine: engine, store: store, clock: clock)
    let followers = FollowerStatus()
    let metrics = ServiceMetrics()
    let api = API(engine: engine, store: store, scheduler: scheduler, followers: followers, metrics: metrics)
    let router = api.router()
    WebUI(api: api, sessions: WebSessions()).register(on: router)
    var services: [any Service] = [SchedulerService(scheduler: scheduler)]
    if let webhooks { services.append(webhooks) }
    if !engine.configuration.follow.isEmpty {
        // Only with files to follow: a service that returns ends the whole service group.
        services.append(FollowService(
            files: engine.configuration.follow, engine: engine, store: store, scheduler: scheduler, status: followers,
            metrics: metrics))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "firstcontact"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
        logger: logger
    )
}
