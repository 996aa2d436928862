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
        router.get("ui/language") { request, _ in self.chooseLanguage(request) }
        router.post("ui/login") { request, context in try await self.signIn(request, from: context.remoteAddress) }
        router.post("ui/logout") { request, _ in try await self.signOut(request) }
        router.get("ui/board") { request, _ in
            try await self.withSession(request) { try await self.board(request, $0, self.localizer(request)) }
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
            try await self.withSession(request) {
                try await self.contactPage(try context.parameters.require("id"), $0, self.localizer(request))
            }
        }
        router.get("ui/my") { request, _ in
            try await self.withSession(request) { try await self.myWork($0, self.localizer(request)) }
        }
        router.post("ui/obligations/:id/ack") { request, context in
            try await self.acknowledge(request, ObligationID(try context.parameters.require("id")))
        }
        router.get("ui/violations") { request, _ in
            try await self.withSession(request) { try await self.violationsPage(request, $0, self.localizer(request)) }
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

    /// The language of the page this request gets (``LanguageChoice``).
    func localizer(_ request: Request) -> Localizer {
        Localizer(
            LanguageChoice.choose(
                chosen: request.cookies[LanguageChoice.cookie]?.value,
                acceptLanguage: request.headers[.acceptLanguage],
                configured: self.engine.configuration.ui.language))
    }

    /// `GET /ui/language?to=zh-CN&return=/ui/board`: the language switch. Keeps the choice in a
    /// cookie for a year and goes back to the page it was pressed on. A GET, so it is a plain link;
    /// it changes nothing but how this browser's pages read.
    func chooseLanguage(_ request: Request) -> Response {
        let query = Self.query(request)
        guard let language = query["to"].flatMap(Language.init(rawValue:)) else {
            let l = self.localizer(request)
            let known = Language.allCases.map(\.rawValue).joined(separator: ", ")
            return self.message(
                self.session(request), l, title: l(.notFound), .text(l(.noSuchLanguage, query["to"] ?? "", known)),
                status: .badRequest)
        }
        var response = Self.seeOther(Self.returnPath(query["return"], default: "/ui/"))
        response.setCookie(
            Cookie(
                name: LanguageChoice.cookie, value: language.rawValue, maxAge: 365 * 86400, path: "/",
                secure: Self.secure(request), httpOnly: true, sameSite: .lax))
        return response
    }

    func withSession(_ request: Request, _ body: (WebSession) async throws -> Response) async throws -> Response {
        guard let session = self.session(request) else { return Response.redirect(to: "/ui/login") }
        return try await body(session)
    }

    /// Behind a TLS-terminating proxy the cookies are marked `Secure`.
    static func secure(_ request: Request) -> Bool {
        HTTPField.Name("X-Forwarded-Proto").flatMap { request.headers[$0] }?.lowercased() == "https"
    }

    func signInPage(_ request: Request, error: Phrase?, _ arguments: String..., status: HTTPResponse.Status = .ok)
        -> Response
    {
        let l = self.localizer(request)
        // Double submit: the form's hidden value must match this browser's cookie, so another site
        // cannot sign a victim's browser in with the attacker's token.
        let nonce = WebSessions.randomToken()
        let form = """
            <main class="signin card" id="main">
            <h1>FirstContact</h1>
            <p>\(l.html(.signInPrompt))</p>
            \(error.map { "<p class=\"error\" role=\"alert\" id=\"signin-error\">\(HTML.escape(Localizer.fill(Catalogue.text($0, in: l.language), arguments)))</p>" } ?? "")
            <form method="post" action="/ui/login">
            <input type="hidden" name="nonce" value="\(nonce)">
            <label>\(l.html(.token)) <input type="password" name="token" id="token" autocomplete="current-password" required autofocus></label>
            <p><button class="primary" type="submit" id="signin">\(l.html(.signInButton))</button></p>
            </form>
            </main>
            """
        var response = Self.html(
            self.layout(
                l, title: l(.signInTitle), session: nil, current: "", content: form, here: "/ui/login"), status: status)
        response.setCookie(
            Cookie(
                name: WebSessions.loginCookie, value: nonce, maxAge: 600, path: "/ui/login",
                secure: Self.secure(request),
                httpOnly: true, sameSite: .strict))
        return response
    }

    func signIn(_ request: Request, from address: String) async throws -> Response {
        let limits = self.state.limits
        // Guessing tokens is slowed per address: past `http.sign_in_attempts` failures in the window
        // the answer is 429 until the oldest of them leaves it, whatever is tried.
        if let wait = limits.signInWait(address) {
            var response = self.signInPage(request, error: .signInTooMany, String(wait), status: .tooManyRequests)
            response.headers[.retryAfter] = String(wait)
            return response
        }
        let response = try await self.checkSignIn(request)
        if response.status == .unauthorized || response.status == .forbidden { limits.signInFailed(address) }
        return response
    }

    private func checkSignIn(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard WebSessions.sameToken(form["nonce"], request.cookies[WebSessions.loginCookie]?.value ?? "") else {
            return self.signInPage(request, error: .signInExpired, status: .forbidden)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty,
            let principal = Principal.authenticate(
                authorization: "Bearer " + token, tokens: self.engine.configuration.tokens)
        else {
            return self.signInPage(request, error: .unknownToken, status: .unauthorized)
        }
        guard [.agent, .supervisor, .admin].contains(principal.role) else {
            return self.signInPage(
                request, error: .roleCannotSignIn, self.localizer(request).label(principal.role), status: .forbidden)
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
            return self.forbidden(session, self.localizer(request), self.localizer(request)(.formNotFromSession))
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

            var label: Phrase {
                switch self {
                case .overdue: .standingOverdue
                case .atRisk: .standingAtRisk
                case .onTime: .standingOnTime
                case .awaitingAck: .standingAwaitingAck
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

    func board(_ request: Request, _ session: WebSession, _ l: Localizer) async throws -> Response {
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

        var html = "<main id=\"main\"><h1>\(l.html(.boardHeading))</h1>"
        html += "<p class=\"summary\">\(l.html(.totalOpen, "<strong id=\"total\">\(totals.open)</strong>")) · "
        html +=
            "<span class=\"late\">\(l.html(.totalOverdue, "<span id=\"total-overdue\">\(totals.overdue)</span>"))</span> · "
        html +=
            "<span class=\"risk\">\(l.html(.totalAtRisk, "<span id=\"total-at-risk\">\(totals.atRisk)</span>"))</span> · <span role=\"status\" aria-live=\"polite\" class=\"status muted\" id=\"live-status\">\(l.html(.connecting))</span></p>"
        html += self.filterForm(principal, filter, l)
        html +=
            "<table aria-describedby=\"total\"><caption class=\"skip\">\(l.html(.boardCaption))</caption><thead><tr>"
        for column in [Phrase.columnDue, .columnKind, .columnCustomer, .columnOwedBy, .columnDepartment, .columnState] {
            html += "<th scope=\"col\">\(l.html(column))</th>"
        }
        for column in [Phrase.columnAttempts, .columnMissed, .columnEscalation, .columnDueAt] {
            html += "<th scope=\"col\">\(l.html(column))</th>"
        }
        html += "</tr></thead><tbody id=\"board-rows\" data-page-size=\"\(Self.pageSize)\">"
        for entry in shown { html += self.row(entry, l) }
        html += "</tbody></table>"
        html +=
            "<p class=\"pager\"><span>\(l.html(.pageOf, String(page), String(pages), "<span id=\"row-count\">\(shown.count)</span>"))</span>"
        let base = "/ui/board?" + (filter.query.isEmpty ? "" : filter.query + "&")
        if page > 1 {
            html += "<a href=\"\(HTML.escape(base))page=\(page - 1)\" rel=\"prev\">\(l.html(.previousPage))</a>"
        }
        if page < pages {
            html +=
                "<a href=\"\(HTML.escape(base))page=\(page + 1)\" rel=\"next\" id=\"next-page\">\(l.html(.nextPage))</a>"
        }
        html += "</p></main>"
        let rowURL = "/ui/board/row" + (filter.query.isEmpty ? "" : "?" + filter.query)
        let totalsURL = "/ui/board/totals" + (filter.query.isEmpty ? "" : "?" + filter.query)
        let live = "/ui/events?after=\(outboxSeq)&live=\(liveSeq)"
        let hereQuery = ([filter.query] + (page == 1 ? [] : ["page=\(page)"])).filter { !$0.isEmpty }
        let here = "/ui/board" + (hereQuery.isEmpty ? "" : "?" + hereQuery.joined(separator: "&"))
        return Self.html(
            self.layout(
                l, title: l(.boardTitle), session: session, current: "board", content: html, here: here, now: now,
                attributes:
                    "data-live=\"\(HTML.escape(live))\" data-row-url=\"\(HTML.escape(rowURL))\" data-totals-url=\"\(HTML.escape(totalsURL))\""
            ))
    }

    func filterForm(_ principal: Principal, _ filter: BoardFilter, _ l: Localizer) -> String {
        let departments = self.engine.configuration.departments.filter {
            principal.role == .admin || principal.departments.contains($0.id)
                || (principal.role == .agent && principal.agent.flatMap(self.directory.departmentOf) == $0.id)
        }
        let agents = self.engine.configuration.agents.filter { a in departments.contains { $0.id == a.department } }
        var html =
            "<form class=\"filters\" method=\"get\" action=\"/ui/board\" aria-label=\"\(l.html(.filters))\">"
        html +=
            "<label>\(l.html(.filterDepartment)) <select name=\"department\" id=\"filter-department\" data-autosubmit>"
        html += HTML.option("", l(.filterAll), current: filter.department?.rawValue)
        for d in departments {
            html += HTML.option(d.id.rawValue, d.name, current: filter.department?.rawValue, data: true)
        }
        html += "</select></label>"
        html += "<label>\(l.html(.filterState)) <select name=\"state\" id=\"filter-state\" data-autosubmit>"
        html += HTML.option("", l(.filterAll), current: filter.standing?.rawValue)
        for s in BoardFilter.Standing.allCases {
            html += HTML.option(s.rawValue, l(s.label), current: filter.standing?.rawValue)
        }
        html += "</select></label>"
        html += "<label>\(l.html(.filterKind)) <select name=\"kind\" id=\"filter-kind\" data-autosubmit>"
        html += HTML.option("", l(.filterAll), current: filter.kind?.rawValue)
        for kind in ObligationKind.allCases {
            html += HTML.option(kind.rawValue, l.label(kind), current: filter.kind?.rawValue)
        }
        html += "</select></label>"
        html += "<label>\(l.html(.filterOwner)) <select name=\"owner\" id=\"filter-owner\" data-autosubmit>"
        html += HTML.option("", l(.filterAnyone), current: filter.owner)
        html += HTML.option("department", l(.filterDepartmentOwner), current: filter.owner)
        for a in agents {
            html += HTML.option(a.id.rawValue, self.directory.label(a.id), current: filter.owner, data: true)
        }
        html += "</select></label>"
        html += "<button type=\"submit\">\(l.html(.apply))</button> <a href=\"/ui/board\">\(l.html(.clear))</a></form>"
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

    func local(_ time: Timestamp?, _ l: Localizer) -> String {
        l.time(time, zone: self.engine.configuration.timezone)
    }

    /// Text that comes from the configuration or from people (names, customer numbers, notes):
    /// marked `translate="no"`, so translation tools and the catalogue's tests leave it alone.
    static func data(_ text: String) -> String {
        "<span translate=\"no\">\(HTML.escape(text))</span>"
    }

    /// Text the engine recorded in English (the `why` trail, refusals): marked as English on a
    /// page in another language, so screen readers pronounce it as English.
    static func english(_ text: String, _ l: Localizer) -> String {
        l.language == .english ? HTML.escape(text) : "<span lang=\"en\">\(HTML.escape(text))</span>"
    }

    func row(_ entry: BoardEntry, _ l: Localizer) -> String {
        let o = entry.obligation
        let standing = entry.overdue ? "overdue" : o.atRisk ? "at-risk" : "on-time"
        let badge = entry.overdue ? Phrase.standingOverdue : o.atRisk ? .standingAtRisk : .standingOnTime
        var state = "<span class=\"badge \(standing)\">\(l.html(badge))</span> \(HTML.escape(l.label(o.state)))"
        if o.kind == .handoff {
            state +=
                o.acknowledgedAt == nil
                ? " · <span class=\"risk\">\(l.html(.notAcknowledged))</span>"
                : " · " + l.html(.acknowledgedAt, HTML.escape(self.local(o.acknowledgedAt, l)))
        }
        return """
            <tr id="ob-\(HTML.escape(o.id.rawValue))" class="\(standing)" data-rank="\(HTML.escape(entry.rank))"><td class="countdown" data-due="\(entry.deadline.seconds)"></td>\
            <td>\(HTML.escape(l.label(o.kind)))</td>\
            <td><a href="/ui/contacts/\(HTML.escape(HTML.urlComponent(entry.contact.rawValue)))" translate="no">\(HTML.escape(entry.customer))</a></td>\
            <td>\(Self.data(self.ownerLabel(o.owner)))</td><td>\(Self.data(self.departmentName(o.owner.department)))</td>\
            <td>\(state)</td><td>\(o.attempts)</td><td>\(o.missedCount)</td><td>\(o.escalationLevel)</td>\
            <td>\(HTML.escape(self.local(entry.deadline, l)))</td></tr>
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
        return Self.html(BoardFilter(query).matches(entry) ? self.row(entry, self.localizer(request)) : "")
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

    func contactPage(_ idText: String, _ session: WebSession, _ l: Localizer) async throws -> Response {
        let id = ContactID(idText)
        // Missing and out of scope get the same 403 page, so an id reveals nothing.
        guard let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            session.principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, l, l(.mayNotOpenContact, idText)) }
        let contact = detail.contact
        let now = self.state.scheduler.clock.now()
        var html =
            "<main id=\"main\"><h1>\(l.html(.contactHeading, "<span id=\"contact-id\" translate=\"no\">\(HTML.escape(contact.id.rawValue))</span>"))</h1>"
        html += "<div class=\"card\"><dl class=\"facts\">"
        html +=
            "<dt>\(l.html(.columnCustomer))</dt><dd id=\"customer\" translate=\"no\">\(HTML.escape(contact.customer.text))</dd>"
        html += "<dt>\(l.html(.status))</dt><dd>\(HTML.escape(l.label(contact.status)))</dd>"
        html += "<dt>\(l.html(.columnDepartment))</dt><dd>\(Self.data(self.departmentName(contact.department)))</dd>"
        html += "<dt>\(l.html(.category))</dt><dd>\(HTML.escape(l.label(contact.category)))</dd>"
        html += "<dt>\(l.html(.channel))</dt><dd>\(HTML.escape(l.label(contact.channel)))</dd>"
        let responder =
            contact.firstResponder.map {
                l.html(
                    .firstResponderDetail, Self.data(self.directory.label($0.agent)), HTML.escape(l.label($0.via)),
                    HTML.escape(self.local($0.boundAt, l)))
            } ?? l.html(.noneYet)
        html += "<dt>\(l.html(.firstResponder))</dt><dd>\(responder)</dd>"
        html += "<dt>\(l.html(.opened))</dt><dd>\(HTML.escape(self.local(contact.createdAt, l)))</dd>"
        if let repeatOf = contact.repeatOf {
            html +=
                "<dt>\(l.html(.repeatOf))</dt><dd><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(repeatOf.rawValue)))\" translate=\"no\">\(HTML.escape(repeatOf.rawValue))</a></dd>"
        }
        if !contact.ringNoAnswer.isEmpty {
            html +=
                "<dt>\(l.html(.rangNoAnswer))</dt><dd>\(Self.data(contact.ringNoAnswer.map { self.directory.label($0) }.joined(separator: ", ")))</dd>"
        }
        html += "</dl></div>"

        html += "<h2>\(l.html(.obligations))</h2><table id=\"obligations\"><thead><tr>"
        for column in [Phrase.columnID, .columnKind, .columnOwedBy, .columnState, .columnDueAt, .columnAcknowledgeBy] {
            html += "<th>\(l.html(column))</th>"
        }
        for column in [Phrase.columnAttempts, .columnMissed, .columnSatisfied] { html += "<th>\(l.html(column))</th>" }
        html += "<th></th></tr></thead><tbody>"
        for o in contact.obligations {
            let entry = BoardEntry(o, of: contact, now: now)
            html +=
                "<tr id=\"ob-\(HTML.escape(o.id.rawValue))\"><td translate=\"no\">\(HTML.escape(o.id.rawValue))</td><td>\(HTML.escape(l.label(o.kind)))</td>"
            html +=
                "<td>\(Self.data(self.ownerLabel(o.owner)))</td><td>\(HTML.escape(l.label(o.state)))\(o.atRisk ? " <span class=\"badge at-risk\">\(l.html(.standingAtRisk))</span>" : "")</td>"
            html += "<td>\(HTML.escape(self.local(o.dueAt, l)))"
            if o.state.isOutstanding {
                html += " <span class=\"countdown\" data-due=\"\(entry.deadline.seconds)\"></span>"
            }
            html +=
                "</td><td>\(HTML.escape(self.local(o.ackDueAt, l)))\(o.acknowledgedAt.map { " " + l.html(.acknowledgedParen, HTML.escape(self.local($0, l))) } ?? "")</td>"
            html += "<td>\(o.attempts)</td><td>\(o.missedCount)</td>"
            let satisfied =
                o.satisfiedAt.map { at in
                    let when = HTML.escape(self.local(at, l))
                    return o.satisfiedBy.map { l.html(.satisfiedBy, when, Self.data(self.directory.label($0))) } ?? when
                } ?? "-"
            html += "<td>\(satisfied)</td>"
            html +=
                "<td>\(self.ackButton(o, session, l, returnTo: "/ui/contacts/" + HTML.urlComponent(contact.id.rawValue)))</td></tr>"
        }
        html += "</tbody></table>"

        html += "<h2>\(l.html(.calls))</h2><ul id=\"calls\">"
        for call in contact.calls {
            let steps = contact.why.filter { $0.call == call }.count
            html +=
                "<li><code>\(HTML.escape(call.rawValue))</code> <span class=\"muted\">\(l.html(.stepsInTrail, String(steps)))</span></li>"
        }
        if contact.calls.isEmpty { html += "<li class=\"muted\">\(l.html(.noCalls))</li>" }
        html += "</ul>"

        if !detail.violations.isEmpty {
            html += "<h2>\(l.html(.violations))</h2><ul>"
            for v in detail.violations {
                let review =
                    detail.reviews[v.id].map {
                        l.html(.reviewedBy, HTML.escape(l.label($0.decision)), Self.data($0.by), Self.data($0.reason))
                    } ?? l.html(.notReviewed)
                let what = l.html(.violationAt, HTML.escape(l.label(v.category)), HTML.escape(self.local(v.at, l)))
                html +=
                    "<li>\(what)\(v.agent.map { " (" + Self.data(self.directory.label($0)) + ")" } ?? "") — \(review)</li>"
            }
            html += "</ul>"
        }

        html += self.actionForms(contact, session, l)
        html += "<h2>\(l.html(.why))</h2><ol class=\"why\" id=\"why\">"
        for entry in (contact.why + detail.amendments).sorted(by: { $0.at < $1.at }) {
            html +=
                "<li><time>\(HTML.escape(self.local(entry.at, l)))</time> <code>\(HTML.escape(entry.rule.rawValue))</code> \(Self.english(entry.message, l))"
            if !entry.evidence.isEmpty {
                html +=
                    " <span class=\"muted\">(\(Self.english(entry.evidence.map(\.description).joined(separator: "; "), l)))</span>"
            }
            html += "</li>"
        }
        html += "</ol></main>"
        return Self.html(
            self.layout(
                l, title: l(.contactHeading, contact.id.rawValue), session: session, current: "", content: html,
                here: "/ui/contacts/" + HTML.urlComponent(contact.id.rawValue), now: now))
    }

    /// The acknowledge button, for a hand-off the signed-in agent may acknowledge (the engine checks
    /// again when it is pressed).
    func ackButton(_ o: Obligation, _ session: WebSession, _ l: Localizer, returnTo: String) -> String {
        guard o.kind == .handoff, o.acknowledgedAt == nil, o.state.isOutstanding, session.principal.role == .agent,
            let me = session.principal.agent
        else { return "" }
        let head = self.directory.department(o.owner.department)?.head == me
        let receiving = o.owner.agent.map { $0 == me } ?? (self.directory.departmentOf(me) == o.owner.department)
        guard receiving || head else { return "" }
        return """
            <form class="inline" method="post" action="/ui/obligations/\(HTML.escape(HTML.urlComponent(o.id.rawValue)))/ack">\
            <input type="hidden" name="csrf" value="\(HTML.escape(session.csrf))"><input type="hidden" name="return" value="\(HTML.escape(returnTo))">\
            <button type="submit" class="primary ack" data-obligation="\(HTML.escape(o.id.rawValue))">\(l.html(.acknowledge))</button></form>
            """
    }

    // MARK: My work

    func myWork(_ session: WebSession, _ l: Localizer) async throws -> Response {
        let principal = session.principal
        let now = self.state.scheduler.clock.now()
        guard principal.role == .agent, let me = principal.agent else {
            let text = l.html(
                .myWorkNotAgent, HTML.escape(l.label(principal.role)), "<a href=\"/ui/board\">\(l.html(.navBoard))</a>")
            return Self.html(
                self.layout(
                    l, title: l(.myWorkTitle), session: session, current: "my",
                    content: "<main id=\"main\"><h1>\(l.html(.myWorkTitle))</h1><p>\(text)</p></main>", here: "/ui/my",
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

        var html = "<main id=\"main\"><h1>\(l.html(.myWorkHeading, Self.data(self.directory.label(me))))</h1>"
        // The screen pop: filled and shown by the page's script when a `routed` notification for
        // this agent arrives (the PBX asked /v1/route and rings this agent first).
        html +=
            "<section id=\"routed-pop\" class=\"pop\" role=\"alert\" hidden><h2>\(l.html(.incomingCall))</h2><p id=\"routed-detail\" translate=\"no\"></p><p><a id=\"routed-contact\" href=\"#\">\(l.html(.openTheContact))</a></p></section>"
        html += "<h2>\(l.html(.handoffsWaiting, String(waiting.count)))</h2>"
        html += self.workTable(waiting, session, l, id: "handoffs", empty: l(.nothingToAcknowledge))
        html += "<h2>\(l.html(.owedByMe, String(owed.count)))</h2>"
        html += self.workTable(owed, session, l, id: "owed", empty: l(.nothingOwed))
        html += "<h2>\(l.html(.myOpenContacts, String(open.count)))</h2><table id=\"open-contacts\"><thead><tr>"
        for column in [Phrase.columnContact, .columnCustomer, .status, .columnDepartment, .columnLastActivity] {
            html += "<th>\(l.html(column))</th>"
        }
        html += "</tr></thead><tbody>"
        for c in open.prefix(500) {
            html +=
                "<tr><td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(c.id.rawValue)))\" translate=\"no\">\(HTML.escape(c.id.rawValue))</a></td>"
            html +=
                "<td translate=\"no\">\(HTML.escape(c.customer.text))</td><td>\(HTML.escape(l.label(c.status)))</td><td>\(Self.data(self.departmentName(c.department)))</td>"
            html += "<td>\(HTML.escape(self.local(c.lastActivity, l)))</td></tr>"
        }
        if open.isEmpty { html += "<tr><td colspan=\"5\" class=\"muted\">\(l.html(.noOpenContacts))</td></tr>" }
        html += "</tbody></table></main>"
        let live = "/ui/events?after=\(try await self.currentOutboxSeq())&live=\(self.changes.head)"
        return Self.html(
            self.layout(
                l, title: l(.myWorkTitle), session: session, current: "my", content: html, here: "/ui/my", now: now,
                attributes: "data-live=\"\(HTML.escape(live))\""))
    }

    func workTable(_ entries: [BoardEntry], _ session: WebSession, _ l: Localizer, id: String, empty: String) -> String
    {
        var html = "<table id=\"\(id)\"><thead><tr>"
        for column in [Phrase.columnDue, .columnKind, .columnCustomer, .columnOwedBy, .columnState, .columnAttempts] {
            html += "<th>\(l.html(column))</th>"
        }
        html += "<th>\(l.html(.columnMissed))</th><th></th></tr></thead><tbody>"
        for entry in entries.prefix(500) {
            let o = entry.obligation
            html +=
                "<tr id=\"ob-\(HTML.escape(o.id.rawValue))\" class=\"\(entry.overdue ? "overdue" : o.atRisk ? "at-risk" : "")\">"
            html +=
                "<td class=\"countdown\" data-due=\"\(entry.deadline.seconds)\"></td><td>\(HTML.escape(l.label(o.kind)))</td>"
            html +=
                "<td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(entry.contact.rawValue)))\" translate=\"no\">\(HTML.escape(entry.customer))</a></td>"
            html +=
                "<td>\(Self.data(self.ownerLabel(o.owner)))</td><td>\(HTML.escape(l.label(o.state)))</td><td>\(o.attempts)</td><td>\(o.missedCount)</td>"
            html += "<td>\(self.ackButton(o, session, l, returnTo: "/ui/my"))</td></tr>"
        }
        if entries.isEmpty { html += "<tr><td colspan=\"8\" class=\"muted\">\(HTML.escape(empty))</td></tr>" }
        return html + "</tbody></table>"
    }

    /// `POST /ui/obligations/{id}/ack`: the signed-in agent acknowledges a hand-off, through the
    /// same scope check and `Engine.acknowledge` as `POST /v1/obligations/{id}/ack`.
    func acknowledge(_ request: Request, _ id: ObligationID) async throws -> Response {
        let l = self.localizer(request)
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), l, l(.formNotFromSession))
        }
        let principal = session.principal
        guard principal.role == .agent, let me = principal.agent else {
            return self.forbidden(session, l, l(.onlyAgentAcknowledges))
        }
        guard let stored = try await self.store.obligation(id),
            let detail = try await self.store.contact(stored.contact, correlator: self.engine.correlator),
            principal.scope(directory: self.directory).admits(detail.contact, violations: detail.violations)
        else { return self.forbidden(session, l, l(.mayNotActOnObligation, id.rawValue)) }
        do {
            _ = try await self.engine.acknowledge(id, by: me, at: self.state.scheduler.clock.now(), store: self.store)
        } catch let error as ActionError {
            return self.message(
                session, l, title: l(.notAcknowledgedTitle), .english(error.description), status: .conflict)
        }
        self.changes.publish(
            "acknowledged", contact: stored.contact, obligation: id, department: stored.obligation.owner.department)
        return Self.seeOther(Self.returnPath(form["return"], default: "/ui/my"))
    }

    // MARK: Violations

    func violationsPage(_ request: Request, _ session: WebSession, _ l: Localizer) async throws -> Response {
        let principal = session.principal
        guard principal.role == .supervisor || principal.role == .admin else {
            return self.forbidden(session, l, l(.reviewedBySupervisors))
        }
        let query = Self.query(request)
        let onlyOpen = query["all"] != "1"
        let snapshot = try await self.store.violations()
        let visible = try await self.state.inScope(snapshot.violations, of: principal)
            .filter { !onlyOpen || snapshot.reviews[$0.id] == nil }
            .sorted { ($0.at, $0.id.rawValue) > ($1.at, $1.id.rawValue) }
        var html =
            "<main id=\"main\"><h1>\(l.html(.violationsHeading))</h1><p>\(l.html(onlyOpen ? .awaitingReview : .inTotal, String(visible.count))) · "
        html +=
            onlyOpen
            ? "<a href=\"/ui/violations?all=1\">\(l.html(.showReviewedToo))</a>"
            : "<a href=\"/ui/violations\">\(l.html(.onlyAwaitingReview))</a>"
        html += "</p><table id=\"violations\"><thead><tr>"
        for column in [
            Phrase.columnWhen, .columnCategory, .columnDepartment, .columnAgent, .columnContact, .columnReview,
        ] {
            html += "<th>\(l.html(column))</th>"
        }
        html += "</tr></thead><tbody>"
        for v in visible.prefix(300) {
            html +=
                "<tr id=\"v-\(HTML.escape(v.id.rawValue))\"><td>\(HTML.escape(self.local(v.at, l)))</td><td>\(HTML.escape(l.label(v.category)))\(v.remediedAt == nil ? "" : " <span class=\"muted\">\(l.html(.remediedLate))</span>")</td>"
            html +=
                "<td>\(Self.data(self.departmentName(v.department)))</td><td>\(Self.data(v.agent.map { self.directory.label($0) } ?? "-"))</td>"
            html +=
                "<td><a href=\"/ui/contacts/\(HTML.escape(HTML.urlComponent(v.contact.rawValue)))\" translate=\"no\">\(HTML.escape(v.contact.rawValue))</a></td><td>"
            if let review = snapshot.reviews[v.id] {
                html +=
                    "<p>\(l.html(.reviewedBy, HTML.escape(l.label(review.decision)), Self.data(review.by), Self.data(review.reason)))</p>"
            }
            html +=
                "<form class=\"inline\" method=\"post\" action=\"/ui/violations/\(HTML.escape(HTML.urlComponent(v.id.rawValue)))/review\">"
            html += "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\">"
            html +=
                "<label class=\"skip\" for=\"d-\(HTML.escape(v.id.rawValue))\">\(l.html(.decision))</label><select name=\"decision\" id=\"d-\(HTML.escape(v.id.rawValue))\">"
            for d in ViolationReview.Decision.allCases {
                html += HTML.option(d.rawValue, l.label(d), current: snapshot.reviews[v.id]?.decision.rawValue)
            }
            html +=
                "</select><input name=\"reason\" required placeholder=\"\(l.html(.reviewReason))\" aria-label=\"\(l.html(.reviewReason))\"><button type=\"submit\">\(l.html(.record))</button></form></td></tr>"
        }
        html += "</tbody></table></main>"
        return Self.html(
            self.layout(
                l, title: l(.violationsTitle), session: session, current: "violations", content: html,
                here: onlyOpen ? "/ui/violations" : "/ui/violations?all=1"))
    }

    /// `POST /ui/violations/{id}/review`: as `POST /v1/violations/{id}/review`.
    func review(_ request: Request, _ id: ViolationID) async throws -> Response {
        let l = self.localizer(request)
        guard let (session, form) = try await self.post(request) else {
            return self.forbidden(self.session(request), l, l(.formNotFromSession))
        }
        let principal = session.principal
        guard principal.role == .supervisor || principal.role == .admin else {
            return self.forbidden(session, l, l(.reviewedBySupervisors))
        }
        guard let decision = form["decision"].flatMap(ViolationReview.Decision.init(rawValue:)) else {
            return self.message(session, l, title: l(.notRecorded), .text(l(.chooseDecision)), status: .badRequest)
        }
        let violation = try await self.store.violation(id)
        guard let violation, try await !self.state.inScope([violation], of: principal).isEmpty
        else {
            return self.forbidden(session, l, l(.mayNotReviewViolation, id.rawValue))
        }
        do {
            try await self.engine.review(
                id, decision: decision, reason: form["reason"] ?? "", by: principal.name,
                at: self.state.scheduler.clock.now(),
                store: self.store)
        } catch let error as ActionError {
            return self.message(session, l, title: l(.notRecorded), .english(error.description), status: .badRequest)
        }
        self.changes.publish("reviewed", contact: violation.contact, violation: id, department: violation.department)
        return Self.seeOther("/ui/violations")
    }

    // MARK: Live stream

    /// The newest outbox sequence number: a page listens from there. Remembered, so only the first
    /// page after a start reads the outbox through.
    func currentOutboxSeq() async throws -> Int64 {
        if let head = self.state.feed.head { return head }
        var seq = self.outboxHead.value.load(ordering: .acquiring)
        while true {
            let entries = try await self.store.outbox(after: seq, limit: 5000)
            guard let last = entries.last else { break }
            seq = last.seq
        }
        _ = self.outboxHead.value.max(seq, ordering: .acquiringAndReleasing)
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
        let body = try self.state.limits.stream(for: principal.name) { writer in
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
                // A comment line every second: a page that went away is noticed by the failed write
                // and gives back its stream place before a reloading reader could use up the limit.
                if round % 4 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
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

    /// One page: the header (navigation, who is signed in, the language switch), `content`, and
    /// the script. `<html lang>` is the page's language (for screen readers, hyphenation and
    /// translation prompts); names and customer text inside keep their own script and are marked
    /// `translate="no"`. `here` is where the language switch comes back to.
    func layout(
        _ l: Localizer, title: String, session: WebSession?, current: String, content: String, here: String,
        now: Timestamp? = nil, attributes: String = ""
    ) -> String {
        var nav = ""
        if let session {
            let p = session.principal
            func link(_ href: String, _ label: Phrase, _ key: String) -> String {
                "<a href=\"\(href)\"\(key == current ? " aria-current=\"page\"" : "")>\(l.html(label))</a>"
            }
            nav += "<nav aria-label=\"\(l.html(.pagesNavigation))\">"
            if p.role == .agent { nav += link("/ui/my", .navMyWork, "my") + " " }
            nav += link("/ui/board", .navBoard, "board")
            if p.role != .agent { nav += " " + link("/ui/violations", .navViolations, "violations") }
            nav += " " + link("/ui/figures", .navFigures, "figures")
            nav +=
                "</nav><span class=\"who\"><span id=\"who\">\(Self.data(p.agent.map { self.directory.label($0) } ?? p.name)) · \(HTML.escape(l.label(p.role)))</span>"
        } else {
            nav += "<span class=\"who\">"
        }
        // The switch names each other language in that language, so a reader who cannot read the
        // current one still finds their own.
        for other in Language.allCases where other != l.language {
            let href = "/ui/language?to=\(HTML.urlComponent(other.rawValue))&return=\(HTML.urlComponent(here))"
            nav +=
                "<a href=\"\(HTML.escape(href))\" class=\"language\" id=\"language-\(other.rawValue)\" lang=\"\(other.rawValue)\" hreflang=\"\(other.rawValue)\" translate=\"no\">\(HTML.escape(Localizer.autonym(other)))</a>"
        }
        if let session {
            nav +=
                "<form method=\"post\" action=\"/ui/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(session.csrf))\"><button type=\"submit\" id=\"signout\">\(l.html(.signOut))</button></form>"
        }
        nav += "</span>"
        let nowAttribute = " data-now=\"\((now ?? self.state.scheduler.clock.now()).seconds)\""
        return """
            <!doctype html>
            <html lang="\(l.language.rawValue)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · FirstContact</title><link rel="stylesheet" href="/ui/assets/app.css"></head>
            <body\(nowAttribute) data-text="\(HTML.escape(Self.scriptText(l)))" \(attributes)><a class="skip" href="#main">\(l.html(.skipToContent))</a>
            <header class="top"><strong translate="no">FirstContact</strong>\(nav)</header>
            \(content)
            <script src="/ui/assets/app.js" defer></script></body></html>
            """
    }

    /// What the pages' script writes (countdowns, the live status, the overdue badge), from the
    /// catalogue, as a JSON object in the body's `data-text`.
    static func scriptText(_ l: Localizer) -> String {
        let units = l.durationUnits
        let fields: [(String, String)] = [
            ("in", l(.dueIn, "%s")), ("late", l(.dueLate, "%s")), ("overdue", l(.standingOverdue)),
            ("live", l(.live)), ("reconnecting", l(.reconnecting)), ("updated", l(.updatedAt, "%s")),
            ("failed", l(.updateFailed, "%s")), ("d", units.day), ("h", units.hour), ("m", units.minute),
            ("s", units.second), ("sep", units.separator),
        ]
        return "{" + fields.map { "\(JSONWriter.quoted($0.0)): \(JSONWriter.quoted($0.1))" }.joined(separator: ", ")
            + "}"
    }

    func forbidden(_ session: WebSession?, _ l: Localizer, _ text: String) -> Response {
        self.message(session, l, title: l(.forbidden), .text(text), status: .forbidden)
    }

    /// The text of a message page: the catalogue's, or what the engine said (in English).
    enum MessageText {
        case text(String)
        case english(String)
    }

    func message(
        _ session: WebSession?, _ l: Localizer, title: String, _ text: MessageText, status: HTTPResponse.Status
    ) -> Response {
        let body =
            switch text {
            case .text(let text): HTML.escape(text)
            case .english(let text): Self.english(text, l)
            }
        let content =
            "<main id=\"main\"><h1>\(HTML.escape(title)) (\(status.code))</h1><p id=\"message\">\(body)</p><p><a href=\"/ui/\">\(l.html(.back))</a></p></main>"
        return Self.html(
            self.layout(l, title: title, session: session, current: "", content: content, here: "/ui/"), status: status)
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
    let value = Atomic<Int64>(0)
}
