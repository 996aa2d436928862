import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// IVR events through the HTTP API into a real SQLite store, together with Asterisk records:
/// the callback a caller keys for another number is owed to that number and settled by a call to it.
@Suite("IVR events end to end")
struct IVRIngestTests {
    /// 赵六 (13800005555) rings the hotline at 10:20, the IVR answers, he presses 9 and keys 13912345678, hangs up at 10:20:10.
    static let ivrCall = #"""
        "","13800005555","96116","from-trunk","""赵六"" <13800005555>","PJSIP/trunk-00000041","","BackGround","hotline-menu","2026-11-27 10:20:00","2026-11-27 10:20:01","2026-11-27 10:20:10",10,9,"ANSWERED","DOCUMENTATION","1795746000.41","","","1795746000.41",41
        """#
    static let events = #"""
        <ivr-events xmlns="urn:firstcontact:ivr-events:1">
          <ivr-event kind="menu-choice" at="2026-11-27T10:20:05+08:00" caller="13800005555" digit="9" call="1795746000.41"/>
          <ivr-event kind="callback-request" at="2026-11-27T10:20:08+08:00" caller="13800005555" number="13912345678" call="1795746000.41"/>
        </ivr-events>
        """#
    /// 王芳 (1002) calls the keyed number back at 10:35; it is answered.
    static let callback = #"""
        "","1002","13912345678","from-internal","""王芳"" <1002>","PJSIP/1002-00000051","PJSIP/trunk-00000052","Dial","PJSIP/13912345678@trunk,60","2026-11-27 10:35:00","2026-11-27 10:35:08","2026-11-27 10:37:00",120,112,"ANSWERED","DOCUMENTATION","1795746900.51","","","1795746900.51",51
        """#

    static func obligations(_ client: some TestClientProtocol) async throws -> [[String: Any]] {
        try await client.execute(uri: "/v1/obligations", method: .get, headers: APITests.admin) { response in
            try #require(try APITests.json(response) as? [[String: Any]])
        }
    }

    @Test(
        "POST /v1/ingest/ivr-events: the keyed number is owed on the caller's contact; the agent's call to it satisfies the callback; re-posting changes nothing"
    )
    func keyedCallbackOverHTTP() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(Self.ivrCall, "", now: "2026-11-27T10:30:00", in: directory)
        try await app.test(.router) { client in
            // The IVR call alone (10 s, over the grace) is a miss owed at the caller ID.
            let before = try await Self.obligations(client)
            #expect(before.count == 1)
            #expect(before.first?["callback_number"] == nil)
            for round in 1...2 {
                try await client.execute(
                    uri: "/v1/ingest/ivr-events", method: .post, headers: APITests.pbx,
                    body: ByteBuffer(string: Self.events)
                ) { response in
                    #expect(response.status == .ok)
                    let body = try #require(try APITests.json(response) as? [String: Any])
                    #expect(body["new"] as? Int == (round == 1 ? 2 : 0))
                }
            }
            let owed = try await Self.obligations(client)
            #expect(owed.count == 1)
            #expect(owed.first?["kind"] as? String == "callback")
            #expect(owed.first?["state"] as? String == "pending")
            #expect(owed.first?["callback_number"] as? String == "+8613912345678")
            #expect((owed.first?["owner"] as? [String: Any])?["department"] as? String == "service")

            try await client.execute(
                uri: "/v1/ingest/asterisk-csv", method: .post, headers: APITests.pbx,
                body: ByteBuffer(string: Self.callback)
            ) { #expect($0.status == .ok) }
            let settled = try await Self.obligations(client)
            #expect(settled.first?["state"] as? String == "satisfied")
            #expect(settled.first?["satisfied_by"] as? String == "1002")
            #expect(settled.first?["satisfied_via"] as? String == "callback")
        }
        let contact = try #require(try await store.contacts(ContactQuery(customer: "+8613800005555")).first)
        #expect(contact.firstResponder?.agent == AgentID("1002"))
        #expect(contact.calls.count == 2)
    }

    @Test(
        "the schema in samples/ validates what the simulator writes and the test fixture (xmllint --schema, libxml2's own validator)",
        .timeLimit(.scaled(minutes: 2)))
    func schemaValidatesSamples() throws {
        let ivr = Fixture.sampleDay.appendingPathComponent("ivr")
        let files = try FileManager.default.contentsOfDirectory(atPath: ivr.path).filter { $0.hasSuffix(".xml") }
            .sorted()
        #expect(!files.isEmpty)
        let fixture = Fixture.root.appendingPathComponent("Tests/FirstContactIngestTests/Fixtures/ivr/day.xml").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/xmllint")
        process.arguments =
            ["--noout", "--nonet", "--schema", Fixture.root.appendingPathComponent("samples/ivr-events.xsd").path]
            + files.map { ivr.appendingPathComponent($0).path } + [fixture]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.components(separatedBy: " validates").count - 1 == files.count + 1)
    }
}
