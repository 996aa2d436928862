import Foundation
import Testing

@testable import FirstContactApp
@testable import FirstContactCore
@testable import FirstContactIngest

// SPEC rule 2 on Asterisk CDR files without linkedid (the 18-column layout of Asterisk 1.8 with
// loguniqueid and loguserfield): a queue whose members are Local channels writes the caller's row
// (bridged to `Local/…;1`) and one row per `;2` half that dialled a member's phone, each with its
// own uniqueid. They are one call: the member who answered through a Local channel is the first
// responder, a member rung through one is a ring-no-answer, and no half is a call of its own.

@Suite("Rule 2 — queue members reached through Local channels are part of the caller's call (no linkedid)")
struct LocalChannelTests {
    /// 09:00:00 the customer calls 96116 and enters the hotline queue; the queue rings
    /// Local/1002@agents (its ;2 half dials SIP/1002, no answer) and Local/1001@agents (its ;2 half
    /// dials SIP/1001, answered 09:00:20); the call ends 09:05:00.
    static let rows = [
        ##""","13812345678","96116","from-trunk","13812345678","SIP/trunk-00000010","Local/1001@agents-0000000a;1","Queue","hotline,t","2026-11-26 09:00:00","2026-11-26 09:00:00","2026-11-26 09:05:00",300,300,"ANSWERED","DOCUMENTATION","1764118800.16","""##,
        ##""","13812345678","1002","agents","13812345678","Local/1002@agents-00000009;2","SIP/1002-00000011","Dial","SIP/1002,15","2026-11-26 09:00:05",,"2026-11-26 09:00:20",15,0,"NO ANSWER","DOCUMENTATION","1764118805.18","""##,
        ##""","13812345678","1001","agents","13812345678","Local/1001@agents-0000000a;2","SIP/1001-00000012","Dial","SIP/1001,15","2026-11-26 09:00:05","2026-11-26 09:00:20","2026-11-26 09:05:00",295,280,"ANSWERED","DOCUMENTATION","1764118805.19","""##,
    ]

    @Test(
        "one contact, first responder the member who answered through the Local channel, the other member rung",
        arguments: [[0, 1, 2], [2, 1, 0], [1, 0, 2]])
    func localMembersJoinTheCallersCall(order: [Int]) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("Master.csv")
        try (order.map { Self.rows[$0] }.joined(separator: "\n") + "\n").write(
            to: file, atomically: true, encoding: .utf8)

        let (export, summary) = try await Fixture.export(
            ingesting: [[file.path]], into: directory, tick: "2026-11-26T12:00:00+08:00")
        #expect(summary?.batches.rejects == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(export.utf8)) as? [String: Any])
        let contacts = try #require(document["contacts"] as? [[String: Any]])
        #expect(contacts.count == 1)
        let contact = try #require(contacts.first)
        let responder = try #require(contact["first_responder"] as? [String: Any])
        #expect(responder["agent"] as? String == "1001")
        #expect(responder["bound_at"] as? String == "2026-11-26T01:00:20Z")
        #expect(contact["department"] as? String == "service")
        #expect((contact["obligations"] as? [Any])?.isEmpty == true)
        #expect((document["violations"] as? [Any])?.isEmpty == true)
    }

    @Test("a member rung through a Local channel is recorded as ring-no-answer on the caller's contact")
    func ringNoAnswerThroughLocal() throws {
        let engine = try Fixture.engine()
        let decoder = AsteriskCDRDecoder(
            options: engine.configuration.asterisk, zone: engine.configuration.timezone)
        var records: [CallRecord] = []
        for (index, row) in Self.rows.enumerated() {
            let position = SourcePosition(source: "Master.csv", line: index + 1, offset: Int64(index * 400))
            if case .record(let record) = decoder.decode(line: Array(row.utf8)[...], position: position) {
                records.append(record)
            }
        }
        #expect(records.count == 3)
        // Three uniqueids, three call keys: only the Local channel's name ties them together.
        #expect(Set(records.map(\.call)).count == 3)
        var groups: [CallKey: [CallRecord]] = [:]
        for record in records { groups[record.call, default: []].append(record) }
        let calls = CallAssembler(directory: engine.correlator.directory)
            .assembleCalls(groups.keys.sorted().map { ($0, groups[$0] ?? []) })
        #expect(calls.count == 1)
        let call = try #require(calls.first)
        #expect(call.key == CallKey("1764118800.16"))
        #expect(call.answers.map(\.agent) == [AgentID("1001")])
        #expect(call.ringNoAnswer == [AgentID("1002")])
        #expect(call.direction == .inbound)
    }
}
