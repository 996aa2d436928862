import FirstContactApp
import FirstContactCore
import FirstContactStore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Builds the service: HTTP API, web pages (`/ui`), scheduler, file followers and (when configured)
/// webhook delivery over one store. Used by `firstcontact serve` and the tests.
/// - Parameter sessions: signed when several instances share the database (``WebSessions/configured(store:tokens:)``).
/// - Parameter onServerRunning: called once the server listens (with the bound port when `port` is 0).
package func buildApplication(
    engine: Engine, store: any ContactStore, clock: any WallClock, host: String, port: Int,
    webhooks: WebhookDelivery? = nil, sessions: WebSessions = WebSessions(),
    logger: Logger = Logger(label: "firstcontact"),
    onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let scheduler = ObligationScheduler(engine: engine, store: store, clock: clock)
    let followers = FollowerStatus()
    let metrics = ServiceMetrics()
    let schedulerHealth = SchedulerHealth()
    let api = API(
        engine: engine, store: store, scheduler: scheduler, followers: followers, metrics: metrics,
        schedulerHealth: schedulerHealth)
    let router = api.router()
    WebUI(state: api.state, sessions: sessions).register(on: router)
    var services: [any Service] =
        [SchedulerService(scheduler: scheduler, health: schedulerHealth, logger: logger)] + api.services
    if let webhooks { services.append(webhooks) }
    if engine.configuration.policy.retention != nil {
        services.append(
            RetentionService(retention: Retention(engine: engine, store: store), clock: clock, logger: logger))
    }
    if !engine.configuration.follow.isEmpty {
        // Only with files to follow: a service that returns ends the whole service group.
        services.append(
            FollowService(
                files: engine.configuration.follow, engine: engine, store: store, scheduler: scheduler,
                status: followers,
                metrics: metrics, logger: logger))
    }
    let timeout = TimeAmount.seconds(engine.configuration.http.requestTimeout)
    let connections = ConnectionCount(limit: engine.configuration.http.maxConnections)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(additionalChannelHandlers: [
                ConnectionLimitHandler(count: connections), IdleStateHandler(readTimeout: timeout),
                RequestTimeoutHandler(),
            ])),
        configuration: .init(address: .hostname(host, port: port), serverName: "firstcontact"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
        logger: logger
    )
}
