import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /v1/route`: where the PBX rings a returning caller first, through the real router over a
/// real SQLite store, one scenario per rule.
@Suite("HTTP API — routing a returning caller")
struct RouteTests {
    typealias API = APITests

    /// 赵六 (13800005555) dialled 王芳's extension 1002 directly at 09:50 and nobody answered:
    /// 1002 owes the callback (service, due 10:20 on the office calendar).
    static let missedDirectDial = #"""
        "","13800005555","1002","from-trunk","""赵六"" <13800005555>","PJSIP/trunk-00000031","PJSIP/1002-00000032","Dial","PJSIP/1002,30","2026-11-27 09:50:00",,"2026-11-27 09:50:30",30,0,"NO ANSWER","DOCUMENTATION","1795744200.31","","","1795744200.31",31
        """#

    /// Both calls of the day's morning: 李四's abandoned call (owed by the service department,
    /// no agent) and 赵六's missed direct dial (owed by 1002); 王五's failed transfer is answered
    /// by 1001 (first responder), with a hand-off to the repairs department.
    static let csv = SchedulerFixture.missedCall + "\n" + missedDirectDial + "\n" + SchedulerFixture.failedTransfer
    static let queueLog = SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog

    static func app(
        now: String = "2026-11-27T10:10:00", in directory: URL,
        configure: (inout FirstContactConfiguration) -> Void = { _ in }
    ) async throws -> (some ApplicationProtocol, SQLiteContactStore) {
        try await API.app(Self.csv, Self.queueLog, now: now, in: directory, configure: configure)
    }

    static func route(
        _ client: some TestClientProtocol, _ query: String, _ headers: HTTPFields = API.pbx
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/route?\(query)", method: .get, headers: headers) { response in
            (
                response.status,
                (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
            )
        }
    }

    static func contactID(_ store: SQLiteContactStore, customer: String) async throws -> String {
        try #require(try await store.contacts(ContactQuery(customer: customer)).first).id.rawValue
    }

    @Test(
        "the owner of a callback still owed rings first: a missed direct dial to 1002 routes the caller to PJSIP/1002")
    func callbackOwnerFirst() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800005555")
        try await app.test(.router) { client in
            // The caller as the trunk presents it, national form: normalised as the records are.
            for caller in ["013800005555", "13800005555", "%2B8613800005555"] {
                let (status, body) = try await Self.route(client, "caller=\(caller)")
                #expect(status == .ok)
                #expect(body["route"] as? String == "agent", "\(caller): \(body)")
                #expect(body["agent"] as? String == "1002")
                #expect(body["device"] as? String == "PJSIP/1002")
                #expect(body["ring_first"] as? Int == 15)
                #expect(body["contact"] as? String == contact)
                #expect(body["department"] as? String == "service")
                #expect((body["reason"] as? String)?.contains("1002 owes the caller a callback") == true)
            }
        }
        // Still owed once breached (due 10:20 on the office calendar): 1002 still rings first.
        let later = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: later) }
        let (late, lateStore) = try await Self.app(now: "2026-11-27T11:00:00", in: later)
        _ = try await lateStore.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T11:00:00"), correlator: try Fixture.engine().correlator)
        let breached = try #require(try await lateStore.contacts(ContactQuery(customer: "+8613800005555")).first)
        #expect(breached.obligations.map(\.state) == [.breached])
        try await late.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["agent"] as? String == "1002", "\(body)")
        }
    }

    /// 赵六 calls the hotline again at 10:12, and the dialplan rings 1002 first as `/v1/route`
    /// said (`Dial(PJSIP/1002,15)`): 1002 does not answer, the queue does (1001).
    static let routedUnanswered = #"""
        "","13800005555","96116","from-trunk","""赵六"" <13800005555>","PJSIP/trunk-00000041","PJSIP/1002-00000042","Dial","PJSIP/1002,15","2026-11-27 10:12:00",,"2026-11-27 10:12:15",15,0,"NO ANSWER","DOCUMENTATION","1795745520.41","","","1795745520.41",41
        "","13800005555","96116","from-trunk","""赵六"" <13800005555>","PJSIP/trunk-00000041","PJSIP/1001-00000043","Queue","hotline,t,,,300","2026-11-27 10:12:15","2026-11-27 10:12:20","2026-11-27 10:15:00",165,160,"ANSWERED","DOCUMENTATION","1795745520.41","","","1795745520.41",42
        """#
    static let routedUnansweredQueueLog = #"""
        1795745535|1795745520.41|hotline|NONE|ENTERQUEUE||13800005555|1
        1795745540|1795745520.41|hotline|张敏|CONNECT|5|1795745540.43|5
        """#
    /// The same return call, and 1002 answers it at the first ring.
    static let routedAnswered = #"""
        "","13800005555","96116","from-trunk","""赵六"" <13800005555>","PJSIP/trunk-00000041","PJSIP/1002-00000042","Dial","PJSIP/1002,15","2026-11-27 10:12:00","2026-11-27 10:12:06","2026-11-27 10:16:00",240,234,"ANSWERED","DOCUMENTATION","1795745520.41","","","1795745520.41",41
        """#

    @Test(
        "a routed caller the owner answers got through to the owner: the callback is satisfied customer_called_back, 1002 first responder, the trail says it was routed"
    )
    func routedAndAnswered() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, store) = try await API.app(
            Self.csv + "\n" + Self.routedAnswered, Self.queueLog, now: "2026-11-27T10:30:00", in: directory)
        let contact = try #require(try await store.contacts(ContactQuery(customer: "+8613800005555")).first)
        #expect(contact.obligations.map(\.state) == [.satisfied])
        #expect(contact.obligations.first?.satisfiedVia == .customerCalledBack)
        #expect(contact.obligations.first?.satisfaction?.by == AgentID("1002"))
        #expect(contact.firstResponder?.agent == AgentID("1002"))
        let detail = try #require(try await store.contact(contact.id, correlator: try Fixture.engine().correlator))
        let routed = detail.contact.why.filter { $0.rule == .routed }.map(\.message)
        #expect(routed.count == 1, "\(detail.contact.why.map(\.message))")
        #expect(routed.first?.contains("rang 1002 first, before the queue: 1002 owes the caller a callback") == true)
        #expect(routed.first?.hasSuffix("1002 answered") == true, "\(routed)")
    }

    @Test(
        "a routed caller the owner does not answer is a ring-no-answer on the contact, not a new missed call: the queue's answer satisfies the callback"
    )
    func routedButUnanswered() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (_, store) = try await API.app(
            Self.csv + "\n" + Self.routedUnanswered, Self.queueLog + "\n" + Self.routedUnansweredQueueLog,
            now: "2026-11-27T10:30:00", in: directory)
        let contacts = try await store.contacts(ContactQuery(customer: "+8613800005555"))
        #expect(contacts.count == 1)
        let contact = try #require(contacts.first)
        // One callback, the one owed since 09:50, and no second one for the unanswered ring.
        #expect(contact.obligations.map(\.kind) == [.callback])
        #expect(contact.obligations.first?.state == .satisfied)
        #expect(contact.obligations.first?.satisfiedVia == .customerCalledBack)
        #expect(contact.obligations.first?.missedCount == 1)
        #expect(contact.ringNoAnswer == [AgentID("1002")])
        #expect(contact.firstResponder?.agent == AgentID("1001"))
        let detail = try #require(try await store.contact(contact.id, correlator: try Fixture.engine().correlator))
        let routed = detail.contact.why.filter { $0.rule == .routed }.map(\.message)
        #expect(routed.count == 1, "\(detail.contact.why.map(\.message))")
        #expect(
            routed.first?.hasSuffix("1002 did not answer (a ring-no-answer, not a missed call); 1001 answered after")
                == true, "\(routed)")
        #expect(!detail.contact.why.contains { $0.rule == .missedCallFolded })
        #expect(detail.contact.why.filter { $0.rule == .missedCallCallback }.count == 1)
    }

    /// The same return call on FreeSWITCH under `dialplans/freeswitch/dialplan/hotline.xml`: the
    /// caller's A-leg and the B-leg its `bridge` originated to user/1002 (10.20.0.12). Either 1002
    /// answers at 10:12:06, or the bridge gives up after 15 s and `callcenter` connects 1001 at
    /// 10:12:40.
    static func freeSWITCHReturnCall(answeredBy1002: Bool) -> [(name: String, xml: String)] {
        let tenTwelve: Int64 = 1_795_745_520
        let micro = FreeSWITCHDocuments.micro
        let caller = FreeSWITCHDocuments.Profile(
            uuid: "fs-return", number: "13800005555", destination: "96116", context: "public",
            channel: "sofia/external/13800005555@203.0.113.5")
        let phone = "sofia/internal/1002@10.20.0.12"
        let (answer, end): (Int64?, Int64) = answeredBy1002 ? (tenTwelve + 6, tenTwelve + 240) : (nil, tenTwelve + 16)
        let bLeg = FreeSWITCHDocuments.leg(
            variables: [
                ("direction", "outbound"), ("uuid", "fs-return-1002"), ("originator", "fs-return"),
                ("channel_name", phone.replacingOccurrences(of: "/", with: "%2F")),
                ("start_uepoch", micro(tenTwelve + 1)),
                ("answer_uepoch", micro(answer)), ("bridge_uepoch", micro(answer)), ("end_uepoch", micro(end)),
                ("billsec", "\(answer.map { end - $0 } ?? 0)"),
                ("hangup_cause", answeredBy1002 ? "NORMAL_CLEARING" : "NO_ANSWER"),
            ],
            profile: FreeSWITCHDocuments.Profile(
                uuid: "fs-return-1002", number: "13800005555", destination: "1002", context: "default", channel: phone),
            originator: caller)
        var aLeg: [(String, String)] = [
            ("direction", "inbound"), ("uuid", "fs-return"),
            ("channel_name", "sofia%2Fexternal%2F13800005555%40203.0.113.5"),
            ("start_uepoch", micro(tenTwelve)),
        ]
        if answeredBy1002 {
            aLeg += [
                ("answer_uepoch", micro(tenTwelve + 6)), ("bridge_uepoch", micro(tenTwelve + 6)),
                ("end_uepoch", micro(tenTwelve + 240)), ("billsec", "234"), ("hangup_cause", "NORMAL_CLEARING"),
                ("last_app", "bridge"), ("last_arg", "user%2F1002"),
                ("bridge_channel", "sofia%2Finternal%2F1002%4010.20.0.12"),
            ]
        } else {
            aLeg += [
                ("answer_uepoch", micro(tenTwelve + 16)), ("bridge_uepoch", micro(tenTwelve + 40)),
                ("end_uepoch", micro(tenTwelve + 180)), ("billsec", "164"), ("hangup_cause", "NORMAL_CLEARING"),
                ("last_app", "callcenter"), ("last_arg", "hotline%40default"), ("cc_agent", "1001%40default"),
                ("cc_queue_answered_epoch", "\(tenTwelve + 40)"),
            ]
        }
        return [
            ("fs-return.cdr.xml", FreeSWITCHDocuments.leg(variables: aLeg, profile: caller)),
            ("fs-return-1002.cdr.xml", bLeg),
        ]
    }

    @Test(
        "on FreeSWITCH too (mod_xml_cdr legs of bridge-then-callcenter), the routed owner's answer satisfies the callback and a ring-no-answer is no new miss",
        arguments: [true, false])
    func routedOnFreeSWITCH(answeredBy1002: Bool) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(Self.missedDirectDial, "", in: directory, engine: engine)
        let cdr = directory.appendingPathComponent("xml_cdr")
        try FileManager.default.createDirectory(at: cdr, withIntermediateDirectories: true)
        for (name, xml) in Self.freeSWITCHReturnCall(answeredBy1002: answeredBy1002) {
            try xml.write(to: cdr.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let summary = try await IngestPipeline(engine: engine, store: store).ingest(paths: [cdr.path], format: nil)
        #expect(summary.batches.rejects == 0)
        #expect(summary.batches.records == 2)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T10:30:00"), correlator: engine.correlator)

        let contacts = try await store.contacts(ContactQuery(customer: "+8613800005555"))
        #expect(contacts.count == 1)
        let contact = try #require(contacts.first)
        #expect(contact.obligations.map(\.kind) == [.callback])
        #expect(contact.obligations.first?.state == .satisfied)
        #expect(contact.obligations.first?.satisfiedVia == .customerCalledBack)
        #expect(contact.firstResponder?.agent == AgentID(answeredBy1002 ? "1002" : "1001"))
        // 1002 did not answer the 09:50 direct dial either way.
        #expect(contact.ringNoAnswer == [AgentID("1002")])
        let detail = try #require(try await store.contact(contact.id, correlator: engine.correlator))
        let routed = detail.contact.why.filter { $0.rule == .routed }.map(\.message)
        #expect(routed.count == 1, "\(detail.contact.why.map(\.message))")
        let outcome =
            answeredBy1002
            ? "1002 answered" : "1002 did not answer (a ring-no-answer, not a missed call); 1001 answered after"
        #expect(routed.first?.hasSuffix(outcome) == true, "\(routed)")
        #expect(!detail.contact.why.contains { $0.rule == .missedCallFolded })
    }

    @Test(
        "the agent rung first gets a screen pop: a `routed` event on their stream, not on another agent's or a supervisor's, and \"my work\" listens for it"
    )
    func screenPop() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800003333")
        try await app.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800003333")
            #expect(body["agent"] as? String == "1001")
            var pops: [OutboxEntry] = []
            for _ in 0..<100 where pops.isEmpty {
                pops = try await store.outbox(after: 0, limit: 1000).filter { $0.kind == .routed }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pops.count == 1)
            func events(_ headers: HTTPFields) async throws -> String {
                try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: headers) {
                    String(buffer: $0.body)
                }
            }
            let mine = try await events(API.agent1001)
            #expect(mine.contains("event: routed\n"), "\(mine)")
            #expect(mine.contains("\"contact\": \"\(contact)\""))
            #expect(mine.contains("13800003333 is calling and rings 1001 first for 15 s: 1001 is the first responder"))
            #expect(!(try await events(API.supervisor)).contains("event: routed"))
            #expect((try await events(API.admin)).contains("event: routed"))

            let (cookie, _) = try await WebTests.signIn(client, token: "demo-agent-1001")
            let page = WebTests.body(try await client.execute(uri: "/ui/my", method: .get, headers: cookie))
            #expect(page.contains("<section id=\"routed-pop\" class=\"pop\" role=\"alert\" hidden>"))
            #expect(page.contains("data-live=\"/ui/events?after="))
        }
    }

    @Test(
        "an agent the PBX's queue_log says left the queues, or is on a queue call, is passed over; back in the queue, they ring first again"
    )
    func queueLogPresence() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            func post(_ line: String) async throws {
                try await client.execute(
                    uri: "/v1/ingest/asterisk-queue-log", method: .post, headers: API.pbx,
                    body: ByteBuffer(string: line + "\n")
                ) { #expect($0.status == .ok) }
            }
            // 10:05: 1002 logs out of the hotline queue (Asterisk writes it with callid NONE).
            try await post("1795745100|NONE|hotline|PJSIP/1002|REMOVEMEMBER|")
            var (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(
                (body["reason"] as? String)?.contains("1002 is logged out of the queues (REMOVEMEMBER at") == true,
                "\(body)")
            // 10:06: back in; 10:07 a queue call connects 王芳 (1002's member name in the config).
            try await post("1795745160|NONE|hotline|PJSIP/1002|ADDMEMBER|")
            (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["agent"] as? String == "1002", "\(body)")
            try await post("1795745220|1795745200.77|hotline|PJSIP/1002|CONNECT|20|1795745220.78|3")
            (_, body) = try await Self.route(client, "caller=13800005555")
            #expect((body["reason"] as? String)?.contains("1002 is on a queue call (CONNECT at") == true, "\(body)")
            try await post("1795745400|1795745200.77|hotline|PJSIP/1002|COMPLETECALLER|20|180|1")
            (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["agent"] as? String == "1002", "\(body)")
        }
    }

    @Test("else the receiver of a pending hand-off rings first: handed to 1006 in billing, the caller rings 1006")
    func handoffReceiver() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800003333")
        try await app.test(.router) { client in
            let (status, _) = try await ContactActionAPITests.post(
                client, "/v1/contacts/\(contact)/handoff", API.agent1001,
                #"{"department": "billing", "agent": "1006", "name": "王五", "phone": "13800003333", "matter": "水费争议"}"#)
            #expect(status == .ok)
            let (_, body) = try await Self.route(client, "caller=13800003333")
            #expect(body["route"] as? String == "agent", "\(body)")
            #expect(body["agent"] as? String == "1006")
            #expect(body["device"] as? String == "PJSIP/1006")
            #expect(body["contact"] as? String == contact)
            #expect((body["reason"] as? String)?.contains("1006 received the hand-off") == true)
        }
    }

    @Test("else the first responder of the open contact rings first: 王五's contact answered by 1001 rings PJSIP/1001")
    func firstResponderOfAnOpenContact() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800003333")
        try await app.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800003333&did=96116")
            #expect(body["route"] as? String == "agent", "\(body)")
            #expect(body["agent"] as? String == "1001")
            #expect(body["device"] as? String == "PJSIP/1001")
            #expect(body["contact"] as? String == contact)
            #expect((body["reason"] as? String)?.contains("1001 is the first responder") == true)
        }
    }

    @Test(
        "withheld, unknown and closed-contact callers, and an open contact nobody answered, go to the queue",
        arguments: ["anonymous", "13900009999", "13800002222"])
    func withheldUnknownOrNobodyGoesToTheQueue(caller: String) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            let (status, body) = try await Self.route(client, "caller=\(caller)&did=96116")
            #expect(status == .ok)
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(body["agent"] is NSNull)
            #expect(body["device"] is NSNull)
            #expect(body["ring_first"] as? Int == 15)
            #expect(body["department"] as? String == "service")
            #expect((body["reason"] as? String)?.isEmpty == false)
        }
    }

    @Test("a caller whose contact was resolved goes to the queue")
    func closedContactGoesToTheQueue() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800003333")
        try await app.test(.router) { client in
            let (status, _) = try await ContactActionAPITests.post(
                client, "/v1/contacts/\(contact)/resolve", API.agent1001, #"{"note": "已解决"}"#)
            #expect(status == .ok)
            let (_, body) = try await Self.route(client, "caller=13800003333")
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(body["contact"] is NSNull)
            #expect(body["reason"] as? String == "the caller has no open contact")
        }
    }

    @Test(
        "an agent whose department's calendar is closed now is not rung: at 12:30 (lunch) the caller goes to the queue")
    func calendarClosedGoesToTheQueue() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(now: "2026-11-27T12:30:00", in: directory)
        try await app.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800003333")
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(body["agent"] is NSNull)
            #expect((body["reason"] as? String)?.contains("1001's department service is closed now") == true)
        }
    }

    @Test(
        "a closed calendar passes over to the next agent at work: a hand-off received in repairs (24 h) rings at 12:30")
    func closedCalendarFallsThroughToTheNextAgent() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(now: "2026-11-27T12:30:00", in: directory)
        let contact = try await Self.contactID(store, customer: "+8613800005555")
        try await app.test(.router) { client in
            let (status, _) = try await ContactActionAPITests.post(
                client, "/v1/contacts/\(contact)/handoff", API.admin,
                #"{"department": "repairs", "agent": "1010", "name": "赵六", "phone": "13800005555", "matter": "爆管"}"#)
            #expect(status == .ok)
            let (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["agent"] as? String == "1010", "\(body)")
            #expect(
                (body["reason"] as? String)?.contains("passed over: 1002's department service is closed now") == true)
        }
    }

    @Test("routing turned off in the configuration, or for the contact's department, sends everyone to the queue")
    func routingDisabledGoesToTheQueue() async throws {
        let off = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: off) }
        let (global, _) = try await Self.app(in: off) { $0.routing.enabled = false }
        try await global.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(body["reason"] as? String == "routing is off in the configuration")
        }
        let department = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: department) }
        let (service, _) = try await Self.app(in: department) { configuration in
            for index in configuration.departments.indices
            where configuration.departments[index].id.rawValue == "service" {
                configuration.departments[index].routing = false
            }
        }
        try await service.test(.router) { client in
            let (_, body) = try await Self.route(client, "caller=13800005555")
            #expect(body["route"] as? String == "queue", "\(body)")
            #expect(body["department"] as? String == "service")
            #expect(body["reason"] as? String == "routing is off for department service")
        }
    }

    @Test(
        "format=text answers key=value lines a dialplan can parse: route, agent, device, ring_first, contact, department, reason"
    )
    func textFormat() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(in: directory) { $0.routing.ringFirst = 20 }
        let contact = try await Self.contactID(store, customer: "+8613800005555")
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/route?caller=13800005555&format=text", method: .get, headers: API.pbx) {
                response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
                #expect(
                    Array(lines.prefix(6)) == [
                        "route=agent", "agent=1002", "device=PJSIP/1002", "ring_first=20", "contact=\(contact)",
                        "department=service",
                    ])
                #expect(lines.count == 7)
                #expect(lines.last?.hasPrefix("reason=1002 owes the caller a callback") == true)
            }
            try await client.execute(uri: "/v1/route?caller=anonymous&format=text", method: .get, headers: API.pbx) {
                response in
                let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
                #expect(lines.first == "route=queue")
                #expect(lines.contains("agent="))
                #expect(lines.contains("device="))
                #expect(lines.contains("reason=the caller's number is withheld"))
            }
        }
    }

    @Test("pbx and admin may ask; an agent or supervisor gets 403, no token 401; a missing or empty caller is 400")
    func rolesAndRequiredCaller() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await Self.app(in: directory)
        try await app.test(.router) { client in
            #expect(try await Self.route(client, "caller=13800005555", API.pbx).0 == .ok)
            #expect(try await Self.route(client, "caller=13800005555", API.admin).0 == .ok)
            #expect(try await Self.route(client, "caller=13800005555", API.agent1001).0 == .forbidden)
            #expect(try await Self.route(client, "caller=13800005555", API.supervisor).0 == .forbidden)
            #expect(try await Self.route(client, "caller=13800005555", [:]).0 == .unauthorized)
            for query in ["", "caller=", "did=96116"] {
                let (status, body) = try await Self.route(client, query)
                #expect(status == .badRequest, "\(query)")
                let message = (body["error"] as? [String: Any])?["message"] as? String
                #expect(message?.contains("caller") == true, "\(query): \(body)")
            }
            for format in ["xml", ""] {
                let (status, body) = try await Self.route(client, "caller=13800005555&format=\(format)")
                #expect(status == .badRequest, "format=\(format)")
                #expect(((body["error"] as? [String: Any])?["message"] as? String)?.contains("format") == true)
            }
            #expect(try await Self.route(client, "caller=13800005555&format=json").0 == .ok)
        }
    }

    @Test(
        "asking writes only the screen pop: queue answers leave the database byte for byte the same; a routed caller adds one `routed` notification for the agent per second asked, and nothing else changes"
    )
    func askingWritesOnlyTheScreenPop() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = try Fixture.engine().configuration
        configuration.follow = []
        let engine = Engine(configuration: configuration)
        let store = try await SchedulerFixture.store(Self.csv, Self.queueLog, in: directory, engine: engine)
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T10:10:00"))
        let app = buildApplication(
            engine: engine, store: store, clock: clock, host: "127.0.0.1", port: 0, logger: Fixture.quietLogger)
        let files = ["s.sqlite", "s.sqlite-wal"].map { directory.appendingPathComponent($0) }
        @Sendable func contents() -> [Data?] { files.map { FileManager.default.contents(atPath: $0.path) } }
        try await app.test(.router) { client in
            // The scheduler's first tick writes the clock; once it sleeps nothing else writes.
            await clock.waitForSleepers(1)
            let before = contents()
            #expect(before[0] != nil)
            for index in 0..<50 {
                let (status, body) = try await Self.route(client, "caller=\(["anonymous", "13900009999"][index % 2])")
                #expect(status == .ok)
                #expect(body["route"] as? String == "queue")
            }
            #expect(contents() == before)

            let export = try await store.snapshot().contacts
            let seq = try await store.outbox(after: 0, limit: 10_000).last?.seq ?? 0
            for index in 0..<50 {
                let (_, body) = try await Self.route(client, "caller=\(["13800005555", "13800003333"][index % 2])")
                #expect(body["route"] as? String == "agent")
            }
            // Written behind the answers: wait for both.
            var pops: [OutboxEntry] = []
            for _ in 0..<100 where pops.count < 2 {
                pops = try await store.outbox(after: seq, limit: 100)
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(pops.map(\.kind) == [.routed, .routed])
            #expect(Set(pops.compactMap(\.agent)) == [AgentID("1002"), AgentID("1001")])
            let pop = try #require(pops.first { $0.agent == AgentID("1002") })
            #expect(pop.contact == (try await store.contacts(ContactQuery(customer: "+8613800005555")).first?.id))
            #expect(pop.department == DepartmentID("service"))
            #expect(
                pop.detail.hasPrefix(
                    "13800005555 is calling and rings 1002 first for 15 s: 1002 owes the caller a callback"))
            #expect(try await store.snapshot().contacts == export)
        }
    }
}
