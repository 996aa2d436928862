import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

@Suite("Late records")
struct LateRecordTests {
    // 2026-11-27 10:00 in Asia/Shanghai.
    let missed = #"""
        "","13800001111","96116","from-trunk","""张三"" <13800001111>","PJSIP/trunk-00000001","","Queue","hotline,t,,,300","2026-11-27 10:00:00","2026-11-27 10:00:01","2026-11-27 10:01:00",60,59,"ANSWERED","DOCUMENTATION","1795744800.1","","","1795744800.1",1
        """#
    let queueLog = #"""
        1795744810|1795744800.1|hotline|NONE|ENTERQUEUE||13800001111|1
        1795744860|1795744800.1|hotline|NONE|ABANDON|1|1|50
        """#
    /// Agent 1001 called back at 10:20, well inside the 30-minute SLA — but this row reaches us late.
    let callback = #"""
        "","1001","13800001111","from-internal","""张敏"" <1001>","PJSIP/1001-00000002","PJSIP/trunk-00000003","Dial","PJSIP/13800001111@trunk,60","2026-11-27 10:20:00","2026-11-27 10:20:08","2026-11-27 10:22:00",120,112,"ANSWERED","DOCUMENTATION","1795746000.2","","","1795746000.2",2
        """#

    @Test("a late callback record reverses the breach it disproves, and the trail says so")
    func lateRecordReversesBreach() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("late.sqlite").path)
        let pipeline = IngestPipeline(engine: engine, store: store)
        let first = directory.appendingPathComponent("Master-1.csv")
        let log = directory.appendingPathComponent("queue_log")
        try (self.missed + "\n").write(to: first, atomically: true, encoding: .utf8)
        try (self.queueLog + "\n").write(to: log, atomically: true, encoding: .utf8)
        _ = try await pipeline.ingest(paths: [first.path, log.path], format: nil)
        _ = try await store.advanceClock(
            to: try #require(Timestamp(iso8601: "2026-11-27T12:00:00+08:00")), correlator: engine.correlator)

        let before = try #require(try await store.contacts(ContactQuery()).first)
        let owed = try #require(before.obligations.first)
        #expect(owed.state == .breached)
        #expect(owed.dueAt.iso8601 == "2026-11-27T02:31:00Z")
        // Due 10:31; level 2 at 11:31 (escalate_after 1h); not_escalated would only come at 12:31.
        #expect(owed.escalationLevel == 2)
        #expect(try await store.snapshot().violations.map(\.category) == [.notHandledInTime])

        let late = directory.appendingPathComponent("Master-2.csv")
        try (self.callback + "\n").write(to: late, atomically: true, encoding: .utf8)
        let summary = try await pipeline.ingest(paths: [late.path], format: nil)
        #expect(summary.amendments == 2)

        let detail = try #require(try await store.contact(before.id, correlator: engine.correlator))
        let after = try #require(detail.contact.obligations.first)
        #expect(after.state == .satisfied)
        #expect(after.satisfiedVia == .callback)
        #expect(after.satisfiedBy == AgentID("1001"))
        #expect(detail.contact.firstResponder?.via == .callback)
        #expect(detail.violations.isEmpty)
        let trail = detail.amendments.map(\.message)
        #expect(trail.contains { $0.contains("from breached to satisfied") })
        #expect(trail.contains { $0.contains("not_handled_in_time") && $0.contains("reversed") })
    }
}

@Suite("Interrupted runs")
struct InterruptedRunTests {
    @Test(
        "records stored but not yet derived (a run killed before its derivation) are noted by a reader, which writes nothing, and derived by the next writing command",
        .timeLimit(.scaled(minutes: 2)))
    func storedButNotDerived() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let db = directory.appendingPathComponent("interrupted.sqlite").path
        let store = try SQLiteContactStore(path: db)
        // The batch commits (records, calls, dirty customers) but the process "dies" before advanceClock.
        guard case .lines(let decoder) = engine.decoder(for: .asteriskCSV) else {
            Issue.record("asterisk-csv is read line by line")
            return
        }
        let lines = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8
        )
        .split(separator: "\n").prefix(30)
        let records = lines.enumerated().map { index, line in
            decoder.decode(Array(line.utf8), at: SourcePosition(source: "Master.csv", line: index + 1, offset: 0))
        }
        let batch = try await store.ingest(records, correlator: engine.correlator)
        #expect(batch.customersTouched > 0)
        #expect(try await store.contacts(ContactQuery()).isEmpty)

        // A reader says what awaits derivation and leaves it waiting: deriving would write.
        let read = try await Fixture.run(["contacts", "--config", Fixture.sampleConfig, "--db", db])
        #expect(read.status == 0)
        #expect(read.output.contains("note: \(batch.customersTouched) customer(s) have records not derived yet"))
        #expect(read.output.contains("0 contact(s)"))
        #expect(try await store.awaitingDerivation() == batch.customersTouched)

        // The next writing command settles first (tick never moves the clock back past the watermark).
        let tick = try await Fixture.run([
            "tick", "--config", Fixture.sampleConfig, "--db", db, "--now", "2026-11-26T00:00:00+08:00",
        ])
        #expect(tick.status == 0)
        #expect(try await store.awaitingDerivation() == 0)
        let (status, output) = try await Fixture.run([
            "contacts", "--config", Fixture.sampleConfig, "--db", db, "--json",
        ])
        #expect(status == 0)
        #expect(!output.contains("note:"))
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
        #expect(listed.count == (try await store.contacts(ContactQuery()).count))
        #expect(!listed.isEmpty)
    }
}
