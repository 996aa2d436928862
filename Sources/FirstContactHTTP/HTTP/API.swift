import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Synchronization

/// The HTTP API (`/v1`), `/healthz` and `/metrics`, over the same engine, store and rules as the
/// CLI: what every controller shares. Routes live in one controller per resource.
package struct API: Sendable {
    /// What the controllers share with each other and with the web pages.
    package let state: ServiceState

    package init(
        engine: Engine, store: any ContactStore, scheduler: ObligationScheduler,
        followers: FollowerStatus = FollowerStatus(),
        changes: LiveChanges = LiveChanges(),
        metrics: ServiceMetrics = ServiceMetrics(), schedulerHealth: SchedulerHealth = SchedulerHealth()
    ) {
        self.state = ServiceState(
            engine: engine, store: store, scheduler: scheduler, followers: followers, changes: changes,
            metrics: metrics,
            schedulerHealth: schedulerHealth)
    }

    package var engine: Engine { self.state.engine }
    package var store: any ContactStore { self.state.store }
    package var scheduler: ObligationScheduler { self.state.scheduler }
    package var changes: LiveChanges { self.state.changes }
    package var followers: FollowerStatus { self.state.followers }
    package var metrics: ServiceMetrics { self.state.metrics }
    package var batcher: IngestBatcher { self.state.batcher }
    package var feed: OutboxFeed { self.state.feed }
    var reports: Reports { self.state.reports }

    /// The services the API needs running: the ingest group commit, the outbox feed and the
    /// routed callers' screen pops.
    package var services: [any Service] { [self.batcher, self.feed, self.state.announcer] }

    package func router() -> Router<AppRequestContext> { self.routes().router }

    /// The router and the routes it serves, as `METHOD /path/{param}` (the OpenAPI test compares
    /// them with openapi.yaml, so the document cannot drift from what is served).
    package func routes() -> (router: Router<AppRequestContext>, served: [String]) {
        var routes = RouteTable(router: Router(context: AppRequestContext.self))
        routes.router.add(middleware: RequestLogMiddleware(metrics: self.metrics))
        routes.router.add(middleware: StorageFullMiddleware(storage: self.store.storage))
        routes.router.add(middleware: TokenAuthMiddleware(tokens: self.engine.configuration.tokens))
        routes.add(.get, "healthz") { _, _ in Self.text(self.state.health) }
        routes.add(.get, "metrics") { _, context in
            _ = try context.principal([.admin, .supervisor, .pbx])
            return try await self.metrics()
        }
        IngestController(api: self).register(on: &routes)
        ContactsController(api: self).register(on: &routes)
        ObligationsController(api: self).register(on: &routes)
        ViolationsController(api: self).register(on: &routes)
        EventsController(api: self).register(on: &routes)
        ReportsController(api: self).register(on: &routes)
        RouteController(api: self).register(on: &routes)
        routes.add(.get, "v1/webhooks/dead-letters") { request, context in try await self.deadLetters(request, context)
        }
        routes.router.add(middleware: MethodNotAllowedMiddleware(served: routes.served))
        return (routes.router, routes.served)
    }

    /// A contact with its violations, what people recorded (resolution, registrations of hand-offs
    /// by hand) and its `why` trail.
    static func write(_ detail: ContactDetail, into out: JSONWriter) {
        out.object {
            out.field("contact") { ExportDocument.contact(detail.contact, into: out) }
            out.field("resolution") {
                if let resolution = detail.contact.resolution {
                    out.object {
                        out.field("kind") { out.string(resolution.kind.rawValue) }
                        out.field("at") { out.time(resolution.at) }
                        out.field("by") { out.string(resolution.by.rawValue) }
                        out.field("note") { out.string(resolution.note) }
                        out.field("referred_to") { out.string(resolution.referredTo) }
                    }
                } else {
                    out.string(nil)
                }
            }
            out.field("registrations") {
                out.array(detail.contact.obligations.filter { $0.registration != nil }) { obligation in
                    let registration =
                        obligation.registration ?? HandoffRegistration(unit: "", name: "", phone: "", matter: "")
                    out.object {
                        out.field("obligation") { out.string(obligation.id.rawValue) }
                        out.field("unit") { out.string(registration.unit) }
                        out.field("name") { out.string(registration.name) }
                        out.field("phone") { out.string(registration.phone) }
                        out.field("matter") { out.string(registration.matter) }
                        out.field("place") { out.string(registration.place) }
                    }
                }
            }
            out.field("violations") {
                out.array(detail.violations) { ExportDocument.violation($0, review: detail.reviews[$0.id], into: out) }
            }
            out.field("why") {
                out.array((detail.contact.why + detail.amendments).sorted { $0.at < $1.at }) { entry in
                    out.object {
                        out.field("at") { out.time(entry.at) }
                        out.field("rule") { out.string(entry.rule.rawValue) }
                        out.field("message") { out.string(entry.message) }
                        out.field("call") { out.string(entry.call?.rawValue) }
                        out.field("evidence") { out.array(entry.evidence) { out.string($0.description) } }
                    }
                }
            }
        }
    }

    // MARK: Webhooks

    /// `GET /v1/webhooks/dead-letters` (admins): notifications a webhook URL never accepted.
    private func deadLetters(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try context.principal([.admin])
        let limit = try Self.pageLimit(request.uri.queryParameters["limit"].map(String.init), default: 1000)
        let letters = try await self.store.deadLetters(limit: limit)
        let out = JSONWriter()
        out.array(letters) { letter in
            out.object {
                out.field("url") { out.string(letter.url) }
                out.field("seq") { out.int(Int(letter.seq)) }
                out.field("delivery") { out.string(letter.key) }
                out.field("kind") { out.string(letter.kind) }
                out.field("attempts") { out.int(letter.attempts) }
                out.field("last_status") { letter.lastStatus.map { out.int($0) } ?? out.null() }
                out.field("last_error") { out.string(letter.lastError) }
                out.field("first_attempt_at") { out.time(letter.firstAttemptAt) }
                out.field("last_attempt_at") { out.time(letter.lastAttemptAt) }
            }
        }
        return Self.json(out.text)
    }

    // MARK: Metrics

    /// Prometheus text exposition (swift-prometheus): counters kept since start, gauges read now.
    private func metrics() async throws -> Response {
        let totals = try await self.store.totals()
        let lag = try await self.store.nextCheck().map { max(0, self.scheduler.clock.now() - $0) } ?? 0
        let text = self.metrics.exposition(
            totals: totals, schedulerLag: lag, scheduler: self.state.schedulerHealth.snapshot,
            storage: self.store.storage, followers: self.followers.snapshot())
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; version=0.0.4"
        return response
    }

    // MARK: Helpers

    /// `?limit=`: 1…1000 as the document says, `default` when absent; anything else is refused
    /// rather than clamped, so a client learns its page is not the size it asked for.
    static func pageLimit(_ text: String?, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw HTTPError(.badRequest, message: "limit must be a whole number from 1 to 1000, not \(text)")
        }
        return limit
    }

    /// A Prometheus label value: backslash, quote and line feed escaped.
    static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func text(_ text: String) -> Response {
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        response.headers[.contentType] = "text/plain; charset=utf-8"
        return response
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        response.headers[.contentType] = "application/json; charset=utf-8"
        return response
    }
}

/// The router under construction and the routes it serves, as `METHOD /path/{param}`.
struct RouteTable {
    let router: Router<AppRequestContext>
    private(set) var served: [String] = []

    init(router: Router<AppRequestContext>) {
        self.router = router
    }

    mutating func add(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Request, AppRequestContext) async throws -> Response
    ) {
        self.router.on(RouterPath(path), method: method, use: handler)
        let documented = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
        self.served.append("\(method.rawValue) /\(documented.joined(separator: "/"))")
    }
}
