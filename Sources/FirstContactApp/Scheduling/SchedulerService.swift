import ServiceLifecycle

/// The scheduler as a long-running service of `serve`: stops on graceful shutdown (SIGTERM/SIGINT).
package struct SchedulerService: Service {
    package let scheduler: ObligationScheduler

    package init(scheduler: ObligationScheduler) {
        self.scheduler = scheduler
    }

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
