import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Testing

@Suite("Unmatched devices: internal phones no agent lists are reported")
struct UnmatchedDeviceTests {
    /// A trunk call answered by 张敏 (PJSIP/1001, listed), and two calls out from PJSIP/1077 in
    /// from-internal, a phone no agent lists.
    let rows = #"""
        "","13800001111","96116","from-trunk","13800001111","PJSIP/trunk-00000001","PJSIP/1001-00000002","Dial","PJSIP/1001","2026-11-27 10:00:00","2026-11-27 10:00:05","2026-11-27 10:03:00",180,175,"ANSWERED","DOCUMENTATION","1795744800.1","","","1795744800.1",1
        "","1077","13800001111","from-internal","1077","PJSIP/1077-00000003","PJSIP/trunk-00000004","Dial","PJSIP/13800001111@trunk","2026-11-27 10:20:00","2026-11-27 10:20:05","2026-11-27 10:22:00",120,115,"ANSWERED","DOCUMENTATION","1795746000.3","","","1795746000.3",3
        "","1077","13800002222","from-internal","1077","PJSIP/1077-00000005","PJSIP/trunk-00000006","Dial","PJSIP/13800002222@trunk","2026-11-27 10:30:00","2026-11-27 10:30:05","2026-11-27 10:32:00",120,115,"ANSWERED","DOCUMENTATION","1795746600.5","","","1795746600.5",5
        """#

    @Test("ingest counts the legs of an internal phone that matched no agent, by device, and nothing else")
    func ingestReportsUnmatchedPhones() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("unmatched.sqlite").path)
        let file = directory.appendingPathComponent("Master.csv")
        try (self.rows + "\n").write(to: file, atomically: true, encoding: .utf8)
        let summary = try await IngestPipeline(engine: engine, store: store).ingest(paths: [file.path], format: nil)
        #expect(summary.unmatchedDevices.sorted.map(\.device) == ["pjsip/1077"])
        #expect(summary.unmatchedDevices.sorted.map(\.legs) == [2])
    }

    @Test(
        "a registered sofia user no agent lists is unmatched; trunks, gateways and listed phones are not",
        arguments: [
            ("sofia/internal/1077@pbx.example", "default", "sofia/internal/1077@pbx.example"),
            ("sofia/internal/1001@pbx.example", "default", nil),
            ("sofia/external/13800001111@gw.example", "public", nil),
            ("sofia/gateway/trunk/13800001111", "default", nil),
            ("PJSIP/trunk-00000001", "from-trunk", nil),
            ("Local/1077@agents-00000001;2", "from-internal", nil),
        ] as [(String, String, String?)])
    func whatLooksLikeAnInternalPhone(_ channel: String, _ context: String, _ device: String?) throws {
        var configuration = try Fixture.engine().configuration
        configuration.agents = configuration.agents.map { agent in
            var agent = agent
            if agent.id == AgentID("1001") { agent.devices = ["user/1001"] }
            return agent
        }
        let leg = LegRecord(
            key: EventKey(rawValue: "fsleg:x"), position: SourcePosition(source: "x", line: 1, offset: 0),
            call: CallKey("x"),
            uniqueID: "x", source: "1077", callerName: "", destination: "13800001111", context: context,
            channel: channel,
            peerChannel: "", application: "bridge", applicationData: "", start: Timestamp(seconds: 1_795_746_000),
            answer: nil,
            end: Timestamp(seconds: 1_795_746_060), billsec: 0, disposition: .noAnswer, sequence: nil)
        #expect(Directory(configuration: configuration).unmatchedPhone(leg) == device)
    }
}
