import HTTPTypes
import Synchronization
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import Hummingbird
import ServiceLifecycle

/// The HTTP API (`/v1`), `/healthz` and `/metrics`, over the same engine, store and rules as the CLI.
package struct API: Sendable {
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

    package init(
        engine: Engine, store: any ContactStore, scheduler: ObligationScheduler, followers: FollowerStatus = FollowerStatus(),
        changes: LiveChanges = LiveChanges(),
        metrics: ServiceMetrics = ServiceMetrics()
    ) {
        self.engine = engine
        self.store = store
        self.scheduler = scheduler
        self.followers = followers
        self.changes = changes
        self.metrics = metrics
        self.batcher = IngestBatcher(store: store, scheduler: scheduler, metrics: metrics)
    }

    package func router() -> Router<BasicRequestContext> { self.routes().router }

    /// The router and the routes it serves, as `METHOD /path/{param}` (the OpenAPI test compares
    /// them with openapi.yaml, so the document cannot drift from what is served).
    package func routes() -> (router: Router<BasicRequestContext>, served: [String]) {
        let router = Router()
        router.add(middleware: RequestLogMiddleware(metrics: self.metrics))
        var served: [String] = []
        func add(
            _ method: HTTPRequest.Method, _ path: String,
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
        ) {
            router.on(RouterPath(path), method: method, use: handler)
            let documented = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            served.append("\(method.rawValue) /\(documented.joined(separator: "/"))")
        }
        add(.get, "healthz") { _, _ in Self.text("ok") }
        add(.get, "metrics") { request, _ in
            _ = try self.principal(request, allowed: [.admin, .supervisor, .pbx])
            return try await self.metrics()
        }
        add(.post, "v1/ingest/:format") { request, context in try await self.ingest(request, context) }
        add(.get, "v1/contacts") { request, _ in try await self.contacts(request) }
        add(.get, "v1/contacts/:id") { request, context in try await self.contact(request, context) }
        add(.post, "v1/contacts") { request, _ in try await self.openContact(request) }
        for action in ContactAction.allCases {
            add(.post, "v1/contacts/:id/\(action.rawValue)") { request, context in
                try await self.act(action, request, context)
            }
        }
        add(.get, "v1/obligations") { request, _ in try await self.obligations(request) }
        add(.post, "v1/obligations/:id/ack") { request, context in try await self.acknowledge(request, context) }
        add(.get, "v1/violations") { request, _ in try await self.violations(request) }
        add(.post, "v1/violations/:id/review") { request, context in try await self.review(request, context) }
        add(.get, "v1/events") { request, _ in try await self.events(request) }
        add(.get, "v1/reports/missed-callbacks") { request, _ in try await self.missedCallbacksReport(request) }
        add(.get, "v1/reports/sla") { request, _ in try await self.slaReport(request) }
        add(.get, "v1/reports/agents") { request, _ in try await self.agentsReport(request) }
        add(.get, "v1/webhooks/dead-letters") { request, _ in try await self.deadLetters(request) }
        return (router, served)
    }

    // MARK: Authentication

    func principal(_ request: Request, allowed: Set<Token.Role>) throws -> Principal {
        guard let principal = Principal.authenticate(
            authorization: request.headers[.authorization], tokens: self.engine.configuration.tokens)
        else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a valid token is required (Authorization: Bearer TOKEN)")
        }
        guard allowed.contains(principal.role) else {
            throw HTTPError(.forbidden, message: "role \(principal.role.rawValue) may not do this")
        }
        return principal
    }

    // MARK: Ingest

    /// `POST /v1/ingest/{format}`: the body's lines, decoded, stored and derived before the answer.
    /// Concurrent requests share one transaction (``IngestBatcher``); each gets its own counts.
    private func ingest(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try self.principal(request, allowed: [.pbx, .admin])
        let name = try context.parameters.require("format")
        guard let format = InputFormat(rawValue: name) else {
            throw HTTPError(.notFound, message: "unknown format \(name); formats: \(InputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var request = request
        let body = try await request.collectBody(upTo: self.engine.configuration.http.maxBody)
        let bytes = [UInt8](buffer: body)
        // The same body posted again is the same source: its records and rejects are stored once.
        let source = "POST /v1/ingest/\(name) \(StableHash.hex(StableHash.fnv1a64(bytes)))"
        var records: [IngestRecord] = []
        if let decoder = self.engine.lineDecoder(for: format) {
            for line in LineReader.lines(in: bytes) {
                records.append(decoder.decode(line.bytes, at: SourcePosition(source: source, line: line.number, offset: line.offset)))
            }
        } else if let decoder = self.engine.documentDecoder(for: format) {
            // One document per request, as mod_xml_cdr posts them (raw XML or the `cdr=` form).
            // A document that cannot be read is stored as a reject and answered 200: retrying
            // would not make it readable, and nothing is lost.
            records = decoder.decode(bytes, at: SourcePosition(source: source, line: 1, offset: 0))
        } else {
            throw HTTPError(.unprocessableContent, message: "format \(name) is not accepted by this build yet")
        }
        let rejected = records.compactMap { record -> Reject? in
            if case .reject(let reject) = record { return reject }
            return nil
        }
        let outcome = try await self.batcher.ingest(records)
        self.metrics.ingested(format: name, outcome)
        context.logger.info(
            "ingested",
            metadata: [
                "ingest.format": .string(name), "ingest.records": .stringConvertible(outcome.records),
                "ingest.new": .stringConvertible(outcome.newRecords), "ingest.duplicates": .stringConvertible(outcome.duplicates),
                "ingest.rejects": .stringConvertible(outcome.rejects),
            ])
        // Reject reasons may quote a field (a caller ID…): masked like every number in the logs.
        for reject in rejected {
            context.logger.notice(
                "rejected",
                metadata: [
                    "ingest.format": .string(name), "ingest.line": .stringConvertible(reject.position.line),
                    "ingest.reason": .string(LogMasking.maskNumbers(reject.reason)),
                ])
        }
        let out = JSONWriter()
        out.object {
            out.field("records") { out.int(outcome.records) }
            out.field("new") { out.int(outcome.newRecords) }
            out.field("duplicates") { out.int(outcome.duplicates) }
            out.field("rejects") {
                out.array(rejected) { reject in
                    out.object {
                        out.field("line") { out.int(reject.position.line) }
                        out.field("reason") { out.string(reject.reason) }
                    }
                }
            }
        }
        return Self.json(out.text)
    }

    // MARK: Contacts

    private func contacts(_ request: Request) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        var statuses: Set<ContactStatus> = []
        for text in (query["status"].map(String.init) ?? "").split(separator: ",") {
            guard let status = ContactStatus(rawValue: String(text)) else {
                throw HTTPError(.badRequest, message: "unknown status \(text)")
            }
            statuses.insert(status)
        }
        let limit = try Self.pageLimit(query["limit"].map(String.init), default: 100)
        let department = query["department"].map { DepartmentID(String($0)) }
        let agent = query["agent"].map { AgentID(String($0)) }
        let customer = query["customer"].map { self.engine.directory.normaliser.normalise(String($0)).text }
        func time(_ name: String) throws -> Timestamp? {
            try query[Substring(name)].map { text in
                guard let time = Timestamp(iso8601: String(text)) else {
                    throw HTTPError(.badRequest, message: "\(name) must be a time like 2026-11-27T09:00:00+08:00, not \(text)")
                }
                return time
            }
        }
        let (from, to) = (try time("from"), try time("to"))
        var after = try query["cursor"].map { try PageCursor.contact(String($0)) }
        // Keyset paging over (created_at, id), filtered by scope: read batches after the cursor
        // until one more visible contact than the page holds shows there is a next page.
        var page: [Contact] = []
        let batch = principal.role == .admin ? limit + 1 : max(limit + 1, 500)
        while page.count <= limit {
            let found = try await self.store.contacts(ContactQuery(
                statuses: statuses, department: department, agent: principal.role == .agent ? principal.agent : agent,
                customer: customer, createdFrom: from, createdBefore: to, after: after, limit: batch))
            page += found.filter { principal.canSee($0, directory: self.engine.directory) }
            guard found.count == batch, let last = found.last else { break }
            after = ContactPosition(createdAt: last.createdAt, id: last.id)
        }
        let items = page.prefix(limit)
        let out = JSONWriter()
        out.array(items) { ExportDocument.contact($0, into: out) }
        var response = Self.json(out.text)
        if page.count > limit, let last = items.last {
            response.headers[PageCursor.header] = PageCursor.encode(createdAt: last.createdAt, id: last.id.rawValue)
        }
        return response
    }

    private func contact(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let id = ContactID(try context.parameters.require("id"))
        // Out of scope and missing look the same: an id reveals nothing.
        guard let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            principal.canSee(detail.contact, directory: self.engine.directory)
        else { throw HTTPError(.notFound, message: "no contact \(id)") }
        let out = JSONWriter()
        self.write(detail, into: out)
        return Self.json(out.text)
    }

    /// A contact with its violations, what people recorded (resolution, registrations of hand-offs
    /// by hand) and its `why` trail.
    func write(_ detail: ContactDetail, into out: JSONWriter) {
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
                    let registration = obligation.registration ?? HandoffRegistration(unit: "", name: "", phone: "", matter: "")
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

    // MARK: Obligations

    private func obligations(_ request: Request) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        let state = try query["state"].map { text in
            guard let state = ObligationState(rawValue: String(text)) else { throw HTTPError(.badRequest, message: "unknown state \(text)") }
            return state
        }
        let limit = try Self.pageLimit(query["limit"].map(String.init), default: 1000)
        let after = try query["cursor"].map { try PageCursor.obligation(String($0)) }
        // Paged on the obligation's own stable key (created_at, id), in the store: one more than
        // the page shows whether a next page exists, without reading the rest.
        let found = try await self.store.obligationPage(
            states: state.map { [$0] } ?? [], scope: principal.visibility(directory: self.engine.directory),
            after: after.map { ObligationPosition(createdAt: $0.createdAt, id: ObligationID($0.id)) }, limit: limit + 1)
        let items = found.prefix(limit)
        let out = JSONWriter()
        out.array(items) { ExportDocument.obligation($0, into: out) }
        var response = Self.json(out.text)
        if found.count > limit, let last = items.last {
            response.headers[PageCursor.header] = PageCursor.encode(createdAt: last.createdAt, id: last.id.rawValue)
        }
        return response
    }

    /// `POST /v1/obligations/{id}/ack`: the receiving side has read a hand-off. Agents acknowledge
    /// as themselves; supervisors and admins name the agent in `{"by": "1011"}`.
    private func acknowledge(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let id = ObligationID(try context.parameters.require("id"))
        let body = try await Self.jsonBody(request, limit: 64 * 1024)
        let by: AgentID
        if principal.role == .agent, let me = principal.agent {
            by = me
        } else if let named = body["by"] as? String {
            by = AgentID(named)
        } else {
            throw HTTPError(.badRequest, message: "name the acknowledging agent: {\"by\": \"AGENT\"}")
        }
        guard let stored = try await self.store.obligation(id),
            let contact = try await self.store.contact(stored.contact, correlator: self.engine.correlator)?.contact,
            principal.canSee(contact, directory: self.engine.directory)
        else { throw HTTPError(.notFound, message: "no obligation \(id)") }
        do {
            let updated = try await self.engine.acknowledge(id, by: by, at: self.scheduler.clock.now(), store: self.store)
            self.changes.publish("acknowledged", contact: stored.contact, obligation: id, department: stored.obligation.owner.department)
            let out = JSONWriter()
            ExportDocument.obligation(updated.obligation, into: out)
            return Self.json(out.text)
        } catch let error as ActionError {
            throw HTTPError(.conflict, message: error.description)
        }
    }

    // MARK: Violations

    private func violations(_ request: Request) async throws -> Response {
        let principal = try self.principal(request, allowed: [.supervisor, .admin])
        let snapshot = try await self.store.violations()
        let visible = snapshot.violations.filter { principal.role == .admin || principal.departments.contains($0.department) }
        let out = JSONWriter()
        out.array(visible) { ExportDocument.violation($0, review: snapshot.reviews[$0.id], into: out) }
        return Self.json(out.text)
    }

    /// `POST /v1/violations/{id}/review` with `{"decision": "accept|excuse|dismiss", "reason": "…"}`.
    private func review(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try self.principal(request, allowed: [.supervisor, .admin])
        let id = ViolationID(try context.parameters.require("id"))
        let body = try await Self.jsonBody(request, limit: 64 * 1024)
        guard let text = body["decision"] as? String, let decision = ViolationReview.Decision(rawValue: text) else {
            throw HTTPError(.badRequest, message: "\"decision\" must be one of accept, excuse, dismiss")
        }
        guard let reason = body["reason"] as? String else { throw HTTPError(.badRequest, message: "\"reason\" is required") }
        let violation = try await self.store.violations().violations.first { $0.id == id }
        guard let violation, principal.role == .admin || principal.departments.contains(violation.department) else {
            throw HTTPError(.notFound, message: "no violation \(id)")
        }
        do {
            try await self.engine.review(
                id, decision: decision, reason: reason, by: principal.name, at: self.scheduler.clock.now(), store: self.store)
        } catch let error as ActionError {
            throw HTTPError(.badRequest, message: error.description)
        }
        self.changes.publish("reviewed", contact: violation.contact, violation: id, department: violation.department)
        return Self.json("{\"violation\": \(JSONWriter.quoted(id.rawValue)), \"decision\": \(JSONWriter.quoted(decision.rawValue))}")
    }

    // MARK: Event stream

    /// `GET /v1/events`: the outbox as Server-Sent Events (`id` = outbox sequence, `event` = kind),
    /// from `Last-Event-ID` or `?after=`; `?follow=false` sends what is there and ends.
    private func events(_ request: Request) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        let resumeHeader = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
        let after = Int64(resumeHeader ?? query["after"].map(String.init) ?? "0") ?? 0
        let follow = query["follow"].map { $0 != "false" } ?? true
        let store = self.store
        let body = ResponseBody { writer in
            var last = after
            var quiet = 0
            // A stream ends with the server's graceful shutdown, or it would hold the shutdown open.
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let entries = try await store.outbox(after: last, limit: 200)
                for entry in entries where Self.visible(entry, to: principal) {
                    try await writer.write(ByteBuffer(string: Self.serverSentEvent(entry)))
                }
                if let newest = entries.last { last = newest.seq }
                if entries.count == 200 { continue }
                guard follow else { break }
                quiet += 1
                if quiet % 15 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                try await Task.sleep(for: .seconds(1))
            }
            try await writer.finish(nil)
        }
        var response = Response(status: .ok, body: body)
        response.headers[.contentType] = "text/event-stream"
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    /// Admins see every notification; supervisors those of their departments and feed alerts;
    /// agents those addressed to them.
    static func visible(_ entry: OutboxEntry, to principal: Principal) -> Bool {
        switch principal.role {
        case .admin: return true
        case .pbx: return false
        case .supervisor: return entry.department.map { principal.departments.contains($0) } ?? true
        case .agent: return entry.agent != nil && entry.agent == principal.agent
        }
    }

    static func serverSentEvent(_ entry: OutboxEntry) -> String {
        "id: \(entry.seq)\nevent: \(entry.kind.rawValue)\ndata: \(Self.outboxJSON(entry))\n\n"
    }

    /// One notification as a single line of JSON: the SSE `data` and the webhook body.
    package static func outboxJSON(_ entry: OutboxEntry) -> String {
        let out = JSONWriter()
        out.object {
            out.field("seq") { out.int(Int(entry.seq)) }
            out.field("key") { out.string(entry.key) }
            out.field("kind") { out.string(entry.kind.rawValue) }
            out.field("at") { out.time(entry.at) }
            out.field("contact") { out.string(entry.contact?.rawValue) }
            out.field("obligation") { out.string(entry.obligation?.rawValue) }
            out.field("violation") { out.string(entry.violation?.rawValue) }
            out.field("department") { out.string(entry.department?.rawValue) }
            out.field("agent") { out.string(entry.agent?.rawValue) }
            out.field("level") { if let level = entry.level { out.int(level) } else { out.null() } }
            out.field("detail") { out.string(entry.detail) }
        }
        // One line: the writer's newlines are only indentation.
        return out.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    // MARK: Webhooks

    /// `GET /v1/webhooks/dead-letters` (admins): notifications a webhook URL never accepted.
    private func deadLetters(_ request: Request) async throws -> Response {
        _ = try self.principal(request, allowed: [.admin])
        let limit = min(max(Int(request.uri.queryParameters["limit"].map(String.init) ?? "") ?? 1000, 1), 10_000)
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
        let text = self.metrics.exposition(totals: totals, schedulerLag: lag, followers: self.followers.snapshot())
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/plain; version=0.0.4"
        return response
    }

    // MARK: Helpers

    /// `?limit=`: 1…1000, `default` when absent.
    static func pageLimit(_ text: String?, default value: Int) throws -> Int {
        guard let text else { return value }
        guard let limit = Int(text), limit > 0 else { throw HTTPError(.badRequest, message: "limit must be a positive whole number") }
        return min(limit, 1000)
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

    /// A JSON object body; malformed JSON is a 400 that says what is wrong.
    static func jsonBody(_ request: Request, limit: Int) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        guard buffer.readableBytes > 0 else { return [:] }
        do {
            guard let object = try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] else {
                throw HTTPError(.badRequest, message: "the body must be a JSON object")
            }
            return object
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.badRequest, message: "malformed JSON: \((error as NSError).userInfo[NSDebugDescriptionErrorKey] ?? error)")
        }
    }
}
