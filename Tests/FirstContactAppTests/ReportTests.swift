import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A hand-built hotline day (Friday 2026-11-27, +08:00; office hours 08:30–12:00, 14:00–17:30)
/// whose report figures are worked out by hand below.
enum ReportFixture {
    /// A: 13800002222 abandons in the hotline queue (10:00–10:01): callback owed by service, due
    ///    10:31; 王芳 (1002) calls back at 10:20 — on time, and she becomes first responder.
    /// B: 13800004444 abandons the same way; due 10:31, breached; 李娜 (1003) calls back at 11:00 — late.
    /// C: 13800003333, answered by 张敏 (1001), transferred to repairs where nobody answers: a
    ///    hand-off owed by repairs, created 10:05:31 (ack due 10:15:31, contact due 11:05:31);
    ///    acknowledged by 周强 (1009) at 10:09:31 (240 s), the customer never contacted: breached 11:05:31.
    /// D: 13800005555 dials 刘洋 (1004) directly at 10:00, no answer: callback owed by 1004, due
    ///    10:30:30, breached; its violation is accepted.
    /// E: 13800006666 dials 1004 directly at 10:05, no answer: due 10:35:30, breached; excused.
    /// F, G (Wednesday 11-25): 陈静 (1005) answers 13800007777 and 13800008888; both close after
    ///    `auto_close` (24 h). 13800007777 calls again on 11-27 09:00 (1005 answers): a repeat of F.
    static let csv =
        SchedulerFixture.missedCall + "\n" + SchedulerFixture.failedTransfer + "\n" + #"""
            "","13800004444","96116","from-trunk","13800004444","PJSIP/trunk-00000081","","Queue","hotline,t,,,300","2026-11-27 10:00:00","2026-11-27 10:00:01","2026-11-27 10:01:00",60,59,"ANSWERED","DOCUMENTATION","1795744800.81","","","1795744800.81",81
            "","1002","13800002222","from-internal","1002","PJSIP/1002-00000041","PJSIP/trunk-00000042","Dial","PJSIP/13800002222@trunk","2026-11-27 10:20:00","2026-11-27 10:20:05","2026-11-27 10:22:00",120,115,"ANSWERED","DOCUMENTATION","1795746000.41","","","1795746000.41",41
            "","1003","13800004444","from-internal","1003","PJSIP/1003-00000043","PJSIP/trunk-00000044","Dial","PJSIP/13800004444@trunk","2026-11-27 11:00:00","2026-11-27 11:00:05","2026-11-27 11:03:00",180,175,"ANSWERED","DOCUMENTATION","1795748400.43","","","1795748400.43",43
            "","13800005555","1004","from-trunk","13800005555","PJSIP/trunk-00000071","PJSIP/1004-00000072","Dial","PJSIP/1004,30","2026-11-27 10:00:00",,"2026-11-27 10:00:30",30,0,"NO ANSWER","DOCUMENTATION","1795744800.71","","","1795744800.71",71
            "","13800006666","1004","from-trunk","13800006666","PJSIP/trunk-00000073","PJSIP/1004-00000074","Dial","PJSIP/1004,30","2026-11-27 10:05:00",,"2026-11-27 10:05:30",30,0,"NO ANSWER","DOCUMENTATION","1795745100.73","","","1795745100.73",73
            "","13800007777","96116","from-trunk","13800007777","PJSIP/trunk-00000061","PJSIP/1005-00000062","Dial","PJSIP/1005","2026-11-25 10:00:00","2026-11-25 10:00:05","2026-11-25 10:03:00",180,175,"ANSWERED","DOCUMENTATION","1795571000.61","","","1795571000.61",61
            "","13800008888","96116","from-trunk","13800008888","PJSIP/trunk-00000063","PJSIP/1005-00000064","Dial","PJSIP/1005","2026-11-25 10:10:00","2026-11-25 10:10:05","2026-11-25 10:13:00",180,175,"ANSWERED","DOCUMENTATION","1795571600.63","","","1795571600.63",63
            "","13800007777","96116","from-trunk","13800007777","PJSIP/trunk-00000065","PJSIP/1005-00000066","Dial","PJSIP/1005","2026-11-27 09:00:00","2026-11-27 09:00:05","2026-11-27 09:04:00",240,235,"ANSWERED","DOCUMENTATION","1795741200.65","","","1795741200.65",65
            """#
    static let queueLog =
        SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog + "\n" + """
            1795744810|1795744800.81|hotline|NONE|ENTERQUEUE||13800004444|1
            1795744860|1795744800.81|hotline|NONE|ABANDON|1|1|50
            """

    static let agent1004: HTTPFields = [.authorization: "Bearer demo-agent-1004"]

    /// The store after the day, the acknowledgement and the reviews, and the app over it at 12:00.
    static func app(in directory: URL) async throws -> (some ApplicationProtocol, SQLiteContactStore) {
        let (app, store) = try await APITests.app(Self.csv, Self.queueLog, now: "2026-11-27T12:00:00", in: directory) {
            $0.tokens.append(
                Token(
                    name: "liu-yang", role: .agent, agent: AgentID("1004"),
                    hash: "sha256:" + SHA256.hex("demo-agent-1004")))
        }
        let engine = try Fixture.engine()
        let handoff = try #require(
            try await store.contacts(ContactQuery()).flatMap(\.obligations).first { $0.kind == .handoff })
        _ = try await engine.acknowledge(
            handoff.id, by: AgentID("1009"), at: try SchedulerFixture.at("2026-11-27T10:09:31"), store: store)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)
        let violations = try await store.violations().violations.filter { $0.agent == AgentID("1004") }.sorted {
            $0.at < $1.at
        }
        try #require(violations.count == 2)
        try await engine.review(
            violations[0].id, decision: .accept, reason: "no callback", by: "lin",
            at: try SchedulerFixture.at("2026-11-27T12:00:00"), store: store)
        try await engine.review(
            violations[1].id, decision: .excuse, reason: "in a meeting", by: "lin",
            at: try SchedulerFixture.at("2026-11-27T12:00:00"), store: store)
        return (app, store)
    }
}

@Suite("Reports")
struct ReportTests {
    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try APITests.json(response) as? [String: Any])
    }

    static func department(_ body: [String: Any], _ id: String) -> [String: Any]? {
        (body["departments"] as? [[String: Any]])?.first { $0["department"] as? String == id }
    }

    static func agent(_ body: [String: Any], _ id: String) throws -> [String: Any] {
        try #require((body["agents"] as? [[String: Any]])?.first { $0["agent"] as? String == id })
    }

    @Test("the missed-callback board lists what is still owed, overdue first, scoped by role")
    func missedCallbacksBoard() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await ReportFixture.app(in: directory)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/reports/missed-callbacks", method: .get, headers: APITests.admin) {
                response in
                #expect(response.status == .ok)
                let rows = try #require(try Self.object(response)["obligations"] as? [[String: Any]])
                // D (due 10:30:30), E (10:35:30), C (11:05:31): all overdue at 12:00, by deadline. A and B are met.
                #expect(
                    rows.compactMap { $0["customer"] as? String } == [
                        "+8613800005555", "+8613800006666", "+8613800003333",
                    ])
                #expect(rows.allSatisfy { $0["overdue"] as? Bool == true })
                #expect(rows.first?["seconds_left"] as? Int == -(3600 + 29 * 60 + 30))
                let owner = try #require(rows.first?["owner"] as? [String: Any])
                #expect(owner["agent"] as? String == "1004")
                #expect(owner["department"] as? String == "service")
                #expect(rows.first?["missed_count"] as? Int == 1)
                #expect(rows.first?["attempts"] as? Int == 0)
                #expect(rows.last?["kind"] as? String == "handoff")
                #expect(rows.last?["deadline"] as? String == "2026-11-27T03:05:31Z")
            }
            // The supervisor of service and billing: not repairs' hand-off.
            try await client.execute(uri: "/v1/reports/missed-callbacks", method: .get, headers: APITests.supervisor) {
                response in
                let rows = try #require(try Self.object(response)["obligations"] as? [[String: Any]])
                #expect(rows.compactMap { $0["customer"] as? String } == ["+8613800005555", "+8613800006666"])
            }
            // 张敏 owes nothing; 刘洋 sees his two callbacks.
            try await client.execute(uri: "/v1/reports/missed-callbacks", method: .get, headers: APITests.agent1001) {
                response in
                let rows = try Self.object(response)["obligations"] as? [Any]
                #expect(rows?.isEmpty == true)
            }
            try await client.execute(
                uri: "/v1/reports/missed-callbacks", method: .get, headers: ReportFixture.agent1004
            ) { response in
                let rows = try #require(try Self.object(response)["obligations"] as? [[String: Any]])
                #expect(rows.count == 2)
            }
            try await client.execute(uri: "/v1/reports/missed-callbacks", method: .get, headers: APITests.pbx) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/reports/missed-callbacks", method: .get) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test("SLA attainment per department counts obligations due in the period: on time ÷ decided")
    func slaAttainment() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await ReportFixture.app(in: directory)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/reports/sla?from=2026-11-27&to=2026-11-27", method: .get, headers: APITests.admin
            ) { response in
                #expect(response.status == .ok)
                let body = try Self.object(response)
                #expect(body["from"] as? String == "2026-11-26T16:00:00Z")
                #expect(body["to"] as? String == "2026-11-27T16:00:00Z")
                // service: A on time, B late, D and E breached → 1 ÷ 4.
                let callbacks = try #require(Self.department(body, "service")?["callbacks"] as? [String: Any])
                #expect(callbacks["due"] as? Int == 4)
                #expect(callbacks["on_time"] as? Int == 1)
                #expect(callbacks["late"] as? Int == 1)
                #expect(callbacks["breached"] as? Int == 2)
                #expect(callbacks["decided"] as? Int == 4)
                #expect(callbacks["attainment"] as? Double == 0.25)
                // repairs: C breached → 0 ÷ 1.
                let handoffs = try #require(Self.department(body, "repairs")?["handoffs"] as? [String: Any])
                #expect(handoffs["breached"] as? Int == 1)
                #expect(handoffs["attainment"] as? Double == 0)
                // Nothing due for billing: attainment null, not 0 or 100 %.
                let billing = try #require(Self.department(body, "billing")?["callbacks"] as? [String: Any])
                #expect(billing["due"] as? Int == 0)
                #expect(billing["attainment"] is NSNull)
            }
            try await client.execute(
                uri: "/v1/reports/sla?from=2026-11-27&to=2026-11-27", method: .get, headers: APITests.supervisor
            ) { response in
                let body = try Self.object(response)
                let ids = (body["departments"] as? [[String: Any]])?.compactMap { $0["department"] as? String }
                #expect(ids == ["service", "billing"])
            }
            // An agent: only the obligations they own.
            try await client.execute(
                uri: "/v1/reports/sla?from=2026-11-27&to=2026-11-27", method: .get, headers: ReportFixture.agent1004
            ) { response in
                let body = try Self.object(response)
                let callbacks = try #require(Self.department(body, "service")?["callbacks"] as? [String: Any])
                #expect(callbacks["due"] as? Int == 2)
                #expect(callbacks["attainment"] as? Double == 0)
            }
            // The next day: nothing due.
            try await client.execute(
                uri: "/v1/reports/sla?from=2026-11-28T00:00:00&to=2026-11-29", method: .get, headers: APITests.admin
            ) { response in
                let body = try Self.object(response)
                #expect(((Self.department(body, "service")?["callbacks"] as? [String: Any])?["due"] as? Int) == 0)
            }
            // Default period: the 7 days ending with the newest record's day (11-21 to 11-27, Asia/Shanghai).
            try await client.execute(uri: "/v1/reports/sla", method: .get, headers: APITests.admin) { response in
                let body = try Self.object(response)
                #expect(body["from"] as? String == "2026-11-20T16:00:00Z")
                #expect(body["to"] as? String == "2026-11-27T16:00:00Z")
            }
            try await client.execute(uri: "/v1/reports/sla?from=yesterday", method: .get, headers: APITests.admin) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("yesterday"))
            }
            try await client.execute(
                uri: "/v1/reports/sla?from=2026-11-28&to=2026-11-27", method: .get, headers: APITests.admin
            ) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/reports/sla", method: .get, headers: APITests.pbx) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test(
        "without a period, reports cover the 7 days ending with the newest data's day, not the clock's month",
        arguments: [
            "/v1/reports/sla", "/v1/reports/agents",
        ])
    func defaultPeriodEndsAtTheNewestData(_ uri: String) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The records are of 11-25 and 11-27; the clock is weeks later, in another month.
        let (app, _) = try await APITests.app(
            ReportFixture.csv, ReportFixture.queueLog, now: "2027-01-15T12:00:00", in: directory)
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: APITests.admin) { response in
                #expect(response.status == .ok)
                let body = try Self.object(response)
                #expect(body["from"] as? String == "2026-11-20T16:00:00Z")
                #expect(body["to"] as? String == "2026-11-27T16:00:00Z")
                if uri.hasSuffix("sla") {
                    let callbacks = try #require(Self.department(body, "service")?["callbacks"] as? [String: Any])
                    #expect(callbacks["due"] as? Int == 4)
                } else {
                    #expect(try Self.agent(body, "1005")["first_responded"] as? Int == 3)
                }
            }
            // A given period is kept; `from` alone after the data still gets a week.
            try await client.execute(uri: "\(uri)?from=2027-01-10", method: .get, headers: APITests.admin) { response in
                let body = try Self.object(response)
                #expect(body["from"] as? String == "2027-01-09T16:00:00Z")
                #expect(body["to"] as? String == "2027-01-16T16:00:00Z")
            }
            try await client.execute(uri: "\(uri)?to=2026-11-25", method: .get, headers: APITests.admin) { response in
                let body = try Self.object(response)
                #expect(body["from"] as? String == "2026-11-18T16:00:00Z")
                #expect(body["to"] as? String == "2026-11-25T16:00:00Z")
            }
        }
    }

    @Test(
        "per-agent figures: first responses, first-contact resolution, callbacks, acknowledgement times, accepted violations only"
    )
    func agentFigures() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await ReportFixture.app(in: directory)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/reports/agents?from=2026-11-27&to=2026-11-27", method: .get, headers: APITests.admin
            ) { response in
                #expect(response.status == .ok)
                let body = try Self.object(response)
                #expect((body["agents"] as? [Any])?.count == 22)
                #expect(try Self.agent(body, "1001")["first_responded"] as? Int == 1)
                let wang = try Self.agent(body, "1002")
                #expect(wang["first_responded"] as? Int == 1)
                #expect((wang["callbacks"] as? [String: Any])?["on_time"] as? Int == 1)
                #expect((wang["callbacks"] as? [String: Any])?["late"] as? Int == 0)
                #expect(((try Self.agent(body, "1003"))["callbacks"] as? [String: Any])?["late"] as? Int == 1)
                let zhou = try #require(try Self.agent(body, "1009")["handoff_acknowledgement"] as? [String: Any])
                #expect(zhou["count"] as? Int == 1)
                #expect(zhou["median_seconds"] as? Int == 240)
                #expect(zhou["p90_seconds"] as? Int == 240)
                let liu = try #require(try Self.agent(body, "1004")["violations"] as? [String: Any])
                #expect(liu["accepted"] as? Int == 1)
                #expect((liu["accepted_by_category"] as? [String: Any])?["not_handled_in_time"] as? Int == 1)
                #expect(liu["excused"] as? Int == 1)
                #expect(liu["dismissed"] as? Int == 0)
                #expect(liu["unreviewed"] as? Int == 0)
                // 陈静's contact of the day is the repeat itself: not settled yet.
                let chen = try #require(try Self.agent(body, "1005")["first_contact_resolution"] as? [String: Any])
                #expect(chen["settled"] as? Int == 0)
                #expect(chen["rate"] is NSNull)
            }
            // Wednesday: 陈静 settled two contacts; one came back (repeat_of) → 50 %.
            try await client.execute(
                uri: "/v1/reports/agents?from=2026-11-25&to=2026-11-25", method: .get, headers: APITests.admin
            ) { response in
                let body = try Self.object(response)
                let chen = try Self.agent(body, "1005")
                #expect(chen["first_responded"] as? Int == 2)
                let fcr = try #require(chen["first_contact_resolution"] as? [String: Any])
                #expect(fcr["settled"] as? Int == 2)
                #expect(fcr["repeated"] as? Int == 1)
                #expect(fcr["resolved_first_time"] as? Int == 1)
                #expect(fcr["rate"] as? Double == 0.5)
            }
            // Supervisor of service and billing: their agents only; an agent: themselves only.
            try await client.execute(uri: "/v1/reports/agents", method: .get, headers: APITests.supervisor) {
                response in
                let ids = Set(
                    (try Self.object(response)["agents"] as? [[String: Any]])?.compactMap { $0["agent"] as? String }
                        ?? [])
                #expect(
                    ids == ["8001", "1001", "1002", "1003", "1004", "1005", "8002", "1006", "1007", "1008", "1015"])
            }
            try await client.execute(uri: "/v1/reports/agents", method: .get, headers: APITests.agent1001) { response in
                let ids = (try Self.object(response)["agents"] as? [[String: Any]])?.compactMap {
                    $0["agent"] as? String
                }
                #expect(ids == ["1001"])
            }
            try await client.execute(uri: "/v1/reports/agents", method: .get, headers: APITests.pbx) {
                #expect($0.status == .forbidden)
            }
        }
    }

    @Test("the board ranks overdue, then at risk, then the rest by deadline")
    func boardOrder() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        // A third customer misses at 10:20–10:21: due 10:51, not yet at risk at 10:26.
        let later = #"""
            "","13800004545","96116","from-trunk","13800004545","PJSIP/trunk-00000095","","Queue","hotline,t,,,300","2026-11-27 10:20:00","2026-11-27 10:20:01","2026-11-27 10:21:00",60,59,"ANSWERED","DOCUMENTATION","1795746000.95","","","1795746000.95",95
            """#
        let laterLog =
            "1795746010|1795746000.95|hotline|NONE|ENTERQUEUE||13800004545|1\n1795746060|1795746000.95|hotline|NONE|ABANDON|1|1|50"
        let store = try await SchedulerFixture.store(
            [SchedulerFixture.missedCall, SchedulerFixture.failedTransfer, later].joined(separator: "\n"),
            [SchedulerFixture.missedQueueLog, SchedulerFixture.failedTransferQueueLog, laterLog].joined(
                separator: "\n"), in: directory, engine: engine)
        let now = try SchedulerFixture.at("2026-11-27T10:26:00")
        _ = try await store.advanceClock(to: now, correlator: engine.correlator)
        let board = try await Reports(store: store, directory: engine.directory).missedCallbacks(scope: .all, now: now)
        // The hand-off's acknowledge clock ran out at 10:15:31; 13800002222's callback (due 10:31)
        // is at risk since 10:25; 13800004545's (due 10:51) is neither.
        #expect(board.map(\.row.customer) == ["+8613800003333", "+8613800002222", "+8613800004545"])
        #expect(board.map(\.overdue) == [true, false, false])
        #expect(board.count == 3 && board[1].row.obligation.atRisk && !board[2].row.obligation.atRisk)
        let expectedSeconds: [Int64] = [-629, 300, 1500]
        #expect(board.map(\.secondsLeft) == expectedSeconds)
    }

    @Test(
        "nearest-rank percentiles",
        arguments: [
            ([Int64](), 50, Int64?.none), ([7], 90, 7), ([1, 2, 3, 4], 50, 2), ([1, 2, 3, 4], 90, 4),
            (Array(1...10), 90, 9), (Array(1...10), 50, 5),
        ] as [([Int64], Int, Int64?)])
    func percentiles(values: [Int64], p: Int, expected: Int64?) {
        #expect(Reports.percentile(values, p) == expected)
    }
}
