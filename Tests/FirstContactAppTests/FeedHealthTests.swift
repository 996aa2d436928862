import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import GRDB
import Testing

@Suite("Feed health")
struct FeedHealthTests {
    let missed = #"""
        "","13800004444","96116","from-trunk","13800004444","PJSIP/trunk-00000041","","Queue","hotline,t,,,300","2026-11-27 09:00:00","2026-11-27 09:00:01","2026-11-27 09:01:00",60,59,"ANSWERED","DOCUMENTATION","1795741200.41","","","1795741200.41",41
        """#
    let answeredLater = #"""
        "","13800005555","96116","from-trunk","13800005555","PJSIP/trunk-00000051","PJSIP/1001-00000052","Queue","hotline,t,,,300","2026-11-27 11:00:00","2026-11-27 11:00:05","2026-11-27 11:02:00",120,115,"ANSWERED","DOCUMENTATION","1795748400.51","","","1795748400.51",51
        """#
    /// A row from inside the silence that reaches the file late.
    let fromInsideTheGap = #"""
        "","13800006666","96116","from-trunk","13800006666","PJSIP/trunk-00000061","PJSIP/1002-00000062","Queue","hotline,t,,,300","2026-11-27 09:24:00","2026-11-27 09:24:05","2026-11-27 09:25:00",60,55,"ANSWERED","DOCUMENTATION","1795742640.61","","","1795742640.61",61
        """#

    @Test(
        "a callback whose clock runs out while the CDR feed is silent is uncertain, not breached; a late record from the gap settles it as a breach"
    )
    func silenceMakesObligationsUncertain() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let master = directory.appendingPathComponent("Master.csv")
        let config = directory.appendingPathComponent("feeds.yaml")
        try
            (String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
            + "\nfeeds:\n  - {name: asterisk-main, source: \"\(master.path)\", calendar: office, silence: 15m}\n")
            .write(to: config, atomically: true, encoding: .utf8)
        let engine = try Engine.load(configuration: config.path)
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("f.sqlite").path)
        let pipeline = IngestPipeline(engine: engine, store: store)

        try (self.missed + "\n" + self.answeredLater + "\n").write(to: master, atomically: true, encoding: .utf8)
        _ = try await pipeline.ingest(paths: [master.path], format: nil)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)

        let callback = try #require(try await store.contacts(ContactQuery()).flatMap(\.obligations).first)
        #expect(callback.dueAt == (try SchedulerFixture.at("2026-11-27T09:31:00")))
        #expect(callback.state == .pending)
        #expect(callback.uncertain)
        #expect(try await store.snapshot().violations.isEmpty)
        let alerts = try await store.outbox(after: 0, limit: 100).filter {
            $0.kind == .feedSilent || $0.kind == .feedResumed
        }
        // Silent from 15 office minutes after the row that ended 09:01 until the row that ended
        // 11:02, and again 15 minutes after that (still silent at 12:00).
        #expect(alerts.map(\.kind) == [.feedSilent, .feedResumed, .feedSilent])
        #expect(
            alerts.map(\.at) == [
                try SchedulerFixture.at("2026-11-27T09:16:00"), try SchedulerFixture.at("2026-11-27T11:02:00"),
                try SchedulerFixture.at("2026-11-27T11:17:00"),
            ])

        // A resume point past where the gaps change carries a walk that knew the old gaps. One is
        // planted after 09:16, where the late row changes them, for a customer the row does not
        // touch (this file's calls leave none of their own while the file counts as a backfill).
        let database = directory.appendingPathComponent("f.sqlite").path
        try await DatabaseQueue(path: database).write { db in
            try db.execute(
                sql: "UPDATE customer SET resume_before = ? WHERE customer_key = ?",
                arguments: [try SchedulerFixture.at("2026-11-27T11:02:01").seconds, "+8613800005555"])
            #expect(db.changesCount == 1)
            try db.execute(
                sql: "INSERT INTO customer_resume (customer_key, state) VALUES (?, x'01')",
                arguments: ["+8613800005555"])
        }

        // The row from 09:24 arrives late: the feed was not silent at 09:31 after all.
        try (self.missed + "\n" + self.fromInsideTheGap + "\n" + self.answeredLater + "\n").write(
            to: master, atomically: true, encoding: .utf8)
        _ = try await pipeline.ingest(paths: [master.path], format: nil)
        let points = try await DatabaseQueue(path: database).read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT customer_key, resume_before FROM customer").map {
                    ($0[0] as String, $0[1] as Int64?)
                })
        }
        #expect(points["+8613800005555"] == .some(nil), "the point past the change is dropped")
        let settled = try #require(try await store.obligation(callback.id)?.obligation)
        #expect(settled.state == .breached)
        #expect(!settled.uncertain)
        #expect(try await store.snapshot().violations.map(\.category).first == .notHandledInTime)
    }
}
