import FirstContactCore
import FirstContactStore
import Logging
import ServiceLifecycle

/// `serve`'s daily purge (`policy.retention`): once at start, then every `interval`. A purge that
/// fails (a full disk, a busy WAL) is logged and retried with back-off; it never ends the service.
package struct RetentionService: Service {
    package let retention: Retention
    package let clock: any WallClock
    package let logger: Logger
    package let interval: Int64

    package init(retention: Retention, clock: any WallClock, logger: Logger, interval: Int64 = 86_400) {
        self.retention = retention
        self.clock = clock
        self.logger = logger
        self.interval = interval
    }

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.loop() }
        } catch is CancellationError {
            // Shutting down: a purge in flight committed or rolled back whole.
        }
    }

    func loop() async throws {
        var delay: Int64 = 60
        while !Task.isCancelled {
            let wake: Timestamp
            do {
                if let outcome = try await self.retention.purge(at: self.clock.now(), dryRun: false) {
                    self.logger.info("retention purge done", metadata: ["purge": "\(Retention.summary(outcome))"])
                }
                delay = 60
                wake = self.clock.now() + self.interval
            } catch let error as CancellationError {
                throw error
            } catch {
                if Task.isCancelled { throw CancellationError() }
                if !self.retention.store.storage.report(error, logger: self.logger) {
                    self.logger.error(
                        "retention purge failed; retrying with back-off",
                        metadata: ["purge.error": "\(error)", "purge.retry_in_s": "\(delay)"])
                }
                wake = self.clock.now() + delay
                delay = min(delay * 2, 3_600)
            }
            try await self.clock.sleep(until: wake)
        }
    }
}
