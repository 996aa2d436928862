import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// The web pages for supervisors and agents under `/ui`: sign-in with the API token (exchanged for
/// a session cookie), the missed-callback board, a contact's page, the agent's "my work" list and
/// violation review. Rendered on the server; one small script adds countdowns and live updates.
///
/// Roles and scope are the API's: the same `Principal`, the same `Scope`, the same `Engine`
/// actions. Differences that are on purpose: an out-of-scope (or missing) contact is a 403 page,
/// not the API's 404; a page without a session redirects to the sign-in form instead of 401.
package struct WebUI: Sendable {
    /// What the pages share with the API's controllers (not the API itself).
    package let state: ServiceState
    package let sessions: WebSessions
    private let outboxHead = OutboxHead()

    /// Rows per board page: enough for a wall display, few enough that a page renders at once.
    package static let pageSize = 100

    package init(state: ServiceState, sessions: WebSessions) {
        self.state = state
        self.sessions = sessions
    }

    var engine: Engine { self.state.engine }
    var store: any ContactStore { self.state.store }
    var directory: Directory { self.state.engine.directory }
    var changes: LiveChanges { self.state.changes }

    /// Adds the pages to `router` (the API's router: one server, one port).
    package func register(on router: Router<AppRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/ui/", type: .normal) }
        router.get("ui") { request, _ in
            guard let session = self.session(request) else { return Response.redirect(to: "/ui/login") }
            return Response.redirect(to: session.principal.role == .agent ? "/ui/my" : "/ui/board")
        }
        router.get("ui/assets/app.css") { _, _ in Self.asset(WebAssets.css, type: "text/css; charset=utf-8") }
        router.get("ui/assets/app.js") { _, _ in Self.asset(WebAssets.js, type: "text/javascript; charset=utf-8") }
        router.get("ui/login") { request, _ in self.signInPage(request, error: nil) }
        router.post("ui/login") { request, _ in try await self.signIn(request) }
        router.post("ui/logout") { request, _ in try await self.signOut(request) }
        router.get("ui/board") { request, _ in try await self.withSession(request) { try await self.board(request, $0) }
        }
        router.get("ui/board/row") { request, _ in
            guard let session = self.session(request) else { return Self.html("", status: .unauthorized) }
            return try await self.boardRow(request, session)
        }
        router.get("ui/board/totals") { request, _ in
            guard let session = self.session(request) else { return Self.html("", status: .unauthorized) }
            return try await self.boardTotals(request, session)
        }
        router.get("ui/contacts/:id") { request, context in
            try await self.withSession(request) { try await self.contactPage(try context.parameters.require("id"), $0) }
        }
        router.get("ui/my") { request, _ in try await self.withSession(request) { try await self.myWork($0) } }
        router.post("ui/obligations/:id/ack") { request, context in
            try await self.acknowledge(request, ObligationID(try context.parameters.require("id")))
        }
        router.get("ui/violations") { request, _ in
            try await self.withSession(request) { try await self.violationsPage(request, $0) }
        }
        router.post("ui/violations/:id/review") { request, context in
            try await self.review(request, ViolationID(try context.parameters.require("id")))
        }
        router.get("ui/events") { request, _ in
            guard let session = self.session(request) else { return Self.html("", status: .unauthorized) }
            return try await self.events(request, session)
        }
        self.registerFiguresAndActions(on: router)
    }

    // MARK: Sessions

    func session(_ request: Request) -> WebSession? {
        self.sessions.session(request.cookies[WebSessions.cookie]?.value)
    }

    func withSession(_ request: Request, _ body: (WebSession) async throws -> Response) async throws -> Response {
        guard let session = self.session(request) else { return Response.redirect(to: "/ui/login") }
        return try await body(session)
    }

    /// Behind a TLS-terminating proxy the cookies are marked `Secure`.
    static func secure(_ request: Request) -> Bool {
        HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] }?.lowercased() == "https"
    }

    func signInPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        // Double submit: the form's hidden value must match this browser's cookie, so another site
        // cannot sign a victim's browser in with the attacker's token.
        let nonce = WebSessions.randomToken()
        let form = """
            <main class="signin card" id="main">
            <h1>FirstContact</h1>
            <p>Sign in with your token.</p>
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"signin-error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/ui/login">
            <input type="hidden" name="nonce" value="\(nonce)">
            <label>Token <input type="password" name="token" id="token" autocomplete="current-password" required autofocus></label>
            <p><button class="primary" type="submit" id="signin">Sign in</button></p>
            </form>
            </main>
            """
        var response = Self.html(
            self.layout(title: "Sign in", session: nil, current: "", content: form), status: status)
        response.setCookie(
            Cookie(
                name: WebSessions.loginCookie, value: nonce, maxAge: 600, path: "/ui/login",
                secure: Self.secure(request),
                httpOnly: true, sameSite: .strict))
        return response
    }

    func signIn(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard WebSessions.sameToken(form["nonce"], request.cookies[WebSessions.loginCookie]?.value ?? "") else {
            return self.signInPage(request, error: "The sign-in form expired; try again.", status: .forbidden)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty,
            let principal = Principal.authenticate(
                authorization: "Bearer " + token, tokens: self.engine.configuration.tokens)
        else {
            return self.signInPage(request, error: "Unknown token.", status: .unauthorized)
        }
        guard [.agent, .supervisor, .admin].contains(principal.role) else {
            return self.signInPage(
                request, error: "A \(principal.role.rawValue) token cannot sign in to the pages.", status: .forbidden)
        }
        let session = self.sessions.start(principal)
        var response = Response.redirect(to: principal.role == .agent ? "/ui/my" : "/ui/board", type: .found)
        response.status = .seeOther
        response.setCookie(
            Cookie(
                name: WebSessions.cookie, value: session.id, path: "/", secure: Self.secure(request), httpOnly: true,
                sameSite: .strict))
        return response
    }

    func signOut(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard let session = self.session(request) else { return Self.seeOther("/ui/login") }
        guard WebSessions.sameToken(form["csrf"], session.csrf) else {
            return self.forbidden(session, "The form was not from this session.")
        }
        self.sessions.end(session.id)
        var response = Self.seeOther("/ui/login")
        response.setCookie(
            Cookie(
                name: WebSessions.cookie, value: "", maxAge: 0, path: "/", secure: Self.secure(request), httpOnly: true,
                sameSite: .strict))
        return response
    }

    /// A POST's form, its session, and the CSRF check; nil (with the 403 page to send) when any fails.
    func post(_ request: Request) async throws -> (WebSession, [String: String])? {
        let form = try await Self.form(request)
        guard let session = self.session(request), WebSessions.sameToken(form["csrf"], session.csrf) else { return nil }
        return (session, form)
    }

    // MARK: Board

    /// The board's filters, from the query string.
    struct BoardFilter: Sendable {
        enum Standing: String, CaseIterable, Sendable {
            case overdue
            case atRisk = "at_risk"
            case onTime = "on_time"
            case awaitingAck = "awaiting_ack"

            var label: String {
                switch self {
                case .overdue: "overdue"
                case .atRisk: "at risk"
                case .onTime: "on time"
                case .awaitingAck: "hand-off awaiting acknowledgement"
                }
            }
        }

        var department: DepartmentID?
        var standing: Standing?
        var kind: ObligationKind?
        /// An agent id, or `department` for obligations no single person owes.
        var owner: String?
        var page = 1

        init(_ query: [String: String]) {
            self.department = query["department"].flatMap { $0.isEmpty ? nil : DepartmentID($0) }
            self.standing = query["state"].flatMap(Standing.init(rawValue:))
            self.kind = query["kind"].flatMap(ObligationKind.init(rawValue:))
            self.owner = query["owner"].flatMap { $0.isEmpty ? nil : $0 }
            self.page = max(1, Int(query["page"] ?? "") ?? 1)
        }

        /// The query string that reproduces these filters (without the page).
        var query: String {
            var parts: [String] = []
            if let department { parts.append("department=" + HTML.urlComponent(department.rawValue)) }
            if let standing { parts.append("state=" + standing.rawValue) }
            if let kind { parts.append("kind=" + kind.rawValue) }
            if let owner { parts.append("owner=" + HTML.urlComponent(owner)) }
            return parts.joined(separator: "&")
        }

        func matches(_ entry: BoardEntry) -> Bool {
            let o = entry.obligation
            if let department, o.owner.department != department { return false }
            if let kind, o.kind != kind { return false }
            if let owner {
                if owner == "department" {
                    if o.owner.agent != nil { return false }
                } else if o.owner.agent?.rawValue != owner {
                    return false
                }
            }
            switch self.standing {
            case nil: return true
            case .overdue: return entry.overdue
            case .atRisk: return !entry.overdue && o.atRisk
            case .onTime: return !entry.overdue && !o.atRisk
            case .awaitingAck: return o.kind == .handoff && o.acknowledgedAt == nil
            }
        }
    }

    /// One outstanding obligation on the board, with where it sorts.
    struct BoardEntry: Sendable {
        var obligation: Obligation
        var contact: ContactID
        var customer: String
        /// The next clock that matters: the acknowledge clock of an unread hand-off, else the due time.
        var deadline: Timestamp
        var overdue: Bool

        /// A line of the missed-callback report (the board's rows come from ``Reports``).
        init(_ entry: Reports.BoardEntry) {
            self.obligation = entry.row.obligation
            self.contact = entry.row.contact
            self.customer = entry.row.customer
            self.deadline = entry.deadline
            self.overdue = entry.overdue
        }

        /// One obligation of a loaded contact (its page, "my work", a live row), as the report would
        /// show it: the same deadline rule as ``Reports/missedCallbacks(scope:now:)``.
        init(_ obligation: Obligation, of contact: Contact, now: Timestamp) {
            self.obligation = obligation
            self.contact = contact.id
            self.customer = contact.customer.text
            self.deadline = obligation.deadline
            self.overdue = obligation.state == .breached || self.deadline <= now
        }

        /// Overdue first, then at risk, then the rest; within each, by deadline (then id, so the
        /// order is total and the script can insert a live row in its place by comparing strings).
        var rank: String {
            let group = self.overdue ? 0 : self.obligation.atRisk ? 1 : 2
            let due = String(self.deadline.seconds + 100_000_000_000)
            return "\(group)-\(due)-\(self.obligation.id.rawValue)"
        }
    }

    /// Whether the principal answers for this obligation (not just for its contact): whether it
    /// counts on their board, as the missed-callback report decides.
    func owns(_ principal: Principal, _ o: Obligation) -> Bool {
        (try? principal.reportScope(directory: self.directory))?.covers(o) ?? false
    }

    /// The missed-callback report in the principal's scope (already in board order), filtered.
    func boardEntries(_ principal: Principal, _ filter: BoardFilter, now: Timestamp) async throws -> [BoardEntry] {
        try await self.state.reports.missedCallbacks(
            scope: try principal.reportScope(directory: self.directory), now: now
        )
        .map { BoardEntry($0) }.filter { filter.matches($0) }
    }

    func board(_ request: Request, _ session: WebSession) async throws -> Response {
        let principal = session.principal
        let query = Self.query(request)
        let filter = BoardFilter(query)
        let now = self.state.scheduler.clock.now()
        let outboxSeq = try await self.currentOutboxSeq()
        let liveSeq = self.changes.head
        let entries = try await self.boardEntries(principal, filter, now: now)
        let pages = max(1, (entries.count + Self.pageSize - 1) / Self.pageSize)
        let page = min(filter.page, pages)
        let shown = entries.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)
        let totals = BoardTotals(entries)

        var html = "<main id=\"main\"><h1>Missed callbacks and hand-offs</h1>"
        html +=
            "<p class=\"summary\"><strong id=\"total\">\(totals.open)</strong> open · <span class=\"late\"><span id=\"total-overdue\">\(totals.overdue)</span> overdue</span> · "
        html +=
            "<span class=\"risk\"><span id=\"total-at-risk\">\(totals.atRisk)</span> at risk</span> · <span role=\"status\" aria-live=\"polite\" class=\"status muted\" id=\"live-status\">connecting…</span></p>"
        html += self.filterForm(principal, filter)
        html +=
            "<table aria-describedby=\"total\"><caption class=\"skip\">Open obligations, overdue first</caption><thead><tr>"
        html +=
            "<th scope=\"col\">Due</th><th scope=\"col\">Kind</th><th scope=\"col\">Customer</th><th scope=\"col\">Owed by</th>"
        html +=
            "<th scope=\"col\">Department</th><th scope=\"col\">State</th><th scope=\"col\">Attempts</th><th scope=\"col\">Missed</th>"
        html += "<th scope=\"col\">Escalation</th><th scope=\"col\">Due at</th></tr></thead>"
        html += "<tbody id=\"board-rows\" data-page-size=\"\(Self.pageSize)\">"
        for entry in shown { html += self.row(entry) }
        html += "</tbody></table>"
        html +=
            "<p class=\"pager\"><span>Page \(page) of \(pages) · <span id=\"row-count\">\(shown.count)</span> rows shown</span>"
        let base = "/ui/board?" + (filter.query.isEmpty ? "" : filter.query + "&")
        if page > 1 { html += "<a href=\"\(HTML.escape(base))page=\(page - 1)\" rel=\"prev\">← previous</a>" }
        if page < pages {
            html += "<a href=\"\(HTML.escape(base))page=\(page + 1)\" rel=\"next\" id=\"next-page\">next →</a>"
        }
        html += "</p></main>"
        let rowURL = "/ui/board/row" + (filter.query.isEmpty ? "" : "?" + filter.query)
        let totalsURL = "/ui/board/totals" + (filter.query.isEmpty ? "" : "?" + filter.query)
        let live = "/ui/events?after=\(outboxSeq)&live=\(liveSeq)"
        return Self.html(
            self.layout(
                title: "Board", session: session, current: "board", content: html, now: now,
                attributes:
                    "data-live=\"\(HTML.escape(live))\" data-row-url=\"\(HTML.escape(rowURL))\" data-totals-url=\"\(HTML.escape(totalsURL))\""
            ))
    }

    func filterForm(_ principal: Principal, _ filter: BoardFilter) -> String {
        let departments = self.engine.configuration.departments.filter {
            principal.role == .admin || principal.departments.contains($0.id)
                || (principal.role == .agent && principal.agent.flatMap(self.directory.departmentOf) == $0.id)
        }
        let agents = self.engine.configuration.agents.filter { a in departments.contains { $0.id == a.department } }
        var html = "<form class=\"filters\" method=\"get\" action=\"/ui/board\" aria-label=\"Filters\">"
        html += "<label>Department <select name=\"department\" id=\"filter-department\" data-autosubmit>"
        html += HTML.option("", "all", current: filter.department?.rawValue)
        for d in departments { html += HTML.option(d.id.rawValue, d.name, current: filter.department?.rawValue) }
        html += "</select></label>"
        html += "<label>State <select name=\"state\" id=\"filter-state\" data-autosubmit>"
        html += HTML.option("", "all", current: filter.standing?.rawValue)
        for s in BoardFilter.Standing.allCases {
            html += HTML.option(s.rawValue, s.label, current: filter.standing?.rawValue)
        }
        html += "</select></label>"
        html += "<label>Kind <select name=\"kind\" id=\"filter-kind\" data-autosubmit>"
        html += HTML.option("", "all", current: filter.kind?.rawValue)
        html += HTML.option("callback", "callback", current: filter.kind?.rawValue)
        html += HTML.option("handoff", "hand-off", current: filter.kind?.rawValue)
        html += "</select></label>"
        html += "<label>Owner <select name=\"owner\" id=\"filter-owner\" data-autosubmit>"
        html += HTML.option("", "anyone", current: filter.owner)
        html += HTML.option("department", "a department (no one person)", current: filter.owner)
        for a in agents { html += HTML.option(a.id.rawValue, self.directory.label(a.id), current: filter.owner) }
        html += "</select></label>"
        html += "<button type=\"submit\">Apply</button> <a href=\"/ui/board\">clear</a></form>"
        return html
    }

    func ownerLabel(_ owner: Owner) -> String {
        owner.agent.map { self.directory.label($0) }
            ?? (self.directory.department(owner.department)?.name ?? owner.department.rawValue)
    }

    func departmentName(_ id: DepartmentID?) -> String {
        guard let id else { return "-" }
        return self.directory.department(id)?.name ?? id.rawValue
    }

    func local(_ time: Timestamp?) -> String {
        guard let time else { return "-" }
        return String(self.engine.configuration.timezone.local(time).asteriskText.prefix(16))
    }

    func row(_ entry: BoardEntry) -> String {
        let o = entry.obligation
        let standing = entry.overdue ? "overdue" : o.atRisk ? "at-risk" : "on-time"
        var state =
            "<span class=\"badge \(standing)\">\(entry.overdue ? "overdue" : o.atRisk ? "at risk" : "on time")</span> \(HTML.escape(o.state.rawValue))"
        if o.kind == .handoff {
            state +=
                o.acknowledgedAt == nil
                ? " · <span class=\"risk\">not acknowledged</span>"
                : " · acknowledged \(HTML.escape(self.local(o.acknowledgedAt)))"
        }
        return """
            <tr id="ob-\(HTML.escape(o.id.rawValue))" class="\(standing)" data-rank="\(HTML.escape(entry.rank))"><td class="countdown" data-due="\(entry.deadline.seconds)"></td>\
            <td>\(o.kind == .handoff ? "hand-off" : "callback")</td>\
            <td><a href="/ui/contacts/\(HTML.escape(HTML.urlComponent(entry.contact.rawValue)))">\(HTML.escape(entry.customer))</a></td>\
            <td>\(HTML.escape(self.ownerLabel(o.owner)))</td><td>\(HTML.escape(self.departmentName(o.owner.department)))</td>\
            <td>\(state)</td><td>\(o.attempts)</td><td>\(o.missedCount)</td><td>\(o.escalationLevel)</td>\
            <td>\(HTML.escape(self.local(entry.deadline)))</td></tr>
            """
    }

    /// `GET /ui/board/row?obligation=ID&…filters`: that obligation's row as the board would show it
    /// now with these filters, or an empty body when it is not on the board (any more).
    func boardRow(_ request: Request, _ session: WebSession) async throws -> Response {
        let query = Self.query(request)
        guard let id = query["obligation"], let stored = try await self.store.obligation(ObligationID(id)),
            let detail = try await self.store.contact(stored.contact, correlator: self.engine.correlator),
            session.principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations),
            case let contact = detail.contact,
            let o = contact.obligations.first(where: { $0.id == stored.obligation.id }),
            o.state.isOutstanding, self.owns(session.principal, o)
        else { return Self.html("") }
        let entry = BoardEntry(o, of: contact, now: self.state.scheduler.clock.now())
        return Self.html(BoardFilter(query).matches(entry) ? self.row(entry) : "")
    }

    /// The counters at the top of the board: every obligation matching the filters in the
    /// principal's scope (all pages, not just the rows shown).
    struct BoardTotals: Sendable, Equatable {
        var open: Int
        var overdue: Int
        var atRisk: Int

        init(_ entries: [BoardEntry]) {
            self.open = entries.count
            self.overdue = entries.count { $0.overdue }
            // The same split as the row badges: an overdue obligation counts only as overdue.
            self.atRisk = entries.count { !$0.overdue && $0.obligation.atRisk }
        }

        var json: String { "{\"open\": \(self.open), \"overdue\": \(self.overdue), \"at_risk\": \(self.atRisk)}" }
    }

    /// `GET /ui/board/totals?…filters`: the board's counters as JSON, as a fresh render of the board
    /// with these filters would show them. The script asks once after it applied a batch of live
    /// row updates (not once per event): one request ranks the whole report, like the board itself.
    func boardTotals(_ request: Request, _ session: WebSession) async throws -> Response {
        let totals = BoardTotals(
            try await self.boardEntries(
                session.principal, BoardFilter(Self.query(request)), now: self.state.scheduler.clock.now()))
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: totals.json)))
        response.headers[.contentType] = "application/json"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    // MARK: Contact

    func contactPage(_ idText: String, _ session: WebSession) async throws -> Response {
        let id = ContactID(idText)
        // Missing and out of scope get the same 403 page, so an id reveals nothing.
        guard let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            session.principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, "You may not open contact \(idText).") }
        let contact = detail.contact
        let now = self.state.scheduler.clock.now()
        var html =
            "<main id=\"main\"><h1>Contact <span id=\"contact-id\">\(HTML.escape(contact.id.rawValue))</span></h1>"
        html += "<div class=\"card\"><dl class=\"facts\">"
        html += "<dt>Customer</dt><dd id=\"customer\">\(HTML.escape(contact.customer.text))</dd>"
        html += "<dt>Status</dt><dd>\(HTML.escape(contact.status.rawValue))</dd>"
        html += "<dt>Department</dt><dd>\(HTML.escape(self.departmentName(contact.department)))</dd>"
        html += "<dt>Category</dt><dd>\(HTML.escape(contact.category.rawValue))</dd>"
        html += "<dt>Channel</dt><dd>\(HTML.escape(contact.channel.rawValue))</dd>"
        html +=
            "<dt>First responder</dt><dd>\(HTML.escape(contact.firstResponder.map { self.directory.label($0.agent) + " (" + $0.via.rawValue + ", " + self.local($0.boundAt) + ")" } ?? "none yet"))</dd>"
        html += "<dt>Opened</dt><dd>\(HTML.escape(self.local(contact.createdAt)))</dd>"
        if let repeatOf = contact.repeatOf {
            html +=
                "<dt>Repeat of</dt><dd><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(repeatOf.rawValue)))\">\(HTML.escape(repeatOf.rawValue))</a></dd>"
        }
        if !contact.ringNoAnswer.isEmpty {
            html +=
                "<dt>Rang, no answer</dt><dd>\(HTML.escape(contact.ringNoAnswer.map { self.directory.label($0) }.joined(separator: ", ")))</dd>"
        }
        html += "</dl></div>"

        html +=
            "<h2>Obligations</h2><table id=\"obligations\"><thead><tr><th>Id</th><th>Kind</th><th>Owed by</th><th>State</th><th>Due</th>"
        html += "<th>Acknowledge by</th><th>Attempts</th><th>Missed</th><th>Satisfied</th><th></th></tr></thead><tbody>"
        for o in contact.obligations {
            let entry = BoardEntry(o, of: contact, now: now)
            html +=
                "<tr id=\"ob-\(HTML.escape(o.id.rawValue))\"><td>\(HTML.escape(o.id.rawValue))</td><td>\(o.kind == .handoff ? "hand-off" : "callback")</td>"
            html +=
                "<td>\(HTML.escape(self.ownerLabel(o.owner)))</td><td>\(HTML.escape(o.state.rawValue))\(o.atRisk ? " <span class=\"badge at-risk\">at risk</span>" : "")</td>"
            html += "<td>\(HTML.escape(self.local(o.dueAt)))"
            if o.state.isOutstanding {
                html += " <span class=\"countdown\" data-due=\"\(entry.deadline.seconds)\"></span>"
            }
            html +=
                "</td><td>\(HTML.escape(self.local(o.ackDueAt)))\(o.acknowledgedAt.map { " (acknowledged " + HTML.escape(self.local($0)) + ")" } ?? "")</td>"
            html += "<td>\(o.attempts)</td><td>\(o.missedCount)</td>"
            html +=
                "<td>\(HTML.escape(o.satisfiedAt.map { self.local($0) + (o.satisfiedBy.map { " by " + self.directory.label($0) } ?? "") } ?? "-"))</td>"
            html +=
                "<td>\(self.ackButton(o, session, returnTo: "/ui/contacts/" + HTML.urlComponent(contact.id.rawValue)))</td></tr>"
        }
        html += "</tbody></table>"

        html += "<h2>Calls</h2><ul id=\"calls\">"
        for call in contact.calls {
            let steps = contact.why.filter { $0.call == call }.count
            html +=
                "<li><code>\(HTML.escape(call.rawValue))</code> <span class=\"muted\">\(steps) step(s) in the trail</span></li>"
        }
        if contact.calls.isEmpty { html += "<li class=\"muted\">no calls (visit or letter)</li>" }
        html += "</ul>"

        if !detail.violations.isEmpty {
            html += "<h2>Violations</h2><ul>"
            for v in detail.violations {
                let review =
                    detail.reviews[v.id].map { " — \($0.decision.rawValue) by \($0.by): \($0.reason)" }
                    ?? " — not reviewed"
                html +=
                    "<li>\(HTML.escape(v.category.rawValue)) at \(HTML.escape(self.local(v.at)))\(HTML.escape(v.agent.map { " (" + self.directory.label($0) + ")" } ?? ""))\(HTML.escape(review))</li>"
            }
            html += "</ul>"
        }

        html += self.actionForms(contact, session)
        html += "<h2>Why</h2><ol class=\"why\" id=\"why\">"
        for entry in (contact.why + detail.amendments).sorted(by: { $0.at < $1.at }) {
            html +=
                "<li><time>\(HTML.escape(self.local(entry.at)))</time> <code>\(HTML.escape(entry.rule.rawValue))</code> \(HTML.escape(entry.message))"
            if !entry.evidence.isEmpty {
                html +=
                    " <span class=\"muted\">(\(HTML.escape(entry.evidence.map(\.description).joined(separator: "; "))))</span>"
            }
            html += "</li>"
        }
        html += "</ol></main>"
        return Self.html(
            self.layout(title: "Contact \(contact.id)", session: session, current: "", content: html, now: now))
    }

    /// The acknowledge button, for a hand-off the signed-in agent may acknowledge (the engine checks
    /// again when it is pressed).
    func ackButton(_ o: Obligation, _ session: WebSession, returnTo: String) -> String {
        guard o.kind == .handoff, o.acknowledgedAt == nil, o.state.isOutstanding, session.principal.role == .agent,
            let me = session.principal.agent
        else { return "" }
        let head = self.directory.department(o.owner.department)?.head == me
        let receiving = o.owner.agent.map { $0 == me } ?? (self.directory.departmentOf(me) == o.owner.department)
        guard receiving || head else { return "" }
        return """
            <form class="inline" method="post" action="/ui/obligations/\(HTML.escape(HTML.urlComponent(o.id.rawValue)))/ack">\
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrf))"><input type="hidden" name="return" value="\(HTML.escape(returnTo))">\
            <button type="submit" class="primary ack" data-obligation="\(HTML.escape(o.id.rawValue))">Acknowledge</button></form>
            """
    }

    // MARK: My work

    func myWork(_ session: WebSession) async throws -> Response {
        let principal = session.principal
        let now = self.state.scheduler.clock.now()
        guard principal.role == .agent, let me = principal.agent else {
            return Self.html(
                self.layout(
                    title: "My work", session: session, current: "my",
                    content:
                        "<main id=\"main\"><h1>My work</h1><p>This page lists an agent's own work; you are signed in as \(HTML.escape(principal.role.rawValue)). See the <a href=\"/ui/board\">board</a>.</p></main>",
                    now: now))
        }
        // The agent's matters: the contacts of their scope, as the API lists them.
        let contacts = try await self.store.contacts(
            ContactQuery(scope: principal.scope(directory: self.directory), limit: 10_000))
        let waiting = contacts.flatMap { c in
            c.obligations.filter {
                $0.kind == .handoff && $0.acknowledgedAt == nil && $0.state.isOutstanding && self.owns(principal, $0)
            }
            .map { BoardEntry($0, of: c, now: now) }
        }.sorted { $0.rank < $1.rank }
        let owed = contacts.flatMap { c in
            c.obligations.filter {
                $0.state.isOutstanding && $0.owner.agent == me && !($0.kind == .handoff && $0.acknowledgedAt == nil)
            }
            .map { BoardEntry($0, of: c, now: now) }
        }.sorted { $0.rank < $1.rank }
        let open = contacts.filter {
            $0.firstResponder?.agent == me && [.open, .awaitingCallback, .handedOff].contains($0.status)
        }.sorted { $0.lastActivity > $1.lastActivity }

        var html = "<main id=\"main\"><h1>My work — \(HTML.escape(self.directory.label(me)))</h1>"
        html += "<h2>Hand-offs waiting for acknowledgement (\(waiting.count))</h2>"
        html += self.workTable(waiting, session, id: "handoffs", empty: "Nothing to acknowledge.")
        html += "<h2>Callbacks and hand-offs I owe (\(owed.count))</h2>"
        html += self.workTable(owed, session, id: "owed", empty: "Nothing owed.")
        html +=
            "<h2>My open contacts (\(open.count))</h2><table id=\"open-contacts\"><thead><tr><th>Contact</th><th>Customer</th><th>Status</th><th>Department</th><th>Last activity</th></tr></thead><tbody>"
        for c in open.prefix(500) {
            html +=
                "<tr><td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(c.id.rawValue)))\">\(HTML.escape(c.id.rawValue))</a></td>"
            html +=
                "<td>\(HTML.escape(c.customer.text))</td><td>\(HTML.escape(c.status.rawValue))</td><td>\(HTML.escape(self.departmentName(c.department)))</td>"
            html += "<td>\(HTML.escape(self.local(c.lastActivity)))</td></tr>"
        }
        if open.isEmpty { html += "<tr><td colspan=\"5\" class=\"muted\">No open contacts.</td></tr>" }
        html += "</tbody></table></main>"
        return Self.html(self.layout(title: "My work", session: session, current: "my", content: html, now: now))
    }

    func workTable(_ entries: [BoardEntry], _ session: WebSession, id: String, empty: String) -> String {
        var html =
            "<table id=\"\(id)\"><thead><tr><th>Due</th><th>Kind</th><th>Customer</th><th>Owed by</th><th>State</th><th>Attempts</th><th>Missed</th><th></th></tr></thead><tbody>"
        for entry in entries.prefix(500) {
            let o = entry.obligation
            html +=
                "<tr id=\"ob-\(HTML.escape(o.id.rawValue))\" class=\"\(entry.overdue ? "overdue" : o.atRisk ? "at-risk" : "")\">"
            html +=
                "<td class=\"countdown\" data-due=\"\(entry.deadline.seconds)\"></td><td>\(o.kind == .handoff ? "hand-off" : "callback")</td>"
            html +=
                "<td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(entry.contact.rawValue)))\">\(HTML.escape(entry.customer))</a></td>"
            html +=
                "<td>\(HTML.escape(self.ownerLabel(o.owner)))</td><td>\(HTML.escape(o.state.rawValue))</td><td>\(o.attempts)</td><td>\(o.missedCount)</td>"
            html += "<td>\(self.ackButton(o, session, returnTo: "/ui/my"))</td></tr>"
        }
        if entries.isEmpty { html += "<tr><td colspan=\"8\" class=\"muted\">\(HTML.escape(empty))</td></tr>" }
        return html + "</tbody></table>"
    }

    /// `POST /ui/obligations/{id}/ack`: the signed-in agent acknowledges a hand-off, through the
    /// same scope check and `Engine.acknowledge` as `POST /v1/obligations/{id}/ack`.
    func acknowledge(_ request: Request, _ id: ObligationID) async throws -> Response {
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), "The form was not from this session.")
        }
        let principal = session.principal
        guard principal.role == .agent, let me = principal.agent else {
            return self.forbidden(session, "Only an agent acknowledges a hand-off here, as themselves.")
        }
        guard let stored = try await self.store.obligation(id),
            let detail = try await self.store.contact(stored.contact, correlator: self.engine.correlator),
            principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, "You may not act on obligation \(id).") }
        do {
            _ = try await self.engine.acknowledge(id, by: me, at: self.state.scheduler.clock.now(), store: self.store)
        } catch let error as ActionError {
            return self.message(session, title: "Not acknowledged", error.description, status: .conflict)
        }
        self.changes.publish(
            "acknowledged", contact: stored.contact, obligation: id, department: stored.obligation.owner.department)
        return Self.seeOther(Self.returnPath(form["return"], default: "/ui/my"))
    }

    // MARK: Violations

    func violationsPage(_ request: Request, _ session: WebSession) async throws -> Response {
        let principal = session.principal
        guard principal.role == .supervisor || principal.role == .admin else {
            return self.forbidden(session, "Violations are reviewed by supervisors.")
        }
        let query = Self.query(request)
        let onlyOpen = query["all"] != "1"
        let snapshot = try await self.store.violations()
        let visible = try await self.state.inScope(snapshot.violations, of: principal)
            .filter { !onlyOpen || snapshot.reviews[$0.id] == nil }
            .sorted { ($0.at, $0.id.rawValue) > ($1.at, $1.id.rawValue) }
        var html =
            "<main id=\"main\"><h1>Violations</h1><p>\(visible.count) \(onlyOpen ? "awaiting review" : "in total") · "
        html +=
            onlyOpen
            ? "<a href=\"/ui/violations?all=1\">show reviewed too</a>"
            : "<a href=\"/ui/violations\">only those awaiting review</a>"
        html +=
            "</p><table id=\"violations\"><thead><tr><th>When</th><th>Category</th><th>Department</th><th>Agent</th><th>Contact</th><th>Review</th></tr></thead><tbody>"
        for v in visible.prefix(300) {
            html +=
                "<tr id=\"v-\(HTML.escape(v.id.rawValue))\"><td>\(HTML.escape(self.local(v.at)))</td><td>\(HTML.escape(v.category.rawValue))\(v.remediedAt == nil ? "" : " <span class=\"muted\">(remedied late)</span>")</td>"
            html +=
                "<td>\(HTML.escape(self.departmentName(v.department)))</td><td>\(HTML.escape(v.agent.map { self.directory.label($0) } ?? "-"))</td>"
            html +=
                "<td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(v.contact.rawValue)))\">\(HTML.escape(v.contact.rawValue))</a></td><td>"
            if let review = snapshot.reviews[v.id] {
                html +=
                    "<p>\(HTML.escape(review.decision.rawValue)) by \(HTML.escape(review.by)): \(HTML.escape(review.reason))</p>"
            }
            html +=
                "<form class=\"inline\" method=\"post\" action=\"/ui/violations/\(HTML.escape(HTML.urlComponent(v.id.rawValue)))/review\">"
            html += "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">"
            html +=
                "<label class=\"skip\" for=\"d-\(HTML.escape(v.id.rawValue))\">Decision</label><select name=\"decision\" id=\"d-\(HTML.escape(v.id.rawValue))\">"
            for d in ViolationReview.Decision.allCases {
                html += HTML.option(d.rawValue, d.rawValue, current: snapshot.reviews[v.id]?.decision.rawValue)
            }
            html +=
                "</select><input name=\"reason\" required placeholder=\"reason\" aria-label=\"Reason\"><button type=\"submit\">Record</button></form></td></tr>"
        }
        html += "</tbody></table></main>"
        return Self.html(self.layout(title: "Violations", session: session, current: "violations", content: html))
    }

    /// `POST /ui/violations/{id}/review`: as `POST /v1/violations/{id}/review`.
    func review(_ request: Request, _ id: ViolationID) async throws -> Response {
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), "The form was not from this session.")
        }
        let principal = session.principal
        guard principal.role == .supervisor || principal.role == .admin else {
            return self.forbidden(session, "Violations are reviewed by supervisors.")
        }
        guard let decision = form["decision"].flatMap(ViolationReview.Decision.init(rawValue:)) else {
            return self.message(
                session, title: "Not recorded", "Choose accept, excuse or dismiss.", status: .badRequest)
        }
        let violation = try await self.store.violation(id)
        guard let violation, try await !self.state.inScope([violation], of: principal).isEmpty
        else {
            return self.forbidden(session, "You may not review violation \(id).")
        }
        do {
            try await self.engine.review(
                id, decision: decision, reason: form["reason"] ?? "", by: principal.name,
                at: self.state.scheduler.clock.now(),
                store: self.store)
        } catch let error as ActionError {
            return self.message(session, title: "Not recorded", error.description, status: .badRequest)
        }
        self.changes.publish("reviewed", contact: violation.contact, violation: id, department: violation.department)
        return Self.seeOther("/ui/violations")
    }

    // MARK: Live stream

    /// The newest outbox sequence number: a page listens from there. Remembered, so only the first
    /// page after a start reads the outbox through.
    func currentOutboxSeq() async throws -> Int64 {
        if let head = self.state.feed.head { return head }
        var seq = self.outboxHead.value.withLock { $0 }
        while true {
            let entries = try await self.store.outbox(after: seq, limit: 5000)
            guard let last = entries.last else { break }
            seq = last.seq
        }
        self.outboxHead.value.withLock { $0 = max($0, seq) }
        return seq
    }

    /// `GET /ui/events`: what `/v1/events` sends (outbox notifications in the principal's scope,
    /// resumable by `Last-Event-ID`), plus the people's changes made through this process and the
    /// obligations opened by records posted to it (`event: changed`, no id), authenticated by the
    /// session cookie. GET only: it changes nothing.
    func events(_ request: Request, _ session: WebSession) async throws -> Response {
        let principal = session.principal
        let query = Self.query(request)
        let resume = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
        let startAfter = Int64(resume ?? query["after"] ?? "") ?? 0
        let startLive = Int(query["live"] ?? "") ?? self.changes.head
        let (store, feed, changes) = (self.store, self.state.feed, self.changes)
        let scope = principal.scope(directory: self.directory)
        let reportScope = try principal.reportScope(directory: self.directory)
        let body = ResponseBody { writer in
            var (after, live, round) = (startAfter, startLive, 0)
            // What the page may show as owed: an obligation opened by records (a missed call) has no
            // notice of its own, so after records are posted here the new ones are announced below.
            var owed = Set(try await store.openObligations(reportScope).map(\.obligation.id))
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let notices = changes.since(live)
                if let newest = notices.last { live = newest.seq + 1 }
                if notices.contains(where: { $0.action == LiveChanges.ingested }) {
                    let rows = try await store.openObligations(reportScope)
                    for row in rows where !owed.contains(row.obligation.id) {
                        let data =
                            "{\"action\": \"opened\", \"contact\": \(JSONWriter.quoted(row.contact.rawValue)), \"obligation\": \(JSONWriter.quoted(row.obligation.id.rawValue)), \"violation\": null}"
                        try await writer.write(ByteBuffer(string: "event: changed\ndata: \(data)\n\n"))
                    }
                    owed = Set(rows.map(\.obligation.id))
                }
                // A change is announced to the pages of those who may see its contact.
                let contacts = Set(notices.compactMap(\.contact))
                let visible = scope.isEverything ? contacts : try await store.contactIDs(contacts, in: scope)
                for notice in notices
                where notice.action != LiveChanges.ingested
                    && notice.contact.map(visible.contains) ?? scope.seesFeedAlerts
                {
                    let data =
                        "{\"action\": \(JSONWriter.quoted(notice.action)), \"contact\": \(notice.contact.map { JSONWriter.quoted($0.rawValue) } ?? "null"), \"obligation\": \(notice.obligation.map { JSONWriter.quoted($0.rawValue) } ?? "null"), \"violation\": \(notice.violation.map { JSONWriter.quoted($0.rawValue) } ?? "null")}"
                    try await writer.write(ByteBuffer(string: "event: changed\ndata: \(data)\n\n"))
                }
                if round % 4 == 0 {
                    var full = true
                    while full {
                        let entries = try await feed.entries(after: after, limit: 200)
                        for entry in try await EventsController.visible(
                            entries, to: principal, scope: scope, store: store)
                        {
                            try await writer.write(ByteBuffer(string: entry.serverSentEvent))
                        }
                        if let newest = entries.last { after = newest.seq }
                        full = entries.count == 200
                    }
                }
                round += 1
                // A comment line every 5 s: a page that went away is noticed by the failed write.
                if round % 20 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                try await Task.sleep(for: .milliseconds(250))
            }
            try await writer.finish(nil)
        }
        var response = Response(status: .ok, body: body)
        response.headers[.contentType] = "text/event-stream"
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    // MARK: Layout and responses

    /// The language the pages' text is written in (BCP 47), for screen readers, hyphenation and
    /// translation prompts; names and customer text inside keep their own script.
    static let servedLanguage = "en"

    func layout(
        title: String, session: WebSession?, current: String, content: String, now: Timestamp? = nil,
        attributes: String = ""
    ) -> String {
        var nav = ""
        if let session {
            let p = session.principal
            func link(_ href: String, _ label: String, _ key: String) -> String {
                "<a href=\"\(href)\"\(key == current ? " aria-current=\"page\"" : "")>\(label)</a>"
            }
            nav += "<nav aria-label=\"Pages\">"
            if p.role == .agent { nav += link("/ui/my", "My work", "my") + " " }
            nav += link("/ui/board", "Board", "board")
            if p.role != .agent { nav += " " + link("/ui/violations", "Violations", "violations") }
            nav += " " + link("/ui/figures", "Figures", "figures")
            nav +=
                "</nav><span class=\"who\"><span id=\"who\">\(HTML.escape(p.agent.map { self.directory.label($0) } ?? p.name)) · \(HTML.escape(p.role.rawValue))</span>"
            nav +=
                "<form method=\"post\" action=\"/ui/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\"><button type=\"submit\" id=\"signout\">Sign out</button></form></span>"
        }
        let nowAttribute = " data-now=\"\((now ?? self.state.scheduler.clock.now()).seconds)\""
        return """
            <!doctype html>
            <html lang="\(Self.servedLanguage)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · FirstContact</title><link rel="stylesheet" href="/ui/assets/app.css"></head>
            <body\(nowAttribute) \(attributes)><a class="skip" href="#main">Skip to content</a>
            <header class="top"><strong>FirstContact</strong>\(nav)</header>
            \(content)
            <script src="/ui/assets/app.js" defer></script></body></html>
            """
    }

    func forbidden(_ session: WebSession?, _ text: String) -> Response {
        self.message(session, title: "Forbidden", text, status: .forbidden)
    }

    func message(_ session: WebSession?, title: String, _ text: String, status: HTTPResponse.Status) -> Response {
        let content =
            "<main id=\"main\"><h1>\(HTML.escape(title)) (\(status.code))</h1><p id=\"message\">\(HTML.escape(text))</p><p><a href=\"/ui/\">Back</a></p></main>"
        return Self.html(self.layout(title: title, session: session, current: "", content: content), status: status)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        response.headers[.cacheControl] = "no-store"
        // Only this server's own script and stylesheet run: an escaped-too-little name could not
        // execute anyway.
        if let csp = HTTPField.Name("Content-Security-Policy") {
            response.headers[csp] =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        }
        if let frame = HTTPField.Name("X-Frame-Options") { response.headers[frame] = "DENY" }
        if let referrer = HTTPField.Name("Referrer-Policy") { response.headers[referrer] = "same-origin" }
        return response
    }

    static func asset(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = type
        response.headers[.cacheControl] = "max-age=300"
        return response
    }

    static func seeOther(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// Only paths under `/ui/` are followed after a form: no open redirect.
    static func returnPath(_ text: String?, default fallback: String) -> String {
        guard let text, text.hasPrefix("/ui/"), !text.contains("//"), !text.contains("\\") else { return fallback }
        return text
    }

    static func query(_ request: Request) -> [String: String] {
        HTML.formFields(request.uri.query ?? "")
    }

    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return HTML.formFields(String(buffer: buffer))
    }
}

/// The newest outbox sequence number seen by this process (shared by the pages' renders).
private final class OutboxHead: Sendable {
    let value = Mutex<Int64>(0)
}
