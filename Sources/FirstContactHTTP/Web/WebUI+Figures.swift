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
        let l = self.localizer(request)
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
            return self.message(session, l, title: l(.figuresTitle), .english(error.message), status: .badRequest)
        }
        let scope = try principal.reportScope(directory: self.directory)
        let sla = try await self.state.reports.sla(scope: scope, from: period.from, to: period.to)
        let agents = try await self.state.reports.agents(scope: scope, from: period.from, to: period.to)
        let zone = self.state.engine.configuration.timezone
        let fromDay = zone.local(period.from).date.iso
        // `to` is exclusive: the form shows the last day included.
        let toDay = zone.local(period.to - 1).date.iso

        var html = "<main id=\"main\"><h1>\(l.html(.figuresTitle))</h1>"
        html += "<form class=\"filters\" method=\"get\" action=\"/ui/figures\" aria-label=\"\(l.html(.period))\">"
        html +=
            "<label>\(l.html(.from)) <input type=\"date\" name=\"from\" id=\"from\" value=\"\(HTML.escape(fromDay))\"></label>"
        html +=
            "<label>\(l.html(.toInclusive)) <input type=\"date\" name=\"to\" id=\"to\" value=\"\(HTML.escape(toDay))\"></label>"
        html += "<button type=\"submit\">\(l.html(.show))</button></form>"
        html += "<h2>\(l.html(.slaPerDepartment))</h2>"
        html += "<p class=\"muted\">\(l.html(.slaExplanation))</p>"
        html += Self.chart(sla, l, name: { self.directory.department($0)?.name ?? $0.rawValue })
        html += "<table id=\"sla\"><thead><tr>"
        for column in [Phrase.columnDepartment, .callbacksDue, .onTime, .late, .breached, .exhausted, .open] {
            html += "<th>\(l.html(column))</th>"
        }
        for column in [Phrase.attainment, .handoffsDue, .onTime, .attainment] { html += "<th>\(l.html(column))</th>" }
        html += "</tr></thead><tbody>"
        for row in sla {
            let c = row.callbacks
            let h = row.handoffs
            html +=
                "<tr><td>\(Self.data(self.directory.department(row.department)?.name ?? row.department.rawValue))</td>"
            html +=
                "<td>\(c.due)</td><td>\(c.onTime)</td><td>\(c.late)</td><td>\(c.breached)</td><td>\(c.exhausted)</td><td>\(c.open)</td>"
            html +=
                "<td>\(Self.percent(c.attainment))</td><td>\(h.due)</td><td>\(h.onTime)</td><td>\(Self.percent(h.attainment))</td></tr>"
        }
        html += "</tbody></table>"

        html += "<h2>\(l.html(.agents))</h2><p class=\"muted\">\(l.html(.praiseAndAccountability))</p>"
        html += "<table id=\"agents\"><thead><tr>"
        for column in [
            Phrase.columnAgent, .columnDepartment, .firstResponded, .settled, .firstContactResolution, .callbacksOnTime,
            .late, .handoffsAcknowledged, .acknowledgeMedianP90, .acceptedViolations, .excusedDismissedUnreviewed,
        ] {
            html += "<th>\(l.html(column))</th>"
        }
        html += "</tr></thead><tbody>"
        for a in agents {
            html +=
                "<tr><td>\(Self.data(self.directory.label(a.agent)))</td><td>\(Self.data(a.department.map { self.directory.department($0)?.name ?? $0.rawValue } ?? "-"))</td>"
            html +=
                "<td>\(a.firstResponded)</td><td>\(a.settled)</td><td>\(Self.percent(a.firstContactResolution))</td>"
            html += "<td>\(a.callbacksOnTime)</td><td>\(a.callbacksLate)</td><td>\(a.handoffsAcknowledged)</td>"
            html +=
                "<td>\(HTML.escape(l.duration(a.acknowledgeMedian))) / \(HTML.escape(l.duration(a.acknowledgeP90)))</td>"
            let accepted = a.accepted.sorted { $0.key.rawValue < $1.key.rawValue }.map {
                "\(l.label($0.key)) \($0.value)"
            }.joined(separator: ", ")
            html +=
                "<td>\(a.acceptedTotal)\(accepted.isEmpty ? "" : " <span class=\"muted\">(" + HTML.escape(accepted) + ")</span>")</td>"
            html += "<td>\(a.excused) · \(a.dismissed) · \(a.unreviewed)</td></tr>"
        }
        if agents.isEmpty { html += "<tr><td colspan=\"11\" class=\"muted\">\(l.html(.noAgentsInScope))</td></tr>" }
        html += "</tbody></table></main>"
        let here = "/ui/figures?from=\(fromDay)&to=\(toDay)"
        return Self.html(
            self.layout(
                l, title: l(.figuresTitle), session: session, current: "figures", content: html, here: here, now: now))
    }

    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.1f %%", value * 100)
    }

    /// Horizontal bars, two per department (callbacks, hand-offs), drawn by the server: no script,
    /// no external library, readable at any size (the SVG scales with the page).
    static func chart(_ rows: [Reports.DepartmentSLA], _ l: Localizer, name: (DepartmentID) -> String) -> String {
        let barHeight = 18
        let gap = 8
        let label = 150
        let width = 640
        let height = max(1, rows.count) * (2 * barHeight + 3 * gap) + 24
        var svg =
            "<svg id=\"sla-chart\" role=\"img\" aria-labelledby=\"sla-chart-title\" viewBox=\"0 0 \(width + 70) \(height)\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<title id=\"sla-chart-title\">\(l.html(.slaPerDepartment))</title>"
        var y = 8
        for row in rows {
            svg +=
                "<text x=\"0\" y=\"\(y + barHeight)\" font-size=\"14\" translate=\"no\">\(HTML.escape(name(row.department)))</text>"
            for (kind, outcomes, color) in [
                (ObligationKind.callback, row.callbacks, "#0969da"), (.handoff, row.handoffs, "#8250df"),
            ] {
                let share = outcomes.attainment ?? 0
                let length = Int((Double(width - label) * share).rounded())
                let series = kind == .callback ? "callbacks" : "hand-offs"
                let title = l(
                    .chartBar, name(row.department), l.label(kind), Self.percent(outcomes.attainment),
                    String(outcomes.decided))
                svg +=
                    "<rect x=\"\(label)\" y=\"\(y)\" width=\"\(width - label)\" height=\"\(barHeight)\" fill=\"#eaeef2\"/>"
                svg +=
                    "<rect class=\"bar\" data-kind=\"\(series)\" data-department=\"\(HTML.escape(row.department.rawValue))\" x=\"\(label)\" y=\"\(y)\" width=\"\(length)\" height=\"\(barHeight)\" fill=\"\(color)\"><title translate=\"no\">\(HTML.escape(title))</title></rect>"
                svg +=
                    "<text x=\"\(width + 4)\" y=\"\(y + barHeight - 4)\" font-size=\"13\">\(kind == .callback ? "☎" : "⇄") \(Self.percent(outcomes.attainment))</text>"
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
        let l = self.localizer(request)
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), l, l(.formNotFromSession))
        }
        let principal = session.principal
        guard let action = ContactAction(rawValue: name) else {
            return self.message(session, l, title: l(.notFound), .text(l(.noSuchAction, name)), status: .notFound)
        }
        guard action.roles.contains(principal.role),
            let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, l, l(.mayNotActOnContact, id.rawValue)) }
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
                    session, l, title: l(.notRecorded), .text(l(.nameTheAgent)), status: .badRequest)
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
            return self.message(session, l, title: l(.notRecorded), .english(error.description), status: .badRequest)
        }
        // Every obligation the action may have changed (cancelled, added) is looked at again by open boards.
        let touched = Set(detail.contact.obligations.map(\.id) + after.contact.obligations.map(\.id))
        for o in detail.contact.obligations + after.contact.obligations where touched.contains(o.id) {
            self.changes.publish(action.rawValue, contact: id, obligation: o.id, department: o.owner.department)
        }
        return Self.seeOther("/ui/contacts/" + HTML.urlComponent(id.rawValue))
    }

    /// The forms for a contact's actions (shown to whoever may see the contact; the engine judges).
    func actionForms(_ contact: Contact, _ session: WebSession, _ l: Localizer) -> String {
        guard ContactAction.notes.roles.contains(session.principal.role) else { return "" }
        let base = "/ui/contacts/\(HTML.urlComponent(contact.id.rawValue))/"
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">"
        func form(_ action: String, _ id: String) -> String {
            "<form class=\"card\" method=\"post\" action=\"\(HTML.escape(base))\(action)\" id=\"\(id)\">\(csrf)"
        }
        func input(_ label: Phrase, _ attributes: String) -> String {
            "<label>\(l.html(label)) <input \(attributes)></label>"
        }
        func button(_ label: Phrase, primary: Bool = false) -> String {
            "<button type=\"submit\"\(primary ? " class=\"primary\"" : "")>\(l.html(label))</button></form>"
        }
        var html = "<h2>\(l.html(.act))</h2><div class=\"actions\">"
        html += form("notes", "form-note")
        html +=
            "<label>\(l.html(.note)) <textarea name=\"text\" rows=\"2\" cols=\"50\" required></textarea></label>"
            + button(.addNote)
        if [.open, .awaitingCallback, .handedOff].contains(contact.status) {
            html += form("resolve", "form-resolve")
            html += input(.howSettled, "name=\"note\" required size=\"50\"") + button(.resolve, primary: true)
            html += form("refer", "form-refer")
            html += input(.referredTo, "name=\"to\" required")
            html += input(.customerWasTold, "name=\"told\" required size=\"40\"") + button(.referOut)
            html += form("handoff", "form-handoff")
            html += "<label>\(l.html(.toDepartment)) <select name=\"department\" required>"
            for d in self.engine.configuration.departments {
                html += HTML.option(d.id.rawValue, d.name, current: nil, data: true)
            }
            html += "</select></label>" + input(.agentOptional, "name=\"agent\" size=\"6\"")
            html += input(.customerUnit, "name=\"unit\"") + input(.name, "name=\"name\" required")
            html += input(.phone, "name=\"phone\" required") + input(.matter, "name=\"matter\" required size=\"40\"")
            html += input(.place, "name=\"place\"") + button(.handOff)
        }
        if ContactAction.reassign.roles.contains(session.principal.role) {
            let agents = self.engine.configuration.agents
            html += form("reassign", "form-reassign")
            html += "<label>\(l.html(.newFirstResponder)) <select name=\"agent\" required>"
            for agent in agents {
                html += HTML.option(agent.id.rawValue, "\(agent.id.rawValue) \(agent.name)", current: nil, data: true)
            }
            html += "</select></label>" + input(.reason, "name=\"reason\" required size=\"40\"") + button(.reassign)
            html += form("complaints", "form-complaint")
            html +=
                "<label>\(l.html(.complaintAbout)) <textarea name=\"text\" rows=\"2\" cols=\"50\" required></textarea></label>"
            html += button(.recordComplaint)
            html += form("poor-service", "form-poor-service")
            html += input(.agentDefaultFirstResponder, "name=\"agent\" size=\"6\"")
            html += input(.whatHappened, "name=\"text\" required size=\"40\"") + button(.recordPoorService)
        }
        return html + "</div>"
    }
}
