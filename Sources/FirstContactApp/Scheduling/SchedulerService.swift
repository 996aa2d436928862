import Logging
import ServiceLifecycle

/// The scheduler as a long-running service of `serve`: stops on graceful shutdown (SIGTERM/SIGINT).
/// A tick that fails is logged, counted in ``SchedulerHealth`` and retried after a back-off; it
/// never ends the service group, so HTTP ingest and the API keep running while the cause lasts.
package struct SchedulerService: Service {
    package let scheduler: ObligationScheduler
    package let health: SchedulerHealth
    package let logger: Logger

    package init(
        scheduler: ObligationScheduler, health: SchedulerHealth = SchedulerHealth(),
        logger: Logger = Logger(label: "firstcontact.scheduler")
    ) {
        self.scheduler = scheduler
        self.health = health
        self.logger = logger
    }

    package func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.scheduler.run(health: self.health, logger: self.logger)
            }
        } catch is CancellationError {
            // Shutting down: the current chunk committed or rolled back whole.
        }
    }
}
