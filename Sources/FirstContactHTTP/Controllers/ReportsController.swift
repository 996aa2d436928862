import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/reports/…`: the missed-callback board, SLA attainment and per-agent figures, scoped
/// like the other routes (admins all, supervisors their departments, agents their own, pbx 403).
struct ReportsController {
    let api: API

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/reports/missed-callbacks") { request, context in
            try await self.missedCallbacksReport(request, context)
        }
        routes.add(.get, "v1/reports/sla") { request, context in try await self.slaReport(request, context) }
        routes.add(.get, "v1/reports/agents") { request, context in try await self.agentsReport(request, context) }
    }

    static func reportPeriod(_ request: Request, now: Timestamp, newest: Timestamp?, zone: ZoneRules) throws -> (
        from: Timestamp, to: Timestamp
    ) {
        do {
            return try Reports.period(
                from: request.queryText("from"), to: request.queryText("to"), now: now, newest: newest, zone: zone)
        } catch let error as PeriodError {
            throw HTTPError(.badRequest, message: error.message)
        }
    }

    /// `GET /v1/reports/missed-callbacks`: every callback and hand-off still owed, overdue first.
    func missedCallbacksReport(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let now = self.api.scheduler.clock.now()
        let entries = try await self.api.reports.missedCallbacks(
            scope: try principal.reportScope(directory: self.api.engine.directory), now: now)
        let directory = self.api.engine.directory
        let out = JSONWriter()
        out.object {
            out.field("now") { out.time(now) }
            out.field("obligations") {
                out.array(entries) { entry in
                    let o = entry.row.obligation
                    out.object {
                        out.field("obligation") { out.string(o.id.rawValue) }
                        out.field("kind") { out.string(o.kind.rawValue) }
                        out.field("contact") { out.string(entry.row.contact.rawValue) }
                        out.field("customer") { out.string(entry.row.customer) }
                        out.field("owner") {
                            out.object {
                                out.field("department") { out.string(o.owner.department.rawValue) }
                                out.field("agent") { out.string(o.owner.agent?.rawValue) }
                                out.field("name") {
                                    out.string(
                                        o.owner.agent.map { directory.agent($0)?.name ?? $0.rawValue }
                                            ?? directory.department(o.owner.department)?.name)
                                }
                            }
                        }
                        out.field("created_at") { out.time(o.createdAt) }
                        out.field("due_at") { out.time(o.dueAt) }
                        out.field("ack_due_at") { out.time(o.ackDueAt) }
                        out.field("acknowledged_at") { out.time(o.acknowledgedAt) }
                        out.field("deadline") { out.time(entry.deadline) }
                        out.field("seconds_left") { out.int(Int(entry.secondsLeft)) }
                        out.field("state") { out.string(o.state.rawValue) }
                        out.field("overdue") { out.bool(entry.overdue) }
                        out.field("at_risk") { out.bool(o.atRisk) }
                        out.field("uncertain") { out.bool(o.uncertain) }
                        out.field("attempts") { out.int(o.attempts) }
                        out.field("missed_count") { out.int(o.missedCount) }
                        out.field("escalation_level") { out.int(o.escalationLevel) }
                    }
                }
            }
        }
        return API.json(out.text)
    }

    /// `GET /v1/reports/sla?from=&to=`: attainment per owning department for obligations due in the period.
    func slaReport(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let scope = try principal.reportScope(directory: self.api.engine.directory)
        let period = try Self.reportPeriod(
            request, now: self.api.scheduler.clock.now(), newest: try await self.api.reports.newestData(),
            zone: self.api.engine.configuration.timezone)
        let rows = try await self.api.reports.sla(scope: scope, from: period.from, to: period.to)
        let out = JSONWriter()
        func outcomes(_ o: Reports.Outcomes) {
            out.object {
                out.field("due") { out.int(o.due) }
                out.field("on_time") { out.int(o.onTime) }
                out.field("late") { out.int(o.late) }
                out.field("breached") { out.int(o.breached) }
                out.field("exhausted") { out.int(o.exhausted) }
                out.field("open") { out.int(o.open) }
                out.field("cancelled") { out.int(o.cancelled) }
                out.field("decided") { out.int(o.decided) }
                out.field("attainment") { out.number(o.attainment) }
            }
        }
        out.object {
            out.field("from") { out.time(period.from) }
            out.field("to") { out.time(period.to) }
            out.field("departments") {
                out.array(rows) { row in
                    out.object {
                        out.field("department") { out.string(row.department.rawValue) }
                        out.field("name") { out.string(self.api.engine.directory.department(row.department)?.name) }
                        out.field("callbacks") { outcomes(row.callbacks) }
                        out.field("handoffs") { outcomes(row.handoffs) }
                    }
                }
            }
        }
        return API.json(out.text)
    }

    /// `GET /v1/reports/agents?from=&to=`: per-agent figures for praise and accountability.
    func agentsReport(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let scope = try principal.reportScope(directory: self.api.engine.directory)
        let period = try Self.reportPeriod(
            request, now: self.api.scheduler.clock.now(), newest: try await self.api.reports.newestData(),
            zone: self.api.engine.configuration.timezone)
        let rows = try await self.api.reports.agents(scope: scope, from: period.from, to: period.to)
        let out = JSONWriter()
        out.object {
            out.field("from") { out.time(period.from) }
            out.field("to") { out.time(period.to) }
            out.field("agents") {
                out.array(rows) { row in
                    out.object {
                        out.field("agent") { out.string(row.agent.rawValue) }
                        out.field("name") { out.string(self.api.engine.directory.agent(row.agent)?.name) }
                        out.field("department") { out.string(row.department?.rawValue) }
                        out.field("first_responded") { out.int(row.firstResponded) }
                        out.field("first_contact_resolution") {
                            out.object {
                                out.field("settled") { out.int(row.settled) }
                                out.field("repeated") { out.int(row.repeated) }
                                out.field("resolved_first_time") { out.int(row.resolvedFirstTime) }
                                out.field("rate") { out.number(row.firstContactResolution) }
                            }
                        }
                        out.field("callbacks") {
                            out.object {
                                out.field("on_time") { out.int(row.callbacksOnTime) }
                                out.field("late") { out.int(row.callbacksLate) }
                            }
                        }
                        out.field("handoff_acknowledgement") {
                            out.object {
                                out.field("count") { out.int(row.handoffsAcknowledged) }
                                out.field("median_seconds") {
                                    row.acknowledgeMedian.map { out.int(Int($0)) } ?? out.null()
                                }
                                out.field("p90_seconds") { row.acknowledgeP90.map { out.int(Int($0)) } ?? out.null() }
                            }
                        }
                        out.field("violations") {
                            out.object {
                                out.field("accepted") { out.int(row.acceptedTotal) }
                                out.field("accepted_by_category") {
                                    out.object {
                                        for category in ViolationCategory.allCases {
                                            out.field(category.rawValue) { out.int(row.accepted[category] ?? 0) }
                                        }
                                    }
                                }
                                out.field("excused") { out.int(row.excused) }
                                out.field("dismissed") { out.int(row.dismissed) }
                                out.field("unreviewed") { out.int(row.unreviewed) }
                            }
                        }
                    }
                }
            }
        }
        return API.json(out.text)
    }
}
