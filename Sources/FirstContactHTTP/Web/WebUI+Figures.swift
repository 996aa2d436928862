import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Hummingbird

/// The figures page (SLA attainment per department as a server-rendered SVG chart, per-agent
/// figures for praise and accountability, POLICY art. 19–20) and the people's actions on a
/// contact (note, resolve, refer out, hand off). Numbers come from ``Reports``; actions go through
/// `Engine.record`, the same rules as `POST /v1/contacts/{id}/…`.
extension WebUI {
    func registerFiguresAndActions(on router: Router<AppRequestContext>) {
        router.get("ui/figures") { request, _ in
            guard let session = self.session(request) else { return Response.redirect(to: "/ui/login") }
            return try await self.figures(request, session)
        }
        router.post("ui/contacts/:id/:action") { request, context in
            try await self.contactAction(
                request, ContactID(try context.parameters.require("id")), try context.parameters.require("action"))
        }
    }

    // MARK: Figures

    private func figures(_ request: Request, _ session: WebSession) async throws -> Response {
        let principal = session.principal
        let query = Self.query(request)
        let now = self.state.scheduler.clock.now()
        let newest = try await self.state.reports.newestData()
        let period: (from: Timestamp, to: Timestamp)
        do {
            period = try Reports.period(
                from: query["from"].flatMap { $0.isEmpty ? nil : $0 },
                to: query["to"].flatMap { $0.isEmpty ? nil : $0 },
                now: now, newest: newest, zone: self.state.engine.configuration.timezone)
        } catch let error as PeriodError {
            return self.message(session, title: "Figures", error.message, status: .badRequest)
        }
        let scope = try principal.reportScope(directory: self.directory)
        let sla = try await self.state.reports.sla(scope: scope, from: period.from, to: period.to)
        let agents = try await self.state.reports.agents(scope: scope, from: period.from, to: period.to)
        let zone = self.state.engine.configuration.timezone
        let fromDay = zone.local(period.from).date.iso
        // `to` is exclusive: the form shows the last day included.
        let toDay = zone.local(period.to - 1).date.iso

        var html = "<main id=\"main\"><h1>Figures</h1>"
        html += "<form class=\"filters\" method=\"get\" action=\"/ui/figures\" aria-label=\"Period\">"
        html += "<label>From <input type=\"date\" name=\"from\" id=\"from\" value=\"\(HTML.escape(fromDay))\"></label>"
        html +=
            "<label>To (inclusive) <input type=\"date\" name=\"to\" id=\"to\" value=\"\(HTML.escape(toDay))\"></label>"
        html += "<button type=\"submit\">Show</button></form>"
        html += "<h2>SLA attainment per department</h2>"
        html +=
            "<p class=\"muted\">Obligations due in the period: on time ÷ decided (on time, late, breached, exhausted).</p>"
        html += Self.chart(sla, name: { self.directory.department($0)?.name ?? $0.rawValue })
        html +=
            "<table id=\"sla\"><thead><tr><th>Department</th><th>Callbacks due</th><th>On time</th><th>Late</th><th>Breached</th>"
        html +=
            "<th>Exhausted</th><th>Open</th><th>Attainment</th><th>Hand-offs due</th><th>On time</th><th>Attainment</th></tr></thead><tbody>"
        for row in sla {
            let c = row.callbacks
            let h = row.handoffs
            html +=
                "<tr><td>\(HTML.escape(self.directory.department(row.department)?.name ?? row.department.rawValue))</td>"
            html +=
                "<td>\(c.due)</td><td>\(c.onTime)</td><td>\(c.late)</td><td>\(c.breached)</td><td>\(c.exhausted)</td><td>\(c.open)</td>"
            html +=
                "<td>\(Self.percent(c.attainment))</td><td>\(h.due)</td><td>\(h.onTime)</td><td>\(Self.percent(h.attainment))</td></tr>"
        }
        html += "</tbody></table>"

        html +=
            "<h2>Agents</h2><p class=\"muted\">Praise (art. 19) and accountability (art. 20): only violations a supervisor accepted count against an agent.</p>"
        html +=
            "<table id=\"agents\"><thead><tr><th>Agent</th><th>Department</th><th>First responded</th><th>Settled</th>"
        html +=
            "<th>First-contact resolution</th><th>Callbacks on time</th><th>Late</th><th>Hand-offs acknowledged</th>"
        html +=
            "<th>Acknowledge median / p90</th><th>Accepted violations</th><th>Excused · dismissed · unreviewed</th></tr></thead><tbody>"
        for a in agents {
            html +=
                "<tr><td>\(HTML.escape(self.directory.label(a.agent)))</td><td>\(HTML.escape(a.department.map { self.directory.department($0)?.name ?? $0.rawValue } ?? "-"))</td>"
            html +=
                "<td>\(a.firstResponded)</td><td>\(a.settled)</td><td>\(Self.percent(a.firstContactResolution))</td>"
            html += "<td>\(a.callbacksOnTime)</td><td>\(a.callbacksLate)</td><td>\(a.handoffsAcknowledged)</td>"
            html += "<td>\(Self.minutes(a.acknowledgeMedian)) / \(Self.minutes(a.acknowledgeP90))</td>"
            let accepted = a.accepted.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                "\($0.key.rawValue) \($0.value)"
            }.joined(separator: ", ")
            html +=
                "<td>\(a.acceptedTotal)\(accepted.isEmpty ? "" : " <span class=\"muted\">(" + HTML.escape(accepted) + ")</span>")</td>"
            html += "<td>\(a.excused) · \(a.dismissed) · \(a.unreviewed)</td></tr>"
        }
        if agents.isEmpty { html += "<tr><td colspan=\"11\" class=\"muted\">No agents in your scope.</td></tr>" }
        html += "</tbody></table></main>"
        return Self.html(self.layout(title: "Figures", session: session, current: "figures", content: html, now: now))
    }

    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.1f %%", value * 100)
    }

    private static func minutes(_ seconds: Int64?) -> String {
        guard let seconds else { return "–" }
        return seconds < 3600 ? "\(seconds / 60)m" : "\(seconds / 3600)h \(seconds % 3600 / 60)m"
    }

    /// Horizontal bars, two per department (callbacks, hand-offs), drawn by the server: no script,
    /// no external library, readable at any size (the SVG scales with the page).
    static func chart(_ rows: [Reports.DepartmentSLA], name: (DepartmentID) -> String) -> String {
        let barHeight = 18
        let gap = 8
        let label = 150
        let width = 640
        let height = max(1, rows.count) * (2 * barHeight + 3 * gap) + 24
        var svg =
            "<svg id=\"sla-chart\" role=\"img\" aria-labelledby=\"sla-chart-title\" viewBox=\"0 0 \(width + 70) \(height)\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title id=\"sla-chart-title\">SLA attainment per department</title>"
        var y = 8
        for row in rows {
            svg += "<text x=\"0\" y=\"\(y + barHeight)\" font-size=\"14\">\(HTML.escape(name(row.department)))</text>"
            for (kind, outcomes, color) in [
                ("callbacks", row.callbacks, "#0969da"), ("hand-offs", row.handoffs, "#8250df"),
            ] {
                let share = outcomes.attainment ?? 0
                let length = Int((Double(width - label) * share).rounded())
                svg +=
                    "<rect x=\"\(label)\" y=\"\(y)\" width=\"\(width - label)\" height=\"\(barHeight)\" fill=\"#eaeef2\"/>"
                svg +=
                    "<rect class=\"bar\" data-kind=\"\(kind)\" data-department=\"\(HTML.escape(row.department.rawValue))\" x=\"\(label)\" y=\"\(y)\" width=\"\(length)\" height=\"\(barHeight)\" fill=\"\(color)\"><title>\(HTML.escape(name(row.department))) \(kind): \(Self.percent(outcomes.attainment)) of \(outcomes.decided) decided</title></rect>"
                svg +=
                    "<text x=\"\(width + 4)\" y=\"\(y + barHeight - 4)\" font-size=\"13\">\(kind == "callbacks" ? "☎" : "⇄") \(Self.percent(outcomes.attainment))</text>"
                y += barHeight + gap
            }
            y += gap
        }
        return svg + "</svg>"
    }

    // MARK: Actions on a contact

    /// `POST /ui/contacts/{id}/{notes|resolve|refer|handoff|reassign|complaints|poor-service}`: as
    /// `POST /v1/contacts/{id}/…`, with the same roles (the last three are a supervisor's).
    private func contactAction(_ request: Request, _ id: ContactID, _ name: String) async throws -> Response {
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), "The form was not from this session.")
        }
        let principal = session.principal
        guard let action = ContactAction(rawValue: name) else {
            return self.message(session, title: "Not found", "No action \(name).", status: .notFound)
        }
        guard action.roles.contains(principal.role),
            let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, "You may not act on contact \(id).") }
        let text = { (key: String) in form[key] ?? "" }
        let kind: ManualAction.Kind
        switch action {
        case .notes: kind = .note(contact: id, text: text("text"))
        case .resolve: kind = .resolve(contact: id, note: text("note"))
        case .refer: kind = .referOut(contact: id, body: text("to"), told: text("told"))
        case .reassign: kind = .reassign(contact: id, to: AgentID(text("agent")), reason: text("reason"))
        case .complaints: kind = .complaint(contact: id, text: text("text"))
        case .poorService:
            let named = text("agent").trimmingCharacters(in: .whitespaces)
            guard let agent = named.isEmpty ? detail.contact.firstResponder?.agent : AgentID(named) else {
                return self.message(
                    session, title: "Not recorded", "Name the agent: the contact has no first responder.",
                    status: .badRequest)
            }
            kind = .poorService(contact: id, agent: agent, text: text("text"))
        case .handoff:
            let agent = text("agent").trimmingCharacters(in: .whitespaces)
            kind = .handoff(
                contact: id,
                to: Owner(department: DepartmentID(text("department")), agent: agent.isEmpty ? nil : AgentID(agent)),
                registration: HandoffRegistration(
                    unit: text("unit"), name: text("name"), phone: text("phone"), matter: text("matter"),
                    place: text("place")))
        }
        let after: ContactDetail
        do {
            after = try await self.engine.record(
                kind, by: principal.agent ?? AgentID(principal.name), at: self.state.scheduler.clock.now(),
                store: self.store,
                current: detail.contact)
        } catch let error as ActionError {
            return self.message(session, title: "Not recorded", error.description, status: .badRequest)
        }
        // Every obligation the action may have changed (cancelled, added) is looked at again by open boards.
        let touched = Set(detail.contact.obligations.map(\.id) + after.contact.obligations.map(\.id))
        for o in detail.contact.obligations + after.contact.obligations where touched.contains(o.id) {
            self.changes.publish(action.rawValue, contact: id, obligation: o.id, department: o.owner.department)
        }
        return Self.seeOther("/ui/contacts/" + HTML.urlComponent(id.rawValue))
    }

    /// The forms for a contact's actions (shown to whoever may see the contact; the engine judges).
    func actionForms(_ contact: Contact, _ session: WebSession) -> String {
        guard ContactAction.notes.roles.contains(session.principal.role) else { return "" }
        let base = "/ui/contacts/\(HTML.urlComponent(contact.id.rawValue))/"
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">"
        var html = "<h2>Act</h2><div class=\"actions\">"
        html += "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))notes\" id=\"form-note\">\(csrf)"
        html +=
            "<label>Note <textarea name=\"text\" rows=\"2\" cols=\"50\" required></textarea></label><button type=\"submit\">Add note</button></form>"
        if [.open, .awaitingCallback, .handedOff].contains(contact.status) {
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))resolve\" id=\"form-resolve\">\(csrf)"
            html +=
                "<label>How it was settled <input name=\"note\" required size=\"50\"></label><button type=\"submit\" class=\"primary\">Resolve</button></form>"
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))refer\" id=\"form-refer\">\(csrf)"
            html += "<label>Referred to (outside body) <input name=\"to\" required></label>"
            html +=
                "<label>What the customer was told <input name=\"told\" required size=\"40\"></label><button type=\"submit\">Refer out</button></form>"
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))handoff\" id=\"form-handoff\">\(csrf)"
            html += "<label>To department <select name=\"department\" required>"
            for d in self.engine.configuration.departments { html += HTML.option(d.id.rawValue, d.name, current: nil) }
            html += "</select></label><label>Agent (optional) <input name=\"agent\" size=\"6\"></label>"
            html +=
                "<label>Customer's unit <input name=\"unit\"></label><label>Name <input name=\"name\" required></label>"
            html +=
                "<label>Phone <input name=\"phone\" required></label><label>Matter <input name=\"matter\" required size=\"40\"></label>"
            html += "<label>Place <input name=\"place\"></label><button type=\"submit\">Hand off</button></form>"
        }
        if ContactAction.reassign.roles.contains(session.principal.role) {
            let agents = self.engine.configuration.agents
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))reassign\" id=\"form-reassign\">\(csrf)"
            html += "<label>New first responder <select name=\"agent\" required>"
            for agent in agents {
                html += HTML.option(agent.id.rawValue, "\(agent.id.rawValue) \(agent.name)", current: nil)
            }
            html +=
                "</select></label><label>Why <input name=\"reason\" required size=\"40\"></label><button type=\"submit\">Reassign</button></form>"
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))complaints\" id=\"form-complaint\">\(csrf)"
            html +=
                "<label>Complaint about this contact (against its first responder) <textarea name=\"text\" rows=\"2\" cols=\"50\" required></textarea></label>"
            html += "<button type=\"submit\">Record complaint</button></form>"
            html +=
                "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))poor-service\" id=\"form-poor-service\">\(csrf)"
            html += "<label>Agent (default: the first responder) <input name=\"agent\" size=\"6\"></label>"
            html +=
                "<label>What happened <input name=\"text\" required size=\"40\"></label><button type=\"submit\">Record poor service</button></form>"
        }
        return html + "</div>"
    }
}
