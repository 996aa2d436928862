import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Asterisk CEL (`cel_custom` Master.csv) through the same doors as the other line formats:
/// `POST /v1/ingest/asterisk-cel` and a followed file.
@Suite("Ingest: Asterisk CEL over HTTP and followed")
struct CELIngestTests {
    /// 2026-11-27 10:00:00 +08:00.
    static let ten: Int64 = 1_795_744_800

    /// One cel_custom row (sample mapping) `seconds` after 10:00.
    static func row(
        _ event: String, _ seconds: Int64, channel: String, uniqueID: String, linkedID: String, number: String = "",
        exten: String = "96116", app: String = "", data: String = "", peer: String = "", extra: String = ""
    ) -> String {
        let fields = [
            event, "\(Self.ten + seconds).000\(String(format: "%03d", seconds % 1000))", "", number, "", "", "", exten,
            "from-trunk", channel, app, data, "3", "", uniqueID, linkedID, peer, "", "", extra,
        ]
        return fields.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: ",")
    }

    /// A hotline call answered by 1001 after 1002 was rung, and a caller who gave up in the queue.
    static var day: [String] {
        let a = "1795744800.1"
        let trunk = "PJSIP/trunk-00000a01"
        let agent = "PJSIP/1001-00000a03"
        let b = "1795745100.7"
        let trunkB = "PJSIP/trunk-00000b01"
        let bridge = #"{"bridge_id":"b-1","bridge_technology":"simple_bridge"}"#
        return [
            row("CHAN_START", 0, channel: trunk, uniqueID: a, linkedID: a, number: "13800007777"),
            row("ANSWER", 1, channel: trunk, uniqueID: a, linkedID: a, number: "13800007777", app: "Answer"),
            row(
                "APP_START", 12, channel: trunk, uniqueID: a, linkedID: a, number: "13800007777", app: "Queue",
                data: "hotline,t,,,300"),
            row("CHAN_START", 12, channel: "PJSIP/1002-00000a02", uniqueID: "1795744812.2", linkedID: a),
            row(
                "HANGUP", 27, channel: "PJSIP/1002-00000a02", uniqueID: "1795744812.2", linkedID: a,
                extra: #"{"hangupcause":19,"hangupsource":"","dialstatus":""}"#),
            row("CHAN_START", 27, channel: agent, uniqueID: "1795744827.3", linkedID: a),
            row("ANSWER", 33, channel: agent, uniqueID: "1795744827.3", linkedID: a),
            row("BRIDGE_ENTER", 33, channel: trunk, uniqueID: a, linkedID: a, peer: agent, extra: bridge),
            row("BRIDGE_ENTER", 33, channel: agent, uniqueID: "1795744827.3", linkedID: a, peer: trunk, extra: bridge),
            row("BRIDGE_EXIT", 200, channel: agent, uniqueID: "1795744827.3", linkedID: a, extra: bridge),
            row("BRIDGE_EXIT", 200, channel: trunk, uniqueID: a, linkedID: a, extra: bridge),
            row(
                "HANGUP", 200, channel: agent, uniqueID: "1795744827.3", linkedID: a,
                extra: #"{"hangupcause":16,"hangupsource":"","dialstatus":""}"#),
            row(
                "HANGUP", 200, channel: trunk, uniqueID: a, linkedID: a,
                extra: #"{"hangupcause":16,"hangupsource":"","dialstatus":""}"#),
            row("LINKEDID_END", 200, channel: trunk, uniqueID: a, linkedID: a),
            row("CHAN_START", 300, channel: trunkB, uniqueID: b, linkedID: b, number: "13800008888"),
            row("ANSWER", 301, channel: trunkB, uniqueID: b, linkedID: b, number: "13800008888", app: "Answer"),
            row(
                "APP_START", 310, channel: trunkB, uniqueID: b, linkedID: b, number: "13800008888", app: "Queue",
                data: "hotline,t,,,300"),
            row(
                "HANGUP", 370, channel: trunkB, uniqueID: b, linkedID: b,
                extra: #"{"hangupcause":16,"hangupsource":"","dialstatus":""}"#),
            row("LINKEDID_END", 370, channel: trunkB, uniqueID: b, linkedID: b),
        ]
    }

    /// What the day must give: 13800007777 served by 1001 (bound when the bridge formed), 13800008888 owed a callback.
    static func check(_ contacts: [Contact]) throws {
        let served = try #require(contacts.first { $0.customerRaw == "13800007777" })
        #expect(served.firstResponder?.agent == AgentID("1001"))
        #expect(served.firstResponder?.boundAt == Timestamp(seconds: Self.ten + 33))
        #expect(served.obligations.isEmpty)
        let missed = try #require(contacts.first { $0.customerRaw == "13800008888" })
        #expect(missed.firstResponder == nil)
        #expect(missed.obligations.first?.kind == .callback)
        #expect(missed.obligations.first?.owner.department == DepartmentID("service"))
    }

    @Test(
        "POST /v1/ingest/asterisk-cel stores the rows, derives the calls, reports a bad row by line, and is idempotent")
    func overHTTP() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("cel.sqlite").path)
        let app = buildApplication(
            engine: engine, store: store, clock: ManualClock(now: Timestamp(seconds: Self.ten + 3600)),
            host: "127.0.0.1", port: 0, logger: Fixture.quietLogger)
        let rows = Self.day
        let body = rows.joined(separator: "\n") + "\n\"ANSWER\",\"not a time\"\n"
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/ingest/asterisk-cel", method: .post, headers: APITests.pbx, body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                let result = try #require(try APITests.json(response) as? [String: Any])
                #expect(result["new"] as? Int == rows.count)
                let rejects = try #require(result["rejects"] as? [[String: Any]])
                #expect(rejects.map { $0["line"] as? Int } == [rows.count + 1])
            }
            try await client.execute(
                uri: "/v1/ingest/asterisk-cel", method: .post, headers: APITests.pbx, body: ByteBuffer(string: body)
            ) { response in
                let result = try #require(try APITests.json(response) as? [String: Any])
                #expect(result["new"] as? Int == 0)
                #expect(result["duplicates"] as? Int == rows.count)
            }
        }
        _ = try await store.advanceClock(to: Timestamp(seconds: Self.ten + 3600), correlator: engine.correlator)
        try Self.check(try await store.contacts(ContactQuery()))
    }

    @Test("a followed cel-custom/Master.csv is read as it grows, to the same contacts")
    func followed() async throws {
        let setup = try FollowerTests.Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let rows = Self.day.map { $0 + "\n" }
        let path = setup.path("Master.csv")
        try FollowerTests.write(rows[0..<9].joined(), to: path)
        #expect(try await setup.follower("Master.csv", format: nil).poll().outcome.newRecords == 9)
        try FollowerTests.append(rows[9...].joined(), to: path)
        let pass = try await setup.follower("Master.csv", format: nil).poll()
        #expect(pass.outcome.newRecords == rows.count - 9)
        #expect(pass.outcome.rejects == 0)
        _ = try await setup.store.advanceClock(
            to: Timestamp(seconds: Self.ten + 3600), correlator: setup.engine.correlator)
        try Self.check(try await setup.store.contacts(ContactQuery()))
    }
}
