import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("A failing scheduler tick never takes the service down")
struct SchedulerResilienceTests {
    /// Makes every clock move fail inside the real store: the clock lives in `meta`, so a trigger
    /// that aborts its update is what a full disk or a corrupt row looks like to the scheduler.
    static func breakClock(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER injected_failure BEFORE UPDATE ON meta WHEN NEW.key = 'clock'
                    BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                    """)
        }
    }

    static func repairClock(_ path: String) throws {
        try DatabaseQueue(path: path).write { db in try db.execute(sql: "DROP TRIGGER injected_failure") }
    }

    @Test(
        "a tick that throws is counted, reported on /healthz and /metrics, retried with back-off, and the breach fires once the cause is gone"
    )
    func failingTickIsRetried() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        let path = directory.appendingPathComponent("s.sqlite").path
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T10:01:00"))
        let scheduler = ObligationScheduler(engine: engine, store: store, clock: clock, maximumSleep: 86_400)
        let health = SchedulerHealth()
        let api = API(engine: engine, store: store, scheduler: scheduler, schedulerHealth: health)
        let app = Application(router: api.router())
        try Self.breakClock(path)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await scheduler.run(health: health) }
            await clock.waitForSleepers()
            #expect(health.snapshot.isFailing)
            #expect(health.snapshot.lastError?.contains("injected failure") == true)
            // Back-off: 1 s after the first failure, then 2 s, 4 s…
            #expect(clock.nextWake == (try SchedulerFixture.at("2026-11-27T10:01:01")))
            clock.advance(to: try SchedulerFixture.at("2026-11-27T10:01:01"))
            await clock.waitForSleepers()
            #expect(health.snapshot.consecutiveFailures == 2)
            #expect(clock.nextWake == (try SchedulerFixture.at("2026-11-27T10:01:03")))

            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).hasPrefix("degraded: scheduler failing"))
                }
                try await client.execute(
                    uri: "/metrics", method: .get, headers: [.authorization: "Bearer demo-admin"]
                ) { response in
                    let text = String(buffer: response.body)
                    #expect(text.contains("firstcontact_scheduler_failing 1"))
                    #expect(text.contains("firstcontact_scheduler_errors 2"))
                }
            }

            // The cause goes away; past the deadline the breach is applied on the next attempt.
            try Self.repairClock(path)
            clock.advance(to: try SchedulerFixture.at("2026-11-27T10:40:00"))
            await clock.waitForSleepers()
            #expect(!health.snapshot.isFailing)
            let obligation = try #require(try await store.contacts(ContactQuery()).first?.obligations.first)
            #expect(obligation.state == .breached)
            let outbox = try await store.outbox(after: 0, limit: 100)
            #expect(outbox.filter { $0.kind == .breach }.count == 1)
            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(String(buffer: response.body) == "ok\n")
                }
            }
            group.cancelAll()
            clock.wakeAll()
        }
    }

    @Test("back-off doubles from 1 s to at most 60 s, and a run of failures is logged once a minute")
    func backOff() {
        let health = SchedulerHealth()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let steps = (0..<9).map { health.failed(CancellationError(), at: start.addingTimeInterval(Double($0) * 20)) }
        #expect(steps.map(\.delay) == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        #expect(steps.map(\.log) == [true, false, false, true, false, false, true, false, false])
        health.succeeded()
        #expect(health.failed(CancellationError(), at: start).delay == 1)
    }

    @Test(
        "the event feed outlives an outbox it cannot read: it retries, and resumes from where it stood once the row is mended",
        .timeLimit(.scaled(minutes: 3)))
    func eventFeedOutlivesAFailingRead() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)
        let before = try await store.outbox(after: 0, limit: 1000)
        let last = try #require(before.last)
        let path = directory.appendingPathComponent("s.sqlite").path
        // A row no build writes: reading it throws (StoreError.corrupt), as a damaged page would.
        try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(
                sql: "INSERT INTO outbox (key, kind, at, detail) VALUES ('damaged', 'no_such_kind', 0, 'damaged')")
        }
        await #expect(throws: (any Error).self) { try await store.outbox(after: last.seq, limit: 10) }

        let feed = OutboxFeed(store: store, interval: .milliseconds(20))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await feed.run() }
            // Its first read meets the damaged row: nothing is served from memory yet, and it
            // keeps retrying rather than ending.
            try await Task.sleep(for: .seconds(2))
            #expect(feed.head == nil)
            try await DatabaseQueue(path: path).write { db in
                try db.execute(sql: "DELETE FROM outbox WHERE key = 'damaged'")
            }
            try await store.announce([
                Announcement(
                    Notice(
                        key: "after-mend", kind: .routed, at: try SchedulerFixture.at("2026-11-27T12:00:01"),
                        contact: before.first?.contact, detail: "after the mend"),
                    customerKey: nil)
            ])
            let mended = try #require(try await store.outbox(after: last.seq, limit: 10).last)
            #expect(mended.key == "after-mend")
            for _ in 0..<200 where feed.head != mended.seq { try await Task.sleep(for: .milliseconds(20)) }
            #expect(feed.head == mended.seq, "the feed reads again once the row is mended")
            #expect(try await feed.entries(after: last.seq, limit: 10).map(\.key) == ["after-mend"])
            group.cancelAll()
        }
    }
}
