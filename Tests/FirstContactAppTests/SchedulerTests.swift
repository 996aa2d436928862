import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

/// A missed hotline call and a failed transfer, as Asterisk writes them (2026-11-27, +08:00).
enum SchedulerFixture {
    static let missedCall = #"""
        "","13800002222","96116","from-trunk","""李四"" <13800002222>","PJSIP/trunk-00000011","","Queue","hotline,t,,,300","2026-11-27 10:00:00","2026-11-27 10:00:01","2026-11-27 10:01:00",60,59,"ANSWERED","DOCUMENTATION","1795744800.11","","","1795744800.11",11
        """#
    static let missedQueueLog = #"""
        1795744810|1795744800.11|hotline|NONE|ENTERQUEUE||13800002222|1
        1795744860|1795744800.11|hotline|NONE|ABANDON|1|1|50
        """#
    /// Answered by 张敏 (1001, service), blind-transferred to the repairs queue, where 周强 (1009) did not answer.
    static let failedTransfer = #"""
        "","13800003333","96116","from-trunk","""王五"" <13800003333>","PJSIP/trunk-00000021","PJSIP/1001-00000022","Queue","hotline,t,,,300","2026-11-27 10:00:00","2026-11-27 10:00:20","2026-11-27 10:05:00",300,280,"ANSWERED","DOCUMENTATION","1795744800.21","","","1795744800.21",21
        "","13800003333","96116","from-trunk","""王五"" <13800003333>","PJSIP/trunk-00000021","PJSIP/1009-00000023","Queue","repairs,t,,,300","2026-11-27 10:05:01",,"2026-11-27 10:05:31",30,0,"NO ANSWER","DOCUMENTATION","1795744800.21","","","1795744800.21",22
        """#
    static let failedTransferQueueLog = #"""
        1795744810|1795744800.21|hotline|NONE|ENTERQUEUE||13800003333|1
        1795744820|1795744800.21|hotline|张敏|CONNECT|10|1795744820.22|5
        1795745100|1795744800.21|hotline|张敏|BLINDTRANSFER|repairs|from-internal|10|280|1
        1795745101|1795744800.21|repairs|NONE|ENTERQUEUE||13800003333|1
        1795745116|1795744800.21|repairs|周强|RINGNOANSWER|15000
        1795745131|1795744800.21|repairs|NONE|ABANDON|1|1|30
        """#

    static func at(_ local: String) throws -> Timestamp {
        try #require(Timestamp(iso8601: "\(local)+08:00"))
    }

    /// The failed transfer (a pending hand-off to repairs) ingested into a fresh store.
    static func failedTransferStore(in directory: URL, engine: Engine) async throws -> SQLiteContactStore {
        try await Self.store(Self.failedTransfer, Self.failedTransferQueueLog, in: directory, engine: engine)
    }

    /// Ingests the given CSV and queue_log text into a fresh store.
    static func store(_ csv: String, _ queueLog: String, in directory: URL, engine: Engine) async throws
        -> SQLiteContactStore
    {
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("s.sqlite").path)
        let master = directory.appendingPathComponent("Master.csv")
        let log = directory.appendingPathComponent("queue_log")
        try (csv + "\n").write(to: master, atomically: true, encoding: .utf8)
        try (queueLog + "\n").write(to: log, atomically: true, encoding: .utf8)
        _ = try await IngestPipeline(engine: engine, store: store).ingest(paths: [master.path, log.path], format: nil)
        return store
    }
}

@Suite("Obligation scheduler, on a manual clock")
struct SchedulerTests {
    @Test(
        "the scheduler sleeps until each next due time and fires at risk, breach, escalation 1 and 2 and not_escalated in order, each notified once"
    )
    func firesInOrder() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T10:01:00"))
        let scheduler = ObligationScheduler(engine: engine, store: store, clock: clock, maximumSleep: 86_400)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run() }
            // Due 10:31 (30 business minutes after 10:01); at risk at 80 %: 10:25.
            let expectations: [(String, String, OutboxEntry.Kind?)] = [
                ("2026-11-27T10:25:00", "pending", .atRisk),
                ("2026-11-27T10:31:00", "breached", .escalation),
                ("2026-11-27T11:31:00", "breached", .escalation),
                // One more business hour after level 2 runs across lunch (12:00–14:00): 14:31.
                ("2026-11-27T14:31:00", "breached", .violation),
            ]
            for (time, state, kind) in expectations {
                await clock.waitForSleepers()
                #expect(
                    clock.nextWake == (try SchedulerFixture.at(time)), "the scheduler should wake exactly at \(time)")
                clock.advance(to: try SchedulerFixture.at(time))
                await clock.waitForSleepers()
                let obligation = try #require(try await store.contacts(ContactQuery()).first?.obligations.first)
                #expect(obligation.state.rawValue == state)
                let outbox = try await store.outbox(after: 0, limit: 100)
                #expect(outbox.last?.kind == kind)
                #expect(outbox.last?.at == (try SchedulerFixture.at(time)))
            }
            let outbox = try await store.outbox(after: 0, limit: 100)
            #expect(outbox.map(\.kind) == [.atRisk, .breach, .escalation, .escalation, .violation])
            #expect(outbox.compactMap(\.level) == [1, 2])
            #expect(outbox.last?.agent == AgentID("8001"))  // not_escalated is held against the head of service
            #expect(Set(outbox.map(\.key)).count == outbox.count)
            group.cancelAll()
            clock.wakeAll()
        }
    }

    @Test("re-deriving a customer does not notify twice")
    func notificationsAreIdempotent() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T13:00:00"), correlator: engine.correlator)
        let first = try await store.outbox(after: 0, limit: 100)
        // At 13:00 the at-risk moment has long passed (not announced late), and not_escalated is not due before 14:31.
        #expect(first.map(\.kind) == [.breach, .escalation, .escalation], "\(first.map(\.key))")
        // A later short abandon from the same number re-derives the customer: nothing new to notify.
        let later = directory.appendingPathComponent("later.csv")
        try #"""
        "","13800002222","96116","from-trunk","13800002222","PJSIP/trunk-00000031","","Queue","hotline,t,,,300","2026-11-27 12:50:00","2026-11-27 12:50:01","2026-11-27 12:50:03",3,2,"ANSWERED","DOCUMENTATION","1795753800.31","","","1795753800.31",31
        """#.write(to: later, atomically: true, encoding: .utf8)
        let summary = try await IngestPipeline(engine: engine, store: store).ingest(paths: [later.path], format: nil)
        #expect(summary.derived == 1)
        #expect(try await store.outbox(after: 0, limit: 100) == first)
        #expect(try await store.contacts(ContactQuery()).first?.calls.count == 2)
    }
}
