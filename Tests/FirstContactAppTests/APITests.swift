import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The HTTP API, in-process through Hummingbird's router test client, over a real SQLite store.
@Suite("HTTP API")
struct APITests {
    static let admin: HTTPFields = [.authorization: "Bearer demo-admin"]
    static let pbx: HTTPFields = [.authorization: "Bearer demo-pbx"]
    static let agent1001: HTTPFields = [.authorization: "Bearer demo-agent-1001"]
    static let supervisor: HTTPFields = [.authorization: "Bearer demo-supervisor"]

    /// A store holding `csv`/`queueLog`, and the application over it with a manual clock at `now`.
    static func app(
        _ csv: String, _ queueLog: String, now: String, in directory: URL,
        configure: (inout FirstContactConfiguration) -> Void = { _ in }
    ) async throws -> (some ApplicationProtocol, SQLiteContactStore) {
        var configuration = try Fixture.engine().configuration
        configure(&configuration)
        let engine = Engine(configuration: configuration)
        let store = try await SchedulerFixture.store(csv, queueLog, in: directory, engine: engine)
        let clock = ManualClock(now: try SchedulerFixture.at(now))
        return (
            buildApplication(
                engine: engine, store: store, clock: clock, host: "127.0.0.1", port: 0, logger: Fixture.quietLogger),
            store
        )
    }

    static func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    }

    @Test(
        "no token 401, wrong role 403, healthz open; an agent sees only their own matters and cannot read another's contact by id"
    )
    func authenticationAndScope() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = SchedulerFixture.missedCall + "\n" + SchedulerFixture.failedTransfer
        let log = SchedulerFixture.missedQueueLog + "\n" + SchedulerFixture.failedTransferQueueLog
        let (app, store) = try await Self.app(csv, log, now: "2026-11-27T10:20:00", in: directory)
        let contacts = try await store.contacts(ContactQuery())
        let missed = try #require(contacts.first { $0.firstResponder == nil })
        let transferred = try #require(contacts.first { $0.firstResponder?.agent == AgentID("1001") })

        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/contacts", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/contacts", method: .get, headers: [.authorization: "Bearer nope"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/contacts", method: .get, headers: Self.pbx) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/contacts", method: .get, headers: Self.admin) { response in
                #expect(response.status == .ok)
                let list = try Self.json(response) as? [Any]
                #expect(list?.count == 2)
            }
            // 张敏 (1001) answered the transferred call: she sees that contact, not the missed one.
            try await client.execute(uri: "/v1/contacts", method: .get, headers: Self.agent1001) { response in
                let list = try #require(try Self.json(response) as? [[String: Any]])
                #expect(list.compactMap { $0["id"] as? String } == [transferred.id.rawValue])
            }
            try await client.execute(uri: "/v1/contacts/\(missed.id)", method: .get, headers: Self.agent1001) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/contacts/\(transferred.id)", method: .get, headers: Self.agent1001) {
                response in
                #expect(response.status == .ok)
                let body = try #require(try Self.json(response) as? [String: Any])
                let why = try #require(body["why"] as? [[String: Any]])
                #expect(why.contains { $0["rule"] as? String == "handoff_pending" })
            }
            // Basic auth with the token as password, as mod_xml_cdr's `cred` sends it.
            let basic = "Basic " + Data("fs:demo-admin".utf8).base64EncodedString()
            try await client.execute(uri: "/v1/contacts", method: .get, headers: [.authorization: basic]) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test("ingest answers after the records are stored, reports rejects by line, and is idempotent")
    func ingestOverHTTP() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        let body = SchedulerFixture.failedTransfer + "\n\"not, a cdr\n"
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/ingest/asterisk-csv", method: .post, headers: Self.agent1001, body: ByteBuffer(string: body)
            ) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(
                uri: "/v1/ingest/asterisk-csv", method: .post, headers: Self.pbx, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                let result = try #require(try Self.json(response) as? [String: Any])
                #expect(result["new"] as? Int == 2)
                let rejects = try #require(result["rejects"] as? [[String: Any]])
                #expect(rejects.first?["line"] as? Int == 3)
            }
            #expect(try await store.contacts(ContactQuery()).count == 2)
            try await client.execute(
                uri: "/v1/ingest/asterisk-csv", method: .post, headers: Self.pbx, body: ByteBuffer(string: body)
            ) { response in
                let result = try #require(try Self.json(response) as? [String: Any])
                #expect(result["new"] as? Int == 0)
                #expect(result["duplicates"] as? Int == 2)
            }
            #expect(try await store.totals().rejects == 1)
            try await client.execute(
                uri: "/v1/ingest/excel", method: .post, headers: Self.pbx, body: ByteBuffer(string: "x")
            ) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.admin) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("firstcontact_ingested_records_total{format=\"asterisk-csv\",result=\"new\"} 2"))
                #expect(text.contains("firstcontact_obligations{state=\"pending\"}"))
            }
        }
    }

    @Test("bodies over http.max_body get 413; malformed JSON gets 400 naming the problem")
    func limitsAndMalformedJSON() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T11:00:00", in: directory
        ) { $0.http.maxBody = 1024 }
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T11:00:00"), correlator: try Fixture.engine().correlator)
        let violation = try #require(try await store.snapshot().violations.first)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/ingest/asterisk-csv", method: .post, headers: Self.pbx,
                body: ByteBuffer(string: String(repeating: "x", count: 4096))
            ) { #expect($0.status == .contentTooLarge) }
            try await client.execute(
                uri: "/v1/violations/\(violation.id)/review", method: .post, headers: Self.supervisor,
                body: ByteBuffer(string: "{\"decision\": \"accept\", ")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("malformed JSON"))
            }
            try await client.execute(
                uri: "/v1/violations/\(violation.id)/review", method: .post, headers: Self.supervisor,
                body: ByteBuffer(string: "{\"decision\": \"accept\", \"reason\": \"no callback was made\"}")
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/violations", method: .get, headers: Self.supervisor) { response in
                let list = try #require(try Self.json(response) as? [[String: Any]])
                let review = try #require(list.first?["review"] as? [String: Any])
                #expect(review["decision"] as? String == "accept")
                #expect(review["by"] as? String == "lin-supervisor")
            }
        }
    }

    @Test("a hand-off is acknowledged through the API by its receiving side only")
    func acknowledgeOverHTTP() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await Self.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:08:00",
            in: directory)
        let handoff = try #require(try await store.contacts(ContactQuery()).first?.obligations.first)
        try await app.test(.router) { client in
            // 张敏 (service) made the transfer; the hand-off is owed by repairs.
            try await client.execute(uri: "/v1/obligations/\(handoff.id)/ack", method: .post, headers: Self.agent1001) {
                #expect($0.status == .conflict)
            }
            try await client.execute(
                uri: "/v1/obligations/\(handoff.id)/ack", method: .post, headers: Self.admin,
                body: ByteBuffer(string: "{\"by\": \"1009\"}")
            ) { response in
                #expect(response.status == .ok)
                let obligation = try #require(try Self.json(response) as? [String: Any])
                #expect(obligation["acknowledged_at"] as? String == "2026-11-27T02:08:00Z")
            }
        }
    }
}

@Suite("HTTP ingest of FreeSWITCH XML CDRs")
struct XMLCDROverHTTPTests {
    @Test(
        "mod_xml_cdr's url-encoded cdr= form with Basic auth (token as password) is stored once; a hostile body is a stored reject"
    )
    func modXMLCDRPost() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        let xml = try String(
            contentsOf: Fixture.corpus.appendingPathComponent("freeswitch-xml-cdr/ccm_incoming-call-cdr.xml"),
            encoding: .utf8)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = "cdr=" + (xml.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        let basic: HTTPFields = [
            .authorization: "Basic " + Data("freeswitch:demo-pbx".utf8).base64EncodedString(),
            .contentType: "application/x-www-form-urlencoded",
        ]
        let before = try await store.totals().records
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: basic, body: ByteBuffer(string: form)
            ) { response in
                #expect(response.status == .ok)
                let result = try #require(try APITests.json(response) as? [String: Any])
                #expect(result["new"] as? Int == 1)
            }
            try await client.execute(
                uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: basic, body: ByteBuffer(string: form)
            ) { response in
                let result = try #require(try APITests.json(response) as? [String: Any])
                #expect(result["duplicates"] as? Int == 1)
            }
            let hostile = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><cdr>&a;</cdr>"
            try await client.execute(
                uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: basic, body: ByteBuffer(string: hostile)
            ) { response in
                #expect(response.status == .ok)
                let result = try #require(try APITests.json(response) as? [String: Any])
                let rejects = try #require(result["rejects"] as? [[String: Any]])
                #expect(rejects.count == 1)
            }
        }
        #expect(try await store.totals().records == before + 1)
        #expect(try await store.totals().rejects == 1)
    }
}

@Suite("HTTP ingest of FreeSWITCH event-socket events")
struct EventSocketOverHTTPTests {
    @Test(
        "POST /v1/ingest/freeswitch-events reads a wire capture (every frame, no reject) and stores callcenter events once"
    )
    func eventsPost() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        let capture = try String(
            contentsOf: Fixture.corpus.appendingPathComponent("freeswitch-esl-plain/neventsocket_Example1.txt"),
            encoding: .utf8)
        let event = """
            Event-Name: CUSTOM
            Event-Subclass: callcenter%3A%3Ainfo
            Core-UUID: core-http
            Event-Sequence: 7
            CC-Queue: hotline%40default
            CC-Action: member-queue-start
            CC-Member-Session-UUID: http-member
            CC-Member-CID-Number: 13800009999
            CC-Member-Joined-Time: 1795744800


            """
        let body = capture + "Content-Length: \(event.utf8.count)\nContent-Type: text/event-plain\n\n" + event
        let pbx: HTTPFields = [.authorization: "Bearer demo-pbx", .contentType: "text/plain"]
        let before = try await store.totals().records
        try await app.test(.router) { client in
            for expectedNew in [1, 0] {
                try await client.execute(
                    uri: "/v1/ingest/freeswitch-events", method: .post, headers: pbx, body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == .ok)
                    let result = try #require(try APITests.json(response) as? [String: Any])
                    #expect(result["records"] as? Int == 28)
                    #expect(result["new"] as? Int == expectedNew)
                    #expect((result["rejects"] as? [[String: Any]])?.isEmpty == true)
                }
            }
        }
        #expect(try await store.totals().records == before + 1)
        #expect(try await store.totals().rejects == 0)
    }
}

@Suite("Event stream")
struct EventStreamTests {
    @Test("GET /v1/events sends the outbox as server-sent events, resumes after Last-Event-ID, and scopes by role")
    func serverSentEvents() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T10:08:00",
            in: directory)
        // The hand-off to repairs breaches at 10:15:31 and escalates; one missed call for service too.
        let engine = try Fixture.engine()
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)
        let outbox = try await store.outbox(after: 0, limit: 100)
        #expect(outbox.count >= 3)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/events?follow=false", method: .get) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: APITests.admin) {
                response in
                #expect(response.headers[.contentType] == "text/event-stream")
                let text = String(buffer: response.body)
                #expect(
                    text.components(separatedBy: "\nevent: ").count - 1 + (text.hasPrefix("event: ") ? 1 : 0)
                        == outbox.count)
                #expect(text.contains("id: \(outbox[0].seq)\nevent: \(outbox[0].kind.rawValue)\ndata: {"))
                #expect(text.contains("\"kind\": \"breach\""))
            }
            let lastEventID = try #require(HTTPField.Name("Last-Event-ID"))
            let resume: HTTPFields = [.authorization: "Bearer demo-admin", lastEventID: String(outbox[0].seq)]
            try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: resume) { response in
                let text = String(buffer: response.body)
                #expect(!text.contains("id: \(outbox[0].seq)\n"))
                #expect(text.contains("id: \(outbox[1].seq)\n"))
            }
            // The supervisor of service and billing sees nothing of repairs' hand-off.
            try await client.execute(uri: "/v1/events?follow=false", method: .get, headers: APITests.supervisor) {
                response in
                #expect(!String(buffer: response.body).contains("\"department\": \"repairs\""))
            }
        }
    }
}
