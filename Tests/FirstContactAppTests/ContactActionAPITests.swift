import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/contacts` and `POST /v1/contacts/{id}/…`: people's actions through the real router
/// over a real SQLite store, with the same role and scope rules as the rest of the API.
@Suite("HTTP API — actions on contacts")
struct ContactActionAPITests {
    typealias API = APITests

    static func post(
        _ client: some TestClientProtocol, _ uri: String, _ headers: HTTPFields, _ body: String
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            response in
            (
                response.status,
                (try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]) ?? [:]
            )
        }
    }

    @Test(
        "an agent notes and resolves their own contact (its hand-off is cancelled); resolving twice is 409; another's contact is 404"
    )
    func agentNotesAndResolves() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = SchedulerFixture.missedCall + "\n" + SchedulerFixture.failedTransfer
        let log = SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog
        // 10:10: the hand-off of 张敏's transfer (repairs, acknowledge within 10 min of 10:05:31) is pending.
        let (app, store) = try await API.app(csv, log, now: "2026-11-27T10:10:00", in: directory)
        let contacts = try await store.contacts(ContactQuery())
        let missed = try #require(contacts.first { $0.firstResponder == nil })
        let mine = try #require(contacts.first { $0.firstResponder?.agent == AgentID("1001") })

        try await app.test(.router) { client in
            var (status, body) = try await Self.post(
                client, "/v1/contacts/\(mine.id)/notes", API.agent1001, #"{"text": "客户要求周五前回复"}"#)
            #expect(status == .ok)
            let why = body["why"] as? [[String: Any]] ?? []
            #expect(
                why.contains { $0["rule"] as? String == "note" && ($0["message"] as? String)?.contains("周五前") == true })

            (status, body) = try await Self.post(
                client, "/v1/contacts/\(mine.id)/notes", API.agent1001, #"{"text": "  "}"#)
            #expect(status == .badRequest)
            #expect(
                (body["error"] as? [String: Any])?["message"] as? String == #""text" is required and may not be empty"#)

            (status, _) = try await Self.post(client, "/v1/contacts/\(mine.id)/notes", API.agent1001, #"{"text": "#)
            #expect(status == .badRequest)

            (status, _) = try await Self.post(
                client, "/v1/contacts/\(missed.id)/notes", API.agent1001, #"{"text": "x"}"#)
            #expect(status == .notFound)
            (status, _) = try await Self.post(client, "/v1/contacts/\(mine.id)/notes", API.pbx, #"{"text": "x"}"#)
            #expect(status == .forbidden)
            (status, _) = try await Self.post(client, "/v1/contacts/\(mine.id)/notes", [:], #"{"text": "x"}"#)
            #expect(status == .unauthorized)

            (status, body) = try await Self.post(
                client, "/v1/contacts/\(mine.id)/resolve", API.agent1001, #"{"note": "已转告抢修中心并回复客户"}"#)
            #expect(status == .ok)
            let contact = body["contact"] as? [String: Any] ?? [:]
            #expect(contact["status"] as? String == "resolved")
            let states = (contact["obligations"] as? [[String: Any]] ?? []).compactMap { $0["state"] as? String }
            #expect(states == ["cancelled"])
            #expect((body["resolution"] as? [String: Any])?["by"] as? String == "1001")

            (status, _) = try await Self.post(
                client, "/v1/contacts/\(mine.id)/resolve", API.agent1001, #"{"note": "again"}"#)
            #expect(status == .conflict)
        }
        // Stored as an action: a re-derivation from the records keeps the resolution.
        let stored = try await store.contact(mine.id, correlator: try Fixture.engine().correlator)
        #expect(stored?.contact.status == .resolved)
    }

    @Test(
        "reassign, complaints and poor service are a supervisor's: an agent gets 403; the supervisor's complaint lists as a violation"
    )
    func supervisorActions() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await API.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:20:00",
            in: directory)
        let contact = try #require(try await store.contacts(ContactQuery()).first)

        try await app.test(.router) { client in
            var (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/complaints", API.agent1001, #"{"text": "x"}"#)
            #expect(status == .forbidden)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/complaints", API.supervisor, #"{"text": "客户投诉等待太久"}"#)
            #expect(status == .ok)

            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/reassign", API.agent1001, #"{"agent": "1002", "reason": "x"}"#)
            #expect(status == .forbidden)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/reassign", API.supervisor, #"{"agent": "9999", "reason": "x"}"#)
            #expect(status == .badRequest)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/reassign", API.supervisor, #"{"agent": "1002", "reason": "张敏休假"}"#)
            #expect(status == .ok)
            let responder = (body["contact"] as? [String: Any])?["first_responder"] as? [String: Any]
            #expect(responder?["agent"] as? String == "1002")
            #expect(responder?["via"] as? String == "reassigned")

            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/poor-service", API.supervisor,
                #"{"agent": "1001", "text": "未告知所需材料"}"#)
            #expect(status == .ok)
            let categories = (body["violations"] as? [[String: Any]] ?? []).compactMap { $0["category"] as? String }
            #expect(categories.contains("complaint"))
            #expect(categories.contains("poor_service"))
            try await client.execute(uri: "/v1/violations", method: .get, headers: API.supervisor) { response in
                let list = try #require(try API.json(response) as? [[String: Any]])
                let complaint = list.first { $0["category"] as? String == "complaint" }
                // Filed against the first responder at the time (张敏, before the reassignment).
                #expect(complaint?["agent"] as? String == "1001")
            }
        }
    }

    @Test(
        "a hand-off by hand keeps the registration fields and starts a pending hand-off owed by the receiving department"
    )
    func handoffByHand() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await API.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:20:00",
            in: directory)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        try await app.test(.router) { client in
            var (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/handoff", API.agent1001,
                #"{"department": "billing", "name": "王先生", "phone": "13812345678"}"#)
            #expect(status == .badRequest)
            #expect(
                (body["error"] as? [String: Any])?["message"] as? String
                    == #""matter" is required and may not be empty"#)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/handoff", API.agent1001,
                #"{"department": "billing", "agent": "1006", "unit": "幸福小区物业", "name": "王先生", "phone": "13812345678", "matter": "核对上月水费", "place": "营业厅3号窗口"}"#
            )
            #expect(status == .ok)
            let registration = (body["registrations"] as? [[String: Any]])?.first
            #expect(registration?["unit"] as? String == "幸福小区物业")
            #expect(registration?["place"] as? String == "营业厅3号窗口")
            let obligations = (body["contact"] as? [String: Any])?["obligations"] as? [[String: Any]] ?? []
            let byHand = obligations.first { $0["id"] as? String == registration?["obligation"] as? String }
            #expect(byHand?["state"] as? String == "pending")
            #expect((byHand?["owner"] as? [String: Any])?["agent"] as? String == "1006")
            #expect((byHand?["owner"] as? [String: Any])?["department"] as? String == "billing")

            (status, _) = try await Self.post(
                client, "/v1/contacts/\(contact.id)/handoff", API.agent1001,
                #"{"department": "billing", "agent": "1011", "name": "a", "phone": "1", "matter": "m"}"#)
            #expect(status == .badRequest)  // 1011 is in repairs
        }
    }

    @Test(
        "actions posted in the same second as the contact's opening all take effect: a visit, then at once a hand-off and a note"
    )
    func sameSecondActions() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The manual clock does not move: every request below happens in the same second.
        let (app, _) = try await API.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:20:00",
            in: directory)
        try await app.test(.router) { client in
            var (status, body) = try await Self.post(
                client, "/v1/contacts", API.admin,
                #"{"channel": "visit", "customer": "13900007321", "agent": "1006", "matter": "x"}"#)
            #expect(status == .created)
            let id = try #require((body["contact"] as? [String: Any])?["id"] as? String)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(id)/handoff", API.admin,
                #"{"department": "service", "name": "王先生", "phone": "13900007321", "matter": "m"}"#)
            #expect(status == .ok)
            let obligations = (body["contact"] as? [String: Any])?["obligations"] as? [[String: Any]] ?? []
            #expect(obligations.count == 1, "the hand-off registered in the visit's second must exist")
            #expect(obligations.first?["kind"] as? String == "handoff")
            (status, body) = try await Self.post(client, "/v1/contacts/\(id)/notes", API.admin, #"{"text": "同一秒的备注"}"#)
            #expect(status == .ok)
            let why = body["why"] as? [[String: Any]] ?? []
            #expect(why.contains { $0["rule"] as? String == "note" })
            #expect(why.contains { $0["rule"] as? String == WhyRule.handoffByHand.rawValue })
        }
    }

    @Test(
        "a visit recorded by an agent opens a contact with them as first responder; refer-out needs the body and what was told"
    )
    func visitAndReferral() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await API.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:20:00",
            in: directory)
        try await app.test(.router) { client in
            var (status, body) = try await Self.post(
                client, "/v1/contacts", API.agent1001,
                #"{"channel": "phone", "customer": "13900001111", "matter": "x"}"#)
            #expect(status == .badRequest)
            (status, body) = try await Self.post(
                client, "/v1/contacts", API.agent1001,
                #"{"channel": "visit", "customer": "13900001111", "category": "consultation", "matter": "咨询阶梯水价"}"#)
            #expect(status == .created)
            let contact = body["contact"] as? [String: Any] ?? [:]
            #expect(contact["channel"] as? String == "visit")
            #expect(contact["customer"] as? String == "+8613900001111")
            #expect(contact["category"] as? String == "consultation")
            #expect(contact["department"] as? String == "service")
            let responder = contact["first_responder"] as? [String: Any]
            #expect(responder?["agent"] as? String == "1001")
            #expect(responder?["via"] as? String == "manual")
            let id = try #require(contact["id"] as? String)

            (status, _) = try await Self.post(client, "/v1/contacts/\(id)/refer", API.agent1001, #"{"to": "燃气公司"}"#)
            #expect(status == .badRequest)
            (status, body) = try await Self.post(
                client, "/v1/contacts/\(id)/refer", API.agent1001, #"{"to": "燃气公司", "told": "请拨打燃气公司热线"}"#)
            #expect(status == .ok)
            #expect((body["contact"] as? [String: Any])?["status"] as? String == "referred_out")
            #expect((body["resolution"] as? [String: Any])?["referred_to"] as? String == "燃气公司")
            try await client.execute(uri: "/v1/contacts?customer=13900001111", method: .get, headers: API.admin) {
                response in
                let list = try #require(try API.json(response) as? [[String: Any]])
                #expect(list.compactMap { $0["id"] as? String } == [id])
            }
        }
    }
}
