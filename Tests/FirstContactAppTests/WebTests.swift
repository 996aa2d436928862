import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The web pages (`/ui`), in-process through Hummingbird's router test client over a real SQLite
/// store: sign-in and its cookie, CSRF on every form, scope (403 pages), escaping.
@Suite("Web pages")
struct WebTests {
    /// A token for 周强 (1009, repairs), who receives the failed transfer's hand-off.
    static let zhouToken = "web-test-1009"

    /// The application over the missed call and the failed transfer at 10:20, with a token for 1009.
    static func app(in directory: URL, configure: (inout FirstContactConfiguration) -> Void = { _ in })
        async throws -> (some ApplicationProtocol, SQLiteContactStore)
    {
        let csv = SchedulerFixture.missedCall + "\n" + SchedulerFixture.failedTransfer
        let log = SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog
        return try await APITests.app(csv, log, now: "2026-11-27T10:20:00", in: directory) { configuration in
            configuration.tokens.append(
                Token(
                    name: "zhou-qiang", role: .agent, agent: AgentID("1009"),
                    hash: "sha256:" + SHA256.hex(Self.zhouToken)))
            configure(&configuration)
        }
    }

    static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// The value of `name="FIELD" value="…"` in a page.
    static func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func cookieValue(_ name: String, in response: TestResponse) -> String? {
        response.headers[values: .setCookie].lazy.compactMap { header -> String? in
            guard header.hasPrefix(name + "=") else { return nil }
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }.first
    }

    /// Signs in through the form, as a browser does; returns the session cookie and its CSRF token.
    static func signIn(_ client: some TestClientProtocol, token: String) async throws -> (
        cookie: HTTPFields, csrf: String
    ) {
        let login = try await client.execute(uri: "/ui/login", method: .get)
        let nonce = try #require(Self.field("nonce", in: Self.body(login)))
        #expect(Self.cookieValue(WebSessions.loginCookie, in: login) == nonce)
        let response = try await client.execute(
            uri: "/ui/login", method: .post,
            headers: [
                .cookie: "\(WebSessions.loginCookie)=\(nonce)", .contentType: "application/x-www-form-urlencoded",
            ],
            body: ByteBuffer(string: "nonce=\(nonce)&token=\(token)"))
        #expect(response.status == .seeOther)
        let session = try #require(Self.cookieValue(WebSessions.cookie, in: response))
        let cookie: HTTPFields = [.cookie: "\(WebSessions.cookie)=\(session)"]
        let page = try await client.execute(uri: "/ui/board", method: .get, headers: cookie)
        let csrf = try #require(Self.field("csrf", in: Self.body(page)))
        return (cookie, csrf)
    }

    static func form(_ cookie: HTTPFields, _ text: String) -> (HTTPFields, ByteBuffer) {
        var headers = cookie
        headers[.contentType] = "application/x-www-form-urlencoded"
        return (headers, ByteBuffer(string: text))
    }

    @Test(
        "escaping turns markup into text and leaves Chinese and emoji alone",
        arguments: [
            ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            ("张敏", "张敏"),
            ("\"><img src=x onerror=alert('x')>", "&quot;&gt;&lt;img src=x onerror=alert(&#39;x&#39;)&gt;"),
            ("王芳 & 李娜 😀", "王芳 &amp; 李娜 😀"),
            ("", ""),
        ])
    func escaping(input: String, expected: String) {
        #expect(HTML.escape(input) == expected)
    }

    @Test("form fields decode UTF-8 percent escapes and plus signs; URL components encode them back")
    func formFields() {
        let fields = HTML.formFields("token=a+b&reason=%E5%BC%A0%E6%95%8F%20ok&empty=&bad=%ZZ&token=second")
        #expect(fields["token"] == "a b")
        #expect(fields["reason"] == "张敏 ok")
        #expect(fields["empty"] == "")
        #expect(fields["bad"] == "%ZZ")
        #expect(HTML.urlComponent("客服 a/b") == "%E5%AE%A2%E6%9C%8D%20a%2Fb")
    }

    @Test(
        "sign-in exchanges the token for an HttpOnly SameSite=Strict session cookie; wrong token 401, pbx token 403, a form without its nonce 403"
    )
    func signIn() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            // No session: pages redirect to the sign-in form.
            try await client.execute(uri: "/ui/board", method: .get) { response in
                #expect(response.status == .seeOther || response.status == .found)
                #expect(response.headers[.location] == "/ui/login")
            }
            let login = try await client.execute(uri: "/ui/login", method: .get)
            let nonce = try #require(Self.field("nonce", in: Self.body(login)))
            let loginCookie = try #require(login.headers[.setCookie])
            #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict"))
            func post(_ text: String, cookie: String?, proto: String? = nil) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                if let cookie { headers[.cookie] = cookie }
                if let proto, let name = HTTPField.Name("X-Forwarded-Proto") { headers[name] = proto }
                return try await client.execute(
                    uri: "/ui/login", method: .post, headers: headers, body: ByteBuffer(string: text))
            }
            let paired = "\(WebSessions.loginCookie)=\(nonce)"
            #expect(try await post("nonce=\(nonce)&token=demo-supervisor", cookie: nil).status == .forbidden)
            #expect(try await post("token=demo-supervisor", cookie: paired).status == .forbidden)
            #expect(try await post("nonce=\(nonce)&token=wrong", cookie: paired).status == .unauthorized)
            #expect(try await post("nonce=\(nonce)&token=demo-pbx", cookie: paired).status == .forbidden)

            let good = try await post("nonce=\(nonce)&token=demo-supervisor", cookie: paired)
            #expect(good.status == .seeOther)
            #expect(good.headers[.location] == "/ui/board")
            let cookie = try #require(good.headers[values: .setCookie].first { $0.hasPrefix(WebSessions.cookie + "=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/"))
            #expect(!cookie.contains("Secure"))
            #expect(!cookie.contains("demo-supervisor"), "the token itself never goes into a cookie")
            // Behind a TLS proxy the cookie is Secure.
            let secure = try await post("nonce=\(nonce)&token=demo-agent-1001", cookie: paired, proto: "https")
            #expect(
                secure.headers[values: .setCookie].contains {
                    $0.hasPrefix(WebSessions.cookie + "=") && $0.contains("Secure")
                })
            #expect(secure.headers[.location] == "/ui/my")
        }
    }

    @Test(
        "every form action needs the session's CSRF token: without it or with another session's, 403 and nothing recorded"
    )
    func csrf() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let handoff = try #require(
            try await store.contacts(ContactQuery()).flatMap(\.obligations).first { $0.kind == .handoff })
        try await app.test(.router) { client in
            let zhou = try await Self.signIn(client, token: Self.zhouToken)
            let other = try await Self.signIn(client, token: "demo-agent-1001")
            #expect(zhou.csrf != other.csrf)
            let uri = "/ui/obligations/\(handoff.id)/ack"
            for text in ["return=/ui/my", "csrf=\(other.csrf)&return=/ui/my", "csrf=&return=/ui/my"] {
                let (headers, body) = Self.form(zhou.cookie, text)
                try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden)
                }
            }
            #expect(try await store.obligation(handoff.id)?.obligation.acknowledgedAt == nil)

            // The supervisor's board lists it as awaiting acknowledgement …
            let supervisor = try await Self.signIn(client, token: "demo-admin")
            let rowURI = "/ui/board/row?state=awaiting_ack&obligation=\(handoff.id)"
            let before = try await client.execute(uri: rowURI, method: .get, headers: supervisor.cookie)
            #expect(Self.body(before).contains("id=\"ob-\(handoff.id)\""))

            // … the receiving agent acknowledges with the right token, and is sent back to their page.
            let (headers, body) = Self.form(zhou.cookie, "csrf=\(zhou.csrf)&return=/ui/my")
            try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/my")
            }
            #expect(try await store.obligation(handoff.id)?.obligation.acknowledgedAt != nil)
            // … and the row leaves the awaiting-acknowledgement list (what the live update fetches).
            let after = try await client.execute(uri: rowURI, method: .get, headers: supervisor.cookie)
            #expect(Self.body(after).isEmpty)

            // Sign-out needs the token too, and then the session is gone.
            let (h1, b1) = Self.form(zhou.cookie, "")
            #expect(
                try await client.execute(uri: "/ui/logout", method: .post, headers: h1, body: b1).status == .forbidden)
            let (h2, b2) = Self.form(zhou.cookie, "csrf=\(zhou.csrf)")
            let out = try await client.execute(uri: "/ui/logout", method: .post, headers: h2, body: b2)
            #expect(out.status == .seeOther)
            #expect(
                out.headers[values: .setCookie].contains {
                    $0.hasPrefix(WebSessions.cookie + "=;") || $0.contains("Max-Age=0")
                })
            try await client.execute(uri: "/ui/my", method: .get, headers: zhou.cookie) { response in
                #expect(response.headers[.location] == "/ui/login")
            }
        }
    }

    @Test("an agent gets a 403 page for a contact outside their scope (and for a missing one), their own contact opens")
    func contactScope() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contacts = try await store.contacts(ContactQuery())
        let missed = try #require(contacts.first { $0.firstResponder == nil })
        let own = try #require(contacts.first { $0.firstResponder?.agent == AgentID("1001") })
        try await app.test(.router) { client in
            let agent = try await Self.signIn(client, token: "demo-agent-1001")
            for id in [missed.id.rawValue, "C-no-such-contact"] {
                try await client.execute(uri: "/ui/contacts/\(id)", method: .get, headers: agent.cookie) { response in
                    #expect(response.status == .forbidden)
                    let html = Self.body(response)
                    #expect(html.contains("Forbidden (403)"))
                    #expect(!html.contains(missed.customer.text))
                }
            }
            try await client.execute(uri: "/ui/contacts/\(own.id)", method: .get, headers: agent.cookie) { response in
                #expect(response.status == .ok)
                let html = Self.body(response)
                #expect(html.contains("handoff_pending"))
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(
                    response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            }
            // The supervisor of service and billing sees the missed service call.
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            try await client.execute(uri: "/ui/contacts/\(missed.id)", method: .get, headers: supervisor.cookie) {
                #expect($0.status == .ok)
            }
            // Violations are the supervisors'.
            try await client.execute(uri: "/ui/violations", method: .get, headers: agent.cookie) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test("hostile and Chinese agent names are escaped on every page that shows them")
    func hostileNames() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hostile = "<script>alert(\"张敏\")</script>"
        let (app, store) = try await Self.app(in: directory) { configuration in
            if let i = configuration.agents.firstIndex(where: { $0.id == AgentID("1001") }) {
                configuration.agents[i].name = hostile
            }
        }
        let own = try #require(
            try await store.contacts(ContactQuery()).first { $0.firstResponder?.agent == AgentID("1001") })
        try await app.test(.router) { client in
            let agent = try await Self.signIn(client, token: "demo-agent-1001")
            for uri in ["/ui/my", "/ui/contacts/\(own.id)"] {
                let html = Self.body(try await client.execute(uri: uri, method: .get, headers: agent.cookie))
                #expect(!html.contains(hostile), "raw markup on \(uri)")
                #expect(
                    html.contains("&lt;script&gt;alert(&quot;张敏&quot;)&lt;/script&gt;"),
                    "escaped name missing on \(uri)")
                #expect(!html.contains("<script>"), "no inline script at all on \(uri)")
            }
            // The board's owner filter lists the agent by name too.
            let admin = try await Self.signIn(client, token: "demo-admin")
            let board = Self.body(try await client.execute(uri: "/ui/board", method: .get, headers: admin.cookie))
            #expect(board.contains("1001 &lt;script&gt;"))
            #expect(board.contains("客户服务中心"))
        }
    }

    @Test("the board sorts overdue first, then at risk, then by due time, and filters by state")
    func boardOrder() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            let admin = try await Self.signIn(client, token: "demo-admin")
            let html = Self.body(try await client.execute(uri: "/ui/board", method: .get, headers: admin.cookie))
            // At 10:20 the failed transfer's hand-off missed its acknowledge clock (10:15:31): overdue;
            // the missed call's callback is due 10:31 and at risk since 10:25 — not yet, so on time.
            let ids = html.components(separatedBy: "<tr id=\"ob-").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            #expect(ids.count == 2)
            #expect(ids.first?.hasPrefix("ho-") == true, "hand-off first: \(ids)")
            #expect(ids.last?.hasPrefix("cb-") == true)
            let overdue = Self.body(
                try await client.execute(uri: "/ui/board?state=overdue", method: .get, headers: admin.cookie))
            #expect(overdue.components(separatedBy: "<tr id=\"ob-").count - 1 == 1)
            let onTime = Self.body(
                try await client.execute(
                    uri: "/ui/board?state=on_time&kind=callback", method: .get, headers: admin.cookie))
            #expect(onTime.components(separatedBy: "<tr id=\"ob-").count - 1 == 1)
        }
    }

    @Test(
        "the board's totals endpoint counts what the board would show: filters, scope, the summary line, and after an acknowledgement"
    )
    func boardTotals() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let handoff = try #require(
            try await store.contacts(ContactQuery()).flatMap(\.obligations).first { $0.kind == .handoff })
        try await app.test(.router) { client in
            func totals(_ query: String, _ cookie: HTTPFields) async throws -> [Int] {
                let response = try await client.execute(uri: "/ui/board/totals" + query, method: .get, headers: cookie)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let object = try #require(try APITests.json(response) as? [String: Int])
                return [object["open"] ?? -1, object["overdue"] ?? -1, object["at_risk"] ?? -1]
            }
            /// The summary line of the rendered board with the same query: the numbers must agree.
            func summary(_ query: String, _ cookie: HTTPFields) async throws -> [Int] {
                let html = Self.body(try await client.execute(uri: "/ui/board" + query, method: .get, headers: cookie))
                return ["id=\"total\">", "id=\"total-overdue\">", "id=\"total-at-risk\">"].map { marker in
                    html.range(of: marker).flatMap { Int(html[$0.upperBound...].prefix { $0.isNumber }) } ?? -1
                }
            }
            #expect(try await client.execute(uri: "/ui/board/totals", method: .get).status == .unauthorized)

            let admin = try await Self.signIn(client, token: "demo-admin")
            // At 10:20: the hand-off missed its acknowledge clock (overdue), the callback is on time.
            let expected: [(String, [Int])] = [
                ("", [2, 1, 0]), ("?kind=callback", [1, 0, 0]), ("?kind=handoff", [1, 1, 0]),
                ("?state=overdue", [1, 1, 0]),
                ("?state=on_time", [1, 0, 0]), ("?state=awaiting_ack", [1, 1, 0]), ("?owner=1001", [0, 0, 0]),
                ("?department=\(handoff.owner.department)", [1, 1, 0]),
            ]
            for (query, numbers) in expected {
                #expect(try await totals(query, admin.cookie) == numbers, "admin \(query)")
                #expect(try await summary(query, admin.cookie) == numbers, "admin board \(query)")
            }
            // Scope: the supervisor of service and billing does not count the repairs hand-off;
            // 周强 (repairs) counts his department's hand-off and not the service callback.
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            #expect(try await totals("", supervisor.cookie) == [1, 0, 0])
            #expect(try await summary("", supervisor.cookie) == [1, 0, 0])
            let zhou = try await Self.signIn(client, token: Self.zhouToken)
            #expect(try await totals("", zhou.cookie) == [1, 1, 0])

            // 周强 acknowledges: the hand-off no longer awaits acknowledgement; it acknowledged after
            // its acknowledge clock ran out, so it stays breached, and overdue.
            let (headers, body) = Self.form(zhou.cookie, "csrf=\(zhou.csrf)&return=/ui/my")
            #expect(
                try await client.execute(
                    uri: "/ui/obligations/\(handoff.id)/ack", method: .post, headers: headers, body: body
                ).status == .seeOther)
            #expect(try await totals("?state=awaiting_ack", admin.cookie) == [0, 0, 0])
            #expect(try await store.obligation(handoff.id)?.obligation.state == .breached)
            let afterAck = try await totals("", admin.cookie)
            #expect(afterAck == [2, 1, 0])
            #expect(try await summary("", admin.cookie) == afterAck)
        }
    }

    @Test(
        "contact actions go through the engine's rules: a note needs the CSRF token and text, and lands in the why trail"
    )
    func contactActions() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contacts = try await store.contacts(ContactQuery())
        let own = try #require(contacts.first { $0.firstResponder?.agent == AgentID("1001") })
        let missed = try #require(contacts.first { $0.firstResponder == nil })
        try await app.test(.router) { client in
            let agent = try await Self.signIn(client, token: "demo-agent-1001")
            let note = "客户说明天上午在家 <b>ok</b>"
            let encoded = "text=" + HTML.urlComponent(note)
            var (headers, body) = Self.form(agent.cookie, encoded)
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(own.id)/notes", method: .post, headers: headers, body: body
                ).status == .forbidden)
            (headers, body) = Self.form(agent.cookie, "csrf=\(agent.csrf)&text=%20")
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(own.id)/notes", method: .post, headers: headers, body: body
                ).status == .badRequest)
            (headers, body) = Self.form(agent.cookie, "csrf=\(agent.csrf)&" + encoded)
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(missed.id)/notes", method: .post, headers: headers, body: body
                ).status == .forbidden)
            try await client.execute(uri: "/ui/contacts/\(own.id)/notes", method: .post, headers: headers, body: body) {
                response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/ui/contacts/\(own.id)")
            }
            let page = Self.body(
                try await client.execute(uri: "/ui/contacts/\(own.id)", method: .get, headers: agent.cookie))
            #expect(page.contains("客户说明天上午在家 &lt;b&gt;ok&lt;/b&gt;"))
            #expect(page.contains("id=\"form-resolve\""))
            #expect(!page.contains("id=\"form-reassign\""))
            // Supervisor-only actions: refused to an agent, offered to and recorded for a supervisor.
            (headers, body) = Self.form(agent.cookie, "csrf=\(agent.csrf)&agent=1002&reason=x")
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(own.id)/reassign", method: .post, headers: headers, body: body
                ).status == .forbidden)
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            let supervised = Self.body(
                try await client.execute(uri: "/ui/contacts/\(own.id)", method: .get, headers: supervisor.cookie))
            #expect(
                supervised.contains("id=\"form-reassign\"") && supervised.contains("id=\"form-complaint\"")
                    && supervised.contains("id=\"form-poor-service\""))
            (headers, body) = Self.form(
                supervisor.cookie, "csrf=\(supervisor.csrf)&text=" + HTML.urlComponent("客户投诉等待太久"))
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(own.id)/complaints", method: .post, headers: headers, body: body
                ).status == .seeOther)
            (headers, body) = Self.form(
                supervisor.cookie, "csrf=\(supervisor.csrf)&agent=1002&reason=" + HTML.urlComponent("张敏休假"))
            #expect(
                try await client.execute(
                    uri: "/ui/contacts/\(own.id)/reassign", method: .post, headers: headers, body: body
                ).status == .seeOther)
            let detail = try #require(try await store.contact(own.id, correlator: try Fixture.engine().correlator))
            #expect(detail.contact.firstResponder?.agent == AgentID("1002"))
            #expect(detail.contact.firstResponder?.via == .reassigned)
            #expect(detail.violations.map(\.category).contains(.complaint))
        }
    }

    @Test("the figures page draws SLA attainment per department as SVG and lists the agents in scope")
    func figures() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            let page = try await client.execute(
                uri: "/ui/figures?from=2026-11-27&to=2026-11-27", method: .get, headers: supervisor.cookie)
            #expect(page.status == .ok)
            let html = Self.body(page)
            #expect(html.contains("<svg id=\"sla-chart\""))
            #expect(html.contains("data-department=\"service\""))
            #expect(!html.contains("data-department=\"repairs\""), "another department's figures")
            #expect(html.contains("1001 张敏"))
            #expect(!html.contains("1009 周强"), "an agent of another department")
            #expect(html.contains("value=\"2026-11-27\""))
            let bad = try await client.execute(
                uri: "/ui/figures?from=yesterday", method: .get, headers: supervisor.cookie)
            #expect(bad.status == .badRequest)
        }
    }

    @Test("the figures page without a period opens on the 7 days ending with the newest data's day, shown in the form")
    func figuresOpenWhereTheDataIs() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = SchedulerFixture.missedCall + "\n" + SchedulerFixture.failedTransfer
        let log = SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog
        // The day's records are of 11-27; the clock is in the next month.
        let (app, _) = try await APITests.app(csv, log, now: "2026-12-09T10:00:00", in: directory)
        try await app.test(.router) { client in
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            let html = Self.body(try await client.execute(uri: "/ui/figures", method: .get, headers: supervisor.cookie))
            #expect(html.contains("name=\"from\" id=\"from\" value=\"2026-11-21\""))
            #expect(html.contains("name=\"to\" id=\"to\" value=\"2026-11-27\""))
            // The service callback of 11-27 is in it (not an empty December).
            #expect(html.contains("data-department=\"service\""))
            let chosen = Self.body(
                try await client.execute(
                    uri: "/ui/figures?from=2026-12-01&to=2026-12-09", method: .get, headers: supervisor.cookie))
            #expect(chosen.contains("value=\"2026-12-01\"") && chosen.contains("value=\"2026-12-09\""))
        }
    }

    @Test(
        "every page declares the language its text is written in: English",
        arguments: ["/ui/login", "/ui/board", "/ui/figures"])
    func pageLanguage(_ uri: String) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            let html = Self.body(
                try await client.execute(uri: uri, method: .get, headers: uri == "/ui/login" ? [:] : supervisor.cookie))
            #expect(html.contains("<html lang=\"en\">"))
            #expect(!html.contains("zh-Hans"))
        }
    }

    @Test(
        "a supervisor reviews a violation through the page: CSRF and a reason required, the decision recorded with their name"
    )
    func violationReview() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T15:00:00"), correlator: try Fixture.engine().correlator)
        let violation = try #require(
            try await store.violations().violations.first { $0.department == DepartmentID("service") })
        try await app.test(.router) { client in
            let supervisor = try await Self.signIn(client, token: "demo-supervisor")
            let list = Self.body(
                try await client.execute(uri: "/ui/violations", method: .get, headers: supervisor.cookie))
            #expect(list.contains("id=\"v-\(violation.id)\""))
            let uri = "/ui/violations/\(violation.id)/review"
            var (headers, body) = Self.form(supervisor.cookie, "decision=accept&reason=late")
            #expect(
                try await client.execute(uri: uri, method: .post, headers: headers, body: body).status == .forbidden)
            (headers, body) = Self.form(supervisor.cookie, "csrf=\(supervisor.csrf)&decision=accept&reason=%20")
            #expect(
                try await client.execute(uri: uri, method: .post, headers: headers, body: body).status == .badRequest)
            (headers, body) = Self.form(
                supervisor.cookie, "csrf=\(supervisor.csrf)&decision=excuse&reason=" + HTML.urlComponent("停电，系统故障"))
            #expect(try await client.execute(uri: uri, method: .post, headers: headers, body: body).status == .seeOther)
            let review = try #require(try await store.reviews()[violation.id])
            #expect(review.decision == .excuse)
            #expect(review.reason == "停电，系统故障")
            #expect(review.by == "lin-supervisor")
        }
    }
}
