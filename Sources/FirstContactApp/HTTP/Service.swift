import FirstContactCore
import FirstContactStore
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

/// Builds the service: HTTP API, scheduler and (when configured) webhook delivery over one store.
/// Used by `firstcontact serve` and the tests.
package func buildApplication(
    engine: Engine, store: any ContactStore, clock: any WallClock, host: String, port: Int,
    webhooks: WebhookDelivery? = nil, logger: Logger = Logger(label: "firstcontact")
) -> some ApplicationProtocol {
    let scheduler = ObligationScheduler(engine: engine, store: store, clock: clock)
    let api = API(engine: engine, store: store, scheduler: scheduler)
    var services: [any Service] = [SchedulerService(scheduler: scheduler)]
    if let webhooks { services.append(webhooks) }
    return Application(
        router: api.router(),
        configuration: .init(address: .hostname(host, port: port), serverName: "firstcontact"),
        services: services,
        logger: logger
    )
}
