import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactSimulator
import FirstContactStore
import Foundation
import Testing

/// A mod_xml_cdr A-leg as FreeSWITCH writes it for a hotline call (variables URL-encoded).
private func memberCDR(
    uuid: String, caller: String, start: Int64, answer: Int64, bridge: Int64?, end: Int64, ccAgent: String?,
    cause: String = "NORMAL_CLEARING"
) -> String {
    var variables = [
        ("direction", "inbound"), ("uuid", uuid), ("channel_name", "sofia/external/\(caller)%40203.0.113.5"),
        ("start_uepoch", FreeSWITCHDocuments.micro(start)), ("answer_uepoch", FreeSWITCHDocuments.micro(answer)),
        ("end_uepoch", FreeSWITCHDocuments.micro(end)),
        ("billsec", "\(end - answer)"), ("hangup_cause", cause), ("last_app", "callcenter"),
        ("last_arg", "hotline%40default"),
    ]
    if let bridge { variables.append(("bridge_uepoch", FreeSWITCHDocuments.micro(bridge))) }
    if let ccAgent {
        variables.append(("cc_agent", ccAgent))
        variables.append(("cc_queue_answered_epoch", "\(bridge ?? answer)"))
    }
    return FreeSWITCHDocuments.leg(
        variables: variables,
        profile: FreeSWITCHDocuments.Profile(
            uuid: uuid, number: caller, destination: "96116", context: "public",
            channel: "sofia/external/\(caller)@203.0.113.5"))
}

/// 2026-11-27 10:00:00 Beijing time.
private let ten: Int64 = 1_795_744_800

@Suite("Ingest: FreeSWITCH XML CDR files")
struct FreeSWITCHIngestTests {
    private func pipeline(in directory: URL, batchSize: Int = 20000) throws -> (IngestPipeline, SQLiteContactStore) {
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fs.sqlite").path)
        var pipeline = IngestPipeline(engine: try Fixture.engine(), store: store)
        pipeline.batchSize = batchSize
        return (pipeline, store)
    }

    @Test(
        "the public corpus directory ingests with 0 rejects, detected or forced",
        arguments: [nil, InputFormat.freeswitchXMLCDR])
    func corpus(_ format: InputFormat?) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (pipeline, store) = try self.pipeline(in: directory)
        let corpus = Fixture.corpus.appendingPathComponent("freeswitch-xml-cdr").path
        let summary = try await pipeline.ingest(paths: [corpus], format: format)
        #expect(summary.files.count == 6)
        #expect(summary.files.allSatisfy { $0.format == .freeswitchXMLCDR && $0.records == 1 && $0.rejects == 0 })
        #expect(summary.batches.records == 6)
        #expect(summary.batches.rejects == 0)
        #expect(summary.rejects.isEmpty)
        #expect(try await store.totals().calls == 6)

        // Idempotent: the same files again add nothing.
        let again = try await pipeline.ingest(paths: [corpus], format: format)
        #expect(again.batches.duplicates == 6)
        #expect(again.batches.newRecords == 0)
    }

    @Test("a hotline call answered through mod_callcenter binds the cc_agent as first responder; a missed one does not")
    func hotlineCalls() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = directory.appendingPathComponent("cdr")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        // The IVR answers at +2 s; agent 1001 is bridged at +40 s.
        try memberCDR(
            uuid: "a-answered", caller: "13800001111", start: ten, answer: ten + 2, bridge: ten + 40, end: ten + 200,
            ccAgent: "1001%40default"
        ).write(to: files.appendingPathComponent("a_a-answered.cdr.xml"), atomically: true, encoding: .utf8)
        // Another caller gives up in the queue: answered by the IVR, never bridged.
        try memberCDR(
            uuid: "a-missed", caller: "13900002222", start: ten + 60, answer: ten + 61, bridge: nil, end: ten + 120,
            ccAgent: nil
        ).write(to: files.appendingPathComponent("a_a-missed.cdr.xml"), atomically: true, encoding: .utf8)

        // batchSize 1: every document is its own transaction (the in-loop flush path).
        let (pipeline, store) = try self.pipeline(in: directory, batchSize: 1)
        let summary = try await pipeline.ingest(paths: [files.path], format: nil)
        #expect(summary.batches.rejects == 0)
        #expect(summary.batches.records == 2)
        _ = try await store.advanceClock(
            to: try #require(Timestamp(iso8601: "2026-11-27T10:10:00+08:00")), correlator: pipeline.engine.correlator)

        let contacts = try await store.contacts(ContactQuery())
        let answered = try #require(contacts.first { $0.customerRaw == "13800001111" })
        #expect(answered.firstResponder?.agent == AgentID("1001"))
        #expect(answered.firstResponder?.boundAt == Timestamp(seconds: ten + 40))
        #expect(answered.department == DepartmentID("service"))
        let missed = try #require(contacts.first { $0.customerRaw == "13900002222" })
        #expect(missed.firstResponder == nil)
        #expect(!missed.obligations.isEmpty)
    }

    @Test("hostile, broken and oversized documents are one reject each; the good ones around them still load")
    func rejectsDoNotStopTheBatch() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = directory.appendingPathComponent("cdr")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try memberCDR(
            uuid: "a-good", caller: "13800001111", start: ten, answer: ten + 2, bridge: ten + 40, end: ten + 200,
            ccAgent: "1001%40default"
        ).write(to: files.appendingPathComponent("1-good.cdr.xml"), atomically: true, encoding: .utf8)
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE cdr [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <cdr><variables><uuid>&b;</uuid></variables></cdr>
            """
        try laughs.write(to: files.appendingPathComponent("2-laughs.cdr.xml"), atomically: true, encoding: .utf8)
        try "<cdr><variables><uuid>cut".write(
            to: files.appendingPathComponent("3-truncated.cdr.xml"), atomically: true, encoding: .utf8)
        // 5 MB: over the 4 MiB document limit, refused without being read whole.
        let huge = Data("<cdr>".utf8) + Data(repeating: UInt8(ascii: "x"), count: 5_000_000) + Data("</cdr>".utf8)
        try huge.write(to: files.appendingPathComponent("4-huge.cdr.xml"))

        let (pipeline, store) = try self.pipeline(in: directory)
        let summary = try await pipeline.ingest(paths: [files.path], format: nil)
        #expect(summary.batches.records == 4)
        #expect(summary.batches.rejects == 3)
        let reasons = summary.rejects.map(\.reason)
        #expect(reasons.contains { $0.contains("DOCTYPE") })
        #expect(reasons.contains { $0.contains("truncated") })
        #expect(reasons.contains { $0.contains("5000011 bytes, over the 4194304-byte limit") })
        #expect(summary.rejects.allSatisfy { $0.raw.count <= 64 * 1024 })
        #expect(try await store.totals().calls == 1)
        #expect(try await store.totals().rejects == 3)
    }

    @Test(
        "a leg read from its CDR and from its CHANNEL_HANGUP_COMPLETE event is stored once; callcenter events join its call"
    )
    func cdrAndEventOfOneLeg() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cdr = directory.appendingPathComponent("a_a-answered.cdr.xml")
        try memberCDR(
            uuid: "a-answered", caller: "13800001111", start: ten, answer: ten + 2, bridge: ten + 40, end: ten + 200,
            ccAgent: "1001%40default"
        ).write(to: cdr, atomically: true, encoding: .utf8)
        func frame(_ headers: [(String, String)]) -> String {
            let body = headers.map { "\($0.0): \($0.1)\n" }.joined() + "\n"
            return "Content-Length: \(body.utf8.count)\nContent-Type: text/event-plain\n\n\(body)"
        }
        let common = [("Core-UUID", "core-1"), ("Event-Date-Timestamp", "\(ten)000000")]
        let member = [("CC-Queue", "hotline%40default"), ("CC-Member-Session-UUID", "a-answered")]
        let events = [
            frame(
                [
                    ("Event-Name", "CUSTOM"), ("Event-Subclass", "callcenter%3A%3Ainfo"), ("Event-Sequence", "1"),
                    ("CC-Action", "member-queue-start"), ("CC-Member-CID-Number", "13800001111"),
                    ("CC-Member-Joined-Time", "\(ten + 5)"),
                ] + common + member),
            frame(
                [
                    ("Event-Name", "CUSTOM"), ("Event-Subclass", "callcenter%3A%3Ainfo"), ("Event-Sequence", "2"),
                    ("CC-Action", "bridge-agent-start"), ("CC-Agent", "1001%40default"),
                    ("CC-Agent-Answered-Time", "\(ten + 40)"), ("CC-Member-Joined-Time", "\(ten + 5)"),
                ] + common + member),
            // The same leg the CDR holds, as its hang-up event (variables as the CDR's).
            frame(
                [
                    ("Event-Name", "CHANNEL_HANGUP_COMPLETE"), ("Event-Sequence", "3"), ("Unique-ID", "a-answered"),
                    ("Call-Direction", "inbound"), ("Caller-Caller-ID-Number", "13800001111"),
                    ("Caller-Destination-Number", "96116"), ("Caller-Context", "public"),
                    ("variable_uuid", "a-answered"), ("variable_direction", "inbound"),
                    ("variable_channel_name", "sofia/external/13800001111%40203.0.113.5"),
                    ("variable_start_uepoch", "\(ten)000000"), ("variable_answer_uepoch", "\(ten + 2)000000"),
                    ("variable_bridge_uepoch", "\(ten + 40)000000"), ("variable_end_uepoch", "\(ten + 200)000000"),
                    ("variable_billsec", "198"), ("variable_hangup_cause", "NORMAL_CLEARING"),
                    ("variable_cc_agent", "1001%40default"), ("variable_cc_queue_answered_epoch", "\(ten + 40)"),
                    ("variable_last_app", "callcenter"), ("variable_last_arg", "hotline%40default"),
                ] + common),
        ]
        let stream = directory.appendingPathComponent("events.log")
        try events.joined().write(to: stream, atomically: true, encoding: .utf8)

        let (pipeline, store) = try self.pipeline(in: directory)
        let first = try await pipeline.ingest(paths: [cdr.path], format: nil)
        #expect(first.batches.newRecords == 1)
        let second = try await pipeline.ingest(paths: [stream.path], format: nil)
        #expect(second.files.map(\.format) == [.freeswitchEvents])
        #expect(second.batches.rejects == 0)
        #expect(second.batches.newRecords == 2)  // the two queue events
        #expect(second.batches.duplicates == 1)  // the leg, already stored from its CDR
        #expect(try await store.totals().calls == 1)
        _ = try await store.advanceClock(
            to: try #require(Timestamp(iso8601: "2026-11-27T10:10:00+08:00")), correlator: pipeline.engine.correlator)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        #expect(contact.firstResponder?.agent == AgentID("1001"))
        #expect(contact.firstResponder?.boundAt == Timestamp(seconds: ten + 40))
        #expect(contact.department == DepartmentID("service"))
    }

    @Test("an event log read in small pieces stores the same records as read in one piece")
    func eventLogInPieces() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let day = directory.appendingPathComponent("day")
        _ = try Simulator(configuration: engine.configuration).run(
            seed: 11, calls: 60, date: CivilDate(year: 2026, month: 11, day: 27), outputDirectory: day.path)
        let events = day.appendingPathComponent("freeswitch/events.xml").path
        var exports: [String] = []
        var counts: [Int] = []
        for chunk in [4 << 20, 777] {
            let store = try SQLiteContactStore(path: directory.appendingPathComponent("\(chunk).sqlite").path)
            var pipeline = IngestPipeline(engine: engine, store: store)
            pipeline.streamChunkBytes = chunk
            pipeline.batchSize = 100
            let summary = try await pipeline.ingest(paths: [events], format: nil)
            #expect(summary.batches.rejects == 0)
            counts.append(summary.batches.records)
            exports.append(ExportDocument.render(try await store.snapshot()))
        }
        #expect(counts[0] > 200)
        #expect(counts[0] == counts[1])
        #expect(exports[0] == exports[1])
    }

    @Test(
        "an event that never ends within the limit is one reject for the rest of the file; what came before is stored")
    func endlessEvent() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.xml")
        let good = "<event><headers><Event-Name>HEARTBEAT</Event-Name></headers></event>\n"
        var bytes = Data(good.utf8) + Data("<event><headers><Event-Name>".utf8)
        bytes += Data(repeating: UInt8(ascii: "x"), count: 5_000_000)
        try bytes.write(to: file)
        let (pipeline, store) = try self.pipeline(in: directory)
        let summary = try await pipeline.ingest(paths: [file.path], format: nil)
        #expect(summary.files.first?.format == .freeswitchEvents)
        #expect(summary.batches.records == 2)
        #expect(summary.batches.ignored == 1)
        let reject = try #require(summary.rejects.first)
        #expect(reject.reason.contains("runs over 4194304 bytes without ending"))
        #expect(reject.position.offset == Int64(good.utf8.count))
        #expect(reject.position.line == 2)
        #expect(try await store.totals().rejects == 1)
    }
}
