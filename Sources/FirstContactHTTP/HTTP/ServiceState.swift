import FirstContactApp
import FirstContactCore
import FirstContactStore
import Hummingbird

/// What the API's controllers and the web pages share: the engine and its rules, the store, the
/// scheduler's clock, the live feeds and the metrics. Both hold this value; neither reaches into
/// the other.
package struct ServiceState: Sendable {
    package let engine: Engine
    package let store: any ContactStore
    package let scheduler: ObligationScheduler
    /// People's changes (acknowledgements, reviews) announced to the open web pages.
    package let changes: LiveChanges
    /// The file followers' states (empty when nothing is followed).
    package let followers: FollowerStatus
    /// This service's Prometheus registry (`/metrics`), shared with its followers.
    package let metrics: ServiceMetrics
    /// Group commit of concurrent ingest requests.
    package let batcher: IngestBatcher
    /// The one outbox reader of every event stream.
    package let feed: OutboxFeed
    /// Whether the scheduler's ticks succeed (`/healthz`, `/metrics`).
    package let schedulerHealth: SchedulerHealth
    /// Event streams per token and sign-in attempts per address.
    package let limits: ClientLimits
    /// Routed callers' screen pops, written behind the routing answer.
    package let announcer: RouteAnnouncer

    package init(
        engine: Engine, store: any ContactStore, scheduler: ObligationScheduler, followers: FollowerStatus,
        changes: LiveChanges, metrics: ServiceMetrics, schedulerHealth: SchedulerHealth = SchedulerHealth()
    ) {
        self.schedulerHealth = schedulerHealth
        self.engine = engine
        self.store = store
        self.scheduler = scheduler
        self.followers = followers
        self.changes = changes
        self.metrics = metrics
        self.batcher = IngestBatcher(store: store, scheduler: scheduler, metrics: metrics)
        self.feed = OutboxFeed(store: store)
        self.limits = ClientLimits(options: engine.configuration.http)
        self.announcer = RouteAnnouncer(store: store)
    }

    /// What `/healthz` answers: `ok`, or `degraded: …` with every reason that holds (the disk
    /// full, free space below `storage.min_free`, the scheduler failing), joined by `; `.
    /// Always 200: a liveness probe must not restart a process that still accepts records (or
    /// that a restart would not give room); alert on the body, `firstcontact_scheduler_failing`
    /// or `firstcontact_storage_full`.
    var health: String {
        var reasons: [String] = []
        let storage = self.store.storage
        if storage.snapshot.isFull {
            let since = storage.snapshot.fullSince.map { " since \(Int($0.timeIntervalSince1970))" } ?? ""
            let free = storage.freeBytes.map { "\($0) bytes" } ?? "unknown space"
            reasons.append("storage full\(since): \(free) free for the database \(storage.database)")
        } else if let low = storage.lowSpace(minimum: self.engine.configuration.storage.minFree) {
            reasons.append(low)
        }
        let scheduler = self.schedulerHealth.snapshot
        if scheduler.isFailing {
            let since = scheduler.failingSince.map { " since \(Int($0.timeIntervalSince1970))" } ?? ""
            reasons.append(
                "scheduler failing\(since) (\(scheduler.consecutiveFailures) attempts): \(scheduler.lastError ?? "unknown error")"
            )
        }
        return reasons.isEmpty ? "ok" : "degraded: " + reasons.joined(separator: "; ")
    }

    var reports: Reports { Reports(store: self.store, directory: self.engine.directory) }

    /// Of `violations`, those about contacts in the caller's scope (one query).
    func inScope(_ violations: [Violation], of principal: Principal) async throws -> [Violation] {
        let scope = principal.scope(directory: self.engine.directory)
        if scope.isEverything { return violations }
        let visible = try await self.store.contactIDs(Set(violations.map(\.contact)), in: scope)
        return violations.filter { visible.contains($0.contact) }
    }
}

extension Principal {
    /// What this caller's reports and board may cover.
    func reportScope(directory: Directory) throws -> ReportScope {
        switch self.role {
        case .admin:
            return .all
        case .supervisor:
            return .departments(self.departments)
        case .agent:
            guard let me = self.agent else { throw HTTPError(.forbidden, message: "this agent token names no agent") }
            return .agent(me, department: directory.departmentOf(me))
        case .pbx:
            throw HTTPError(.forbidden, message: "role pbx may not do this")
        }
    }
}
