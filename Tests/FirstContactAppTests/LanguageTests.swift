import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The interface in English and Chinese from one catalogue: every key in both languages, every page
/// rendered in both with nothing left untranslated, the reader's choice before their browser's
/// before the configuration's, and the CLI's tables.
@Suite("Interface languages")
struct LanguageTests {
    // MARK: The catalogue

    @Test("every phrase has its text in every language, with the same placeholders, and Chinese is Chinese")
    func catalogueIsComplete() {
        for phrase in Phrase.allCases {
            let english = Catalogue.text(phrase, in: .english)
            #expect(!english.isEmpty, "\(phrase) has no English")
            for language in Language.allCases where language != .english {
                let text = Catalogue.text(phrase, in: language)
                #expect(
                    Localizer.placeholders(text) == Localizer.placeholders(english),
                    "\(phrase) in \(language.rawValue): \(text)")
                #expect(text != english, "\(phrase) is not translated into \(language.rawValue)")
            }
            // A phrase that only arranges its arguments (`{1}（{2}，{3}）`) has no words to translate.
            let chinese = Catalogue.text(phrase, in: .chinese)
            let arrangesOnly = Localizer.fill(chinese, ["", "", "", "", "", "", "", "", ""]).allSatisfy { !$0.isLetter }
            #expect(arrangesOnly || !Self.hanRuns(chinese).isEmpty, "\(phrase) has no Chinese: \(chinese)")
        }
    }

    @Test("the product's vocabulary reads in the rule's own Chinese terms")
    func glossaryTerms() {
        let zh = Localizer(.chinese)
        #expect(zh(.firstResponder) == "首问责任人")
        #expect(zh(.columnDepartment) == "承办科室")
        #expect(zh.label(ObligationKind.handoff) == "转交")
        #expect(zh(.columnDueAt) == "规定时限")
        #expect(zh.label(ViolationCategory.passedAround) == "推诿")
        #expect(zh.label(ViolationCategory.notHandedOver) == "未及时汇报或移交")
        #expect(zh.label(ViolationReview.Decision.accept) == "查实")
        #expect(zh(.acknowledge) == "阅知")
        #expect(zh(.firstContactResolution) == "一次办结率")
        // Every value of every vocabulary has a Chinese label of its own.
        let labels: [[String]] = [
            ObligationState.allCases.map(zh.label), ContactStatus.allCases.map(zh.label),
            ContactCategory.allCases.map(zh.label), ContactChannel.allCases.map(zh.label),
            BindingVia.allCases.map(zh.label), ViolationCategory.allCases.map(zh.label),
            ViolationReview.Decision.allCases.map(zh.label), Token.Role.allCases.map(zh.label),
            ObligationKind.allCases.map(zh.label),
        ]
        for list in labels {
            #expect(Set(list).count == list.count, "two values share a label: \(list)")
            #expect(list.allSatisfy { !Self.hanRuns($0).isEmpty }, "\(list)")
        }
    }

    @Test("arguments go where each language puts them; dates and durations in the local convention")
    func formatting() throws {
        #expect(Localizer(.english)(.violationAt, "passed_around", "10:00") == "passed_around at 10:00")
        #expect(Localizer(.chinese)(.violationAt, "推诿", "10:00") == "10:00 推诿")
        #expect(Localizer(.chinese).html(.totalOpen, "<b>3</b>") == "待办 <b>3</b> 件")
        let zone = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)
        let time = try #require(Timestamp(iso8601: "2026-12-04T14:05:31+08:00"))
        #expect(Localizer(.english).time(time, zone: zone) == "2026-12-04 14:05")
        #expect(Localizer(.chinese).time(time, zone: zone) == "2026年12月4日 14:05")
        #expect(Localizer(.chinese).time(nil, zone: zone) == "-")
        #expect(Localizer(.english).duration(3 * 3600 + 12 * 60) == "3h 12m")
        #expect(Localizer(.chinese).duration(3 * 3600 + 12 * 60) == "3小时12分")
        #expect(Localizer(.chinese).duration(59 * 60) == "59分")
    }

    @Test(
        "Accept-Language: the supported language weighed highest; LANG: the first POSIX variable set",
        arguments: [
            ("zh-CN,zh;q=0.9,en;q=0.8", Language.chinese), ("en-US,en;q=0.9,zh-CN;q=0.8", .english),
            ("fr-FR, zh;q=0.5, en;q=0.4", .chinese), ("fr, en;q=0.1", .english), ("zh-TW", .chinese),
            ("zh-Hans-CN", .chinese), ("en;q=0.5, zh;q=0.9", .chinese), ("zh;q=0, en;q=0.2", .english),
        ])
    func acceptLanguage(_ header: String, _ expected: Language) {
        #expect(LanguageChoice.preferred(acceptLanguage: header) == expected)
    }

    @Test("no supported language in Accept-Language or LANG leaves the choice to the configuration")
    func noPreference() {
        #expect(LanguageChoice.preferred(acceptLanguage: "fr, de;q=0.5, *;q=0.1") == nil)
        #expect(LanguageChoice.preferred(acceptLanguage: "") == nil)
        #expect(LanguageChoice.terminal(["LANG": "C.UTF-8"]) == nil)
        #expect(LanguageChoice.terminal([:]) == nil)
        #expect(LanguageChoice.terminal(["LANG": "zh_CN.UTF-8"]) == .chinese)
        #expect(LanguageChoice.terminal(["LANG": "zh_CN.UTF-8", "LC_ALL": "en_US.UTF-8"]) == .english)
        #expect(LanguageChoice.terminal(["LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.GB18030"]) == .chinese)
        #expect(LanguageChoice.terminal(["LANG": "en_US.UTF-8", "LC_ALL": ""]) == .english)
        #expect(LanguageChoice.choose(chosen: nil, acceptLanguage: "fr", configured: .chinese) == .chinese)
        #expect(LanguageChoice.choose(chosen: "klingon", acceptLanguage: nil, configured: .english) == .english)
    }

    // MARK: Every page in both languages

    /// One request of the walk: who asks, for what, and the status it must get.
    struct Visit: Sendable, CustomStringConvertible {
        enum Who: Sendable { case nobody, supervisor, agent, zhou }
        var who: Who
        var uri: String
        var method: HTTPRequest.Method = .get
        var form: String? = nil
        /// Whether the form carries the session's CSRF token.
        var csrf = true
        var status: HTTPResponse.Status = .ok
        var description: String { "\(self.method) \(self.uri)" }
    }

    @Test(
        "every page, error and fragment renders in both languages: <html lang> set, no catalogue text of the other language left",
        .timeLimit(.scaled(minutes: 3)))
    func everyPageInBothLanguages() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await WebTests.app(in: directory)
        // By 15:00 the missed callback and the unread hand-off have become violations.
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T15:00:00"), correlator: try Fixture.engine().correlator)
        let contacts = try await store.contacts(ContactQuery())
        let own = try #require(contacts.first { $0.firstResponder?.agent == AgentID("1001") })
        let missed = try #require(contacts.first { $0.firstResponder == nil })
        let handedOff = try #require(contacts.first { $0.obligations.contains { $0.kind == .handoff } })
        let handoff = try #require(handedOff.obligations.first { $0.kind == .handoff })
        let violations = try await store.violations().violations
        let reviewed = try #require(violations.first { $0.department == DepartmentID("service") })

        try await app.test(.router) { client in
            let supervisor = try await WebTests.signIn(client, token: "demo-supervisor")
            let agent = try await WebTests.signIn(client, token: "demo-agent-1001")
            let zhou = try await WebTests.signIn(client, token: WebTests.zhouToken)
            // A reviewed violation, so the review line and its reason show.
            let (headers, body) = WebTests.form(
                supervisor.cookie, "csrf=\(supervisor.csrf)&decision=excuse&reason=" + HTML.urlComponent("停电"))
            #expect(
                try await client.execute(
                    uri: "/ui/violations/\(reviewed.id)/review", method: .post, headers: headers, body: body
                ).status == .seeOther)

            let visits: [Visit] = [
                Visit(who: .nobody, uri: "/ui/login"),
                Visit(who: .nobody, uri: "/ui/language?to=tlh", status: .badRequest),
                Visit(who: .supervisor, uri: "/ui/board"),
                Visit(who: .supervisor, uri: "/ui/board?state=awaiting_ack&kind=handoff"),
                Visit(who: .supervisor, uri: "/ui/board?owner=department&state=overdue"),
                Visit(who: .zhou, uri: "/ui/board/row?obligation=\(handoff.id)"),
                Visit(who: .supervisor, uri: "/ui/contacts/\(own.id)"),
                Visit(who: .supervisor, uri: "/ui/contacts/\(missed.id)"),
                Visit(who: .zhou, uri: "/ui/contacts/\(handedOff.id)"),
                Visit(who: .supervisor, uri: "/ui/my"),
                Visit(who: .agent, uri: "/ui/my"),
                Visit(who: .zhou, uri: "/ui/my"),
                Visit(who: .supervisor, uri: "/ui/violations"),
                Visit(who: .supervisor, uri: "/ui/violations?all=1"),
                Visit(who: .supervisor, uri: "/ui/figures?from=2026-11-27&to=2026-11-27"),
                Visit(who: .supervisor, uri: "/ui/figures?from=yesterday", status: .badRequest),
                Visit(who: .agent, uri: "/ui/contacts/\(missed.id)", status: .forbidden),
                Visit(who: .agent, uri: "/ui/violations", status: .forbidden),
                Visit(
                    who: .agent, uri: "/ui/contacts/\(own.id)/notes", method: .post, form: "text=x", csrf: false,
                    status: .forbidden),
                Visit(
                    who: .agent, uri: "/ui/contacts/\(own.id)/notes", method: .post, form: "text=%20",
                    status: .badRequest),
                Visit(who: .agent, uri: "/ui/contacts/\(own.id)/bogus", method: .post, form: "", status: .notFound),
                Visit(
                    who: .agent, uri: "/ui/contacts/\(missed.id)/poor-service", method: .post, form: "text=x",
                    status: .forbidden),
                Visit(
                    who: .supervisor, uri: "/ui/contacts/\(missed.id)/poor-service", method: .post, form: "text=x",
                    status: .badRequest),
                Visit(
                    who: .supervisor, uri: "/ui/obligations/\(handoff.id)/ack", method: .post, form: "",
                    status: .forbidden),
                Visit(
                    who: .supervisor, uri: "/ui/violations/\(reviewed.id)/review", method: .post, form: "reason=x",
                    status: .badRequest),
                Visit(
                    who: .agent, uri: "/ui/violations/\(reviewed.id)/review", method: .post,
                    form: "decision=accept&reason=x", status: .forbidden),
            ]
            for language in Language.allCases {
                for visit in visits {
                    var headers: HTTPFields = [.acceptLanguage: language.rawValue]
                    var csrf = ""
                    switch visit.who {
                    case .nobody: break
                    case .supervisor: (headers[.cookie], csrf) = (supervisor.cookie[.cookie], supervisor.csrf)
                    case .agent: (headers[.cookie], csrf) = (agent.cookie[.cookie], agent.csrf)
                    case .zhou: (headers[.cookie], csrf) = (zhou.cookie[.cookie], zhou.csrf)
                    }
                    var body: ByteBuffer?
                    if let form = visit.form {
                        headers[.contentType] = "application/x-www-form-urlencoded"
                        body = ByteBuffer(string: (visit.csrf ? "csrf=\(csrf)&" : "") + form)
                    }
                    let response = try await client.execute(
                        uri: visit.uri, method: visit.method, headers: headers, body: body)
                    #expect(response.status == visit.status, "\(visit) in \(language.rawValue)")
                    let html = WebTests.body(response)
                    if !visit.uri.hasPrefix("/ui/board/row") {
                        #expect(
                            html.contains("<html lang=\"\(language.rawValue)\">"),
                            "\(visit) does not declare \(language.rawValue)")
                    } else {
                        #expect(html.contains("<tr id=\"ob-"), "\(visit): no row")
                    }
                    let untranslated = try Self.untranslated(html, language: language)
                    #expect(untranslated.isEmpty, "\(visit) in \(language.rawValue) shows \(untranslated.sorted())")
                }
            }
        }
    }

    /// What the other language's catalogue left in a page: English words on a Chinese page, Chinese
    /// catalogue terms on an English page. Visible text and the attributes people read count (and
    /// the script's texts in `data-text`); data (`translate="no"`), text marked as another
    /// language and `<code>` do not.
    static func untranslated(_ html: String, language: Language) throws -> Set<String> {
        var text = Self.visibleText(html, language: language.rawValue)
        if let script = Self.attribute("data-text", in: html) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(script.utf8)) as? [String: String])
            text += "\n" + object.values.joined(separator: "\n").replacingOccurrences(of: "%s", with: " ")
        }
        switch language {
        case .english:
            return Self.hanRuns(text).intersection(Self.catalogueHan)
        case .chinese:
            return Self.englishWords(text).intersection(Self.catalogueEnglish)
        }
    }

    /// Every English word of the catalogue (two letters or more) and of the vocabulary's English labels.
    static let catalogueEnglish: Set<String> = {
        let en = Localizer(.english)
        var texts = Phrase.allCases.map { Catalogue.text($0, in: .english) }
        texts += ObligationState.allCases.map(en.label) + ContactStatus.allCases.map(en.label)
        texts += ContactCategory.allCases.map(en.label) + ContactChannel.allCases.map(en.label)
        texts += BindingVia.allCases.map(en.label) + ViolationCategory.allCases.map(en.label)
        texts += ViolationReview.Decision.allCases.map(en.label) + Token.Role.allCases.map(en.label)
        texts += ObligationKind.allCases.map(en.label)
        return texts.reduce(into: Set<String>()) { $0.formUnion(Self.englishWords($1)) }
    }()

    /// Every run of Chinese characters in the Chinese catalogue.
    static let catalogueHan: Set<String> = {
        Phrase.allCases.reduce(into: Set<String>()) { $0.formUnion(Self.hanRuns(Catalogue.text($1, in: .chinese))) }
    }()

    static func englishWords(_ text: String) -> Set<String> {
        var words = Set<String>()
        for token in text.split(whereSeparator: \.isWhitespace) where !token.contains(where: \.isNumber) {
            for run in token.split(whereSeparator: { !($0.isASCII && $0.isLetter) }) where run.count >= 2 {
                words.insert(run.lowercased())
            }
        }
        return words
    }

    static func hanRuns(_ text: String) -> Set<String> {
        var runs = Set<String>()
        var current = ""
        for scalar in text.unicodeScalars {
            if (0x4E00...0x9FFF).contains(scalar.value) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                runs.insert(current)
                current = ""
            }
        }
        if !current.isEmpty { runs.insert(current) }
        return runs
    }

    /// The first value of `name="…"` in `html`, entities decoded.
    static func attribute(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: " \(name)=\"") else { return nil }
        return Self.decode(String(html[range.upperBound...].prefix { $0 != "\"" }))
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The text a reader sees (and the `placeholder`, `aria-label`, `title`, `alt` a screen reader
    /// reads), leaving out elements marked `translate="no"`, in a language other than the page's,
    /// and `<code>`.
    static func visibleText(_ html: String, language: String) -> String {
        let void: Set<String> = ["input", "meta", "link", "br", "img", "hr", "source", "col", "wbr"]
        var out: [String] = []
        var stack: [(name: String, skip: Bool)] = []
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            if !(stack.last?.skip ?? false) { out.append(Self.decode(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: ">") else { return out.joined(separator: "\n") }
            let tag = rest[rest.index(after: open)..<close]
            rest = rest[rest.index(after: close)...]
            if tag.hasPrefix("!") { continue }
            if tag.hasPrefix("/") {
                let name = tag.dropFirst().lowercased()
                if let index = stack.lastIndex(where: { $0.name == name }) { stack.removeSubrange(index...) }
                continue
            }
            let name = String(tag.prefix { !$0.isWhitespace && $0 != "/" }).lowercased()
            var attributes: [String: String] = [:]
            var scan = tag.drop { !$0.isWhitespace }
            while let equals = scan.range(of: "=\"") {
                let key = scan[..<equals.lowerBound].split(whereSeparator: \.isWhitespace).last.map(String.init) ?? ""
                let value = scan[equals.upperBound...].prefix { $0 != "\"" }
                attributes[key.lowercased()] = Self.decode(String(value))
                scan = scan[equals.upperBound...].dropFirst(value.count + 1)
            }
            let skip =
                (stack.last?.skip ?? false) || attributes["translate"] == "no"
                || attributes["lang"].map { $0 != language } ?? false || name == "code"
            if !skip {
                for key in ["placeholder", "aria-label", "title", "alt"] { attributes[key].map { out.append($0) } }
            }
            if !void.contains(name), !tag.hasSuffix("/") { stack.append((name, skip)) }
        }
        if !(stack.last?.skip ?? false) { out.append(Self.decode(String(rest))) }
        return out.joined(separator: "\n")
    }

    @Test("the checker finds an English word left on a Chinese page, and ignores data and marked English")
    func checkerCatchesLeftovers() throws {
        let page =
            "<html lang=\"zh-CN\"><p>待办 3 件 · overdue</p><span translate=\"no\">Board 张敏</span><span lang=\"en\">at risk</span><input placeholder=\"Reason\"><code>first_answer</code></html>"
        #expect(try Self.untranslated(page, language: .chinese) == ["overdue", "reason"])
        let english = "<html lang=\"en\"><p>Board</p><p>逾期</p><b translate=\"no\">逾期</b></html>"
        #expect(try Self.untranslated(english, language: .english) == ["逾期"])
    }

    // MARK: Choosing the language

    @Test(
        "the page's language: the switch's cookie, else Accept-Language, else ui.language; the switch returns to the page"
    )
    func selectionOrder() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await WebTests.app(in: directory) { $0.ui.language = .chinese }
        try await app.test(.router) { client in
            func language(_ headers: HTTPFields) async throws -> String? {
                let html = WebTests.body(try await client.execute(uri: "/ui/login", method: .get, headers: headers))
                return html.range(of: "<html lang=\"").map { String(html[$0.upperBound...].prefix { $0 != "\"" }) }
            }
            let cookie = LanguageChoice.cookie
            #expect(try await language([:]) == "zh-CN", "the configuration decides when nothing else does")
            #expect(try await language([.acceptLanguage: "fr-FR"]) == "zh-CN")
            #expect(try await language([.acceptLanguage: "en-GB,en;q=0.9"]) == "en", "the browser before the config")
            #expect(
                try await language([.acceptLanguage: "en-GB", .cookie: "\(cookie)=zh-CN"]) == "zh-CN",
                "the reader's choice before the browser")
            #expect(try await language([.acceptLanguage: "zh-CN", .cookie: "\(cookie)=en"]) == "en")
            #expect(try await language([.acceptLanguage: "en", .cookie: "\(cookie)=tlh"]) == "en")

            // The switch: a link on the page, a cookie for a year, back to where it was pressed.
            let page = WebTests.body(
                try await client.execute(uri: "/ui/login", method: .get, headers: [.acceptLanguage: "en"]))
            #expect(page.contains("href=\"/ui/language?to=zh-CN&amp;return=%2Fui%2Flogin\""))
            #expect(page.contains("lang=\"zh-CN\" hreflang=\"zh-CN\" translate=\"no\">中文</a>"))
            let chosen = try await client.execute(
                uri: "/ui/language?to=zh-CN&return=%2Fui%2Fboard%3Fstate%3Doverdue", method: .get)
            #expect(chosen.status == .seeOther)
            #expect(chosen.headers[.location] == "/ui/board?state=overdue")
            let set = try #require(chosen.headers[values: .setCookie].first { $0.hasPrefix(cookie + "=zh-CN") })
            #expect(set.contains("Max-Age=31536000") && set.contains("Path=/") && set.contains("HttpOnly"))
            let elsewhere = try await client.execute(
                uri: "/ui/language?to=en&return=https%3A%2F%2Fevil.example", method: .get)
            #expect(elsewhere.headers[.location] == "/ui/", "no open redirect")
            // Signed in, the board follows the cookie too, and its switch returns to the filtered board.
            let supervisor = try await WebTests.signIn(client, token: "demo-supervisor")
            var headers = supervisor.cookie
            headers[.cookie] = (headers[.cookie] ?? "") + "; \(cookie)=en"
            headers[.acceptLanguage] = "zh-CN"
            let board = WebTests.body(
                try await client.execute(uri: "/ui/board?state=overdue", method: .get, headers: headers))
            #expect(board.contains("<html lang=\"en\">"))
            #expect(board.contains("Missed callbacks and hand-offs"))
            #expect(board.contains("return=%2Fui%2Fboard%3Fstate%3Doverdue"))
        }
    }

    @Test("a Chinese board reads in the rule's terms, with local dates and the script's texts in Chinese")
    func chineseBoard() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await WebTests.app(in: directory)
        try await app.test(.router) { client in
            let admin = try await WebTests.signIn(client, token: "demo-admin")
            var headers = admin.cookie
            headers[.acceptLanguage] = "zh-CN,zh;q=0.9"
            let html = WebTests.body(try await client.execute(uri: "/ui/board", method: .get, headers: headers))
            #expect(html.contains("<h1>待办督办看板：回电与转交</h1>"))
            #expect(html.contains("<th scope=\"col\">规定时限</th>"))
            #expect(html.contains("<td>转交</td>"))
            #expect(html.contains("未阅知"))
            #expect(html.contains("2026年11月27日 10:31"), "the callback's due time in the Chinese convention")
            let script = try #require(Self.attribute("data-text", in: html))
            #expect(script.contains("\"late\": \"逾期 %s\"") && script.contains("\"h\": \"小时\""))
            #expect(html.contains("id=\"language-en\""))
        }
    }

    // MARK: The CLI

    @Test(
        "the CLI's tables speak Chinese with --language zh-CN, LANG=zh_CN or ui.language; JSON stays the same bytes",
        .timeLimit(.scaled(minutes: 3)))
    func cliTables() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let master = Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv")
        let lines = try String(contentsOf: master, encoding: .utf8).split(separator: "\n").prefix(120)
        let file = directory.appendingPathComponent("Master.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("cli.sqlite").path
        let config = Fixture.sampleConfig
        let neutral = ["LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""]
        #expect(
            try await Fixture.run(["ingest", "--config", config, "--db", db, file.path], environment: neutral).status
                == 0)
        #expect(
            try await Fixture.run(
                ["tick", "--config", config, "--db", db, "--now", "2026-11-27T23:59:59+08:00"], environment: neutral
            ).status == 0)

        let english = try Fixture.runBlocking(["obligations", "--config", config, "--db", db], environment: neutral)
        #expect(english.status == 0)
        #expect(english.output.hasPrefix("obligation "), "\(english.output.prefix(200))")
        let chinese = try Fixture.runBlocking(
            ["obligations", "--config", config, "--db", db, "--language", "zh-CN"], environment: neutral)
        #expect(chinese.status == 0)
        let header = try #require(chinese.output.split(separator: "\n").first)
        #expect(header.hasPrefix("事项编号"), "\(header)")
        #expect(header.contains("承办人") && header.contains("规定时限") && header.contains("首问责任人"))
        #expect(chinese.output.contains("年11月27日"), "dates in the Chinese convention")
        #expect(chinese.output.contains("已超时"), "the breached state by its term")
        #expect(chinese.output.contains("件待办事项"))
        // The same table from the terminal's language, from the configuration, and English winning over both.
        #expect(
            try await Fixture.run(
                ["obligations", "--config", config, "--db", db], environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": ""]
            )
            .output == chinese.output)
        let zhConfig = directory.appendingPathComponent("zh.yaml")
        try (try String(contentsOfFile: config, encoding: .utf8) + "\nui:\n  language: zh-CN\n").write(
            to: zhConfig, atomically: true, encoding: .utf8)
        #expect(
            try await Fixture.run(["obligations", "--config", zhConfig.path, "--db", db], environment: neutral).output
                == chinese.output)
        #expect(
            try await Fixture.run(
                ["obligations", "--config", zhConfig.path, "--db", db],
                environment: ["LANG": "en_US.UTF-8", "LC_ALL": ""]
            ).output == english.output, "the terminal's English before the configuration's Chinese")
        #expect(
            try await Fixture.run(
                ["obligations", "--config", zhConfig.path, "--db", db, "--language", "en"], environment: neutral
            ).output == english.output)
        for command in [["contacts"], ["violations"]] {
            let table = try Fixture.runBlocking(
                command + ["--config", config, "--db", db, "--language", "zh-CN"], environment: neutral)
            #expect(table.status == 0)
            #expect(table.output.contains("首问责任人") || table.output.contains("违规类别"), "\(command)")
            #expect(!table.output.contains("first responder"), "\(command)")
        }
        // Machine output does not change with the language.
        for command in [
            ["contacts", "--json"], ["obligations", "--json"], ["violations", "--json"], ["export", "--json"],
        ] {
            let plain = try Fixture.runBlocking(command + ["--config", config, "--db", db], environment: neutral)
            let zh = try Fixture.runBlocking(
                command + ["--config", zhConfig.path, "--db", db], environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": ""])
            #expect(plain.status == 0 && plain.output == zh.output, "\(command)")
        }
        let unknown = try Fixture.runBlocking(
            ["contacts", "--config", config, "--db", db, "--language", "fr"], environment: neutral)
        #expect(unknown.status == 64)
        #expect(unknown.output.contains("'en' and 'zh-CN'"))
    }
}
