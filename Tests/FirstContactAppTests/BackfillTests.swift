import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import Testing

// SPEC "Backfill in `serve`": a record that arrives long after its event time may create an
// obligation that is already overdue; its breach is decided only once its source has settled
// (quiet for `lateness`, 10m in the sample configuration), so a backfill pages the breaches a
// batch ingest of the same records announces, and live obligations still breach on time.

private func count(_ kind: OutboxEntry.Kind, in store: some ContactStore) async throws -> Int {
    var seen = 0
    var after: Int64 = 0
    while true {
        let page = try await store.outbox(after: after, limit: 10_000)
        guard let last = page.last else { return seen }
        seen += page.filter { $0.kind == kind }.count
        after = last.seq
    }
}

@Suite("Backfill in serve — overdue obligations of late records are decided once the source settles")
struct BackfillTests {
    /// Two days after the sample day, at noon: every obligation of the day is long overdue.
    static let wall = Timestamp(iso8601: "2026-11-29T12:00:00+08:00") ?? .beforeAnyRecord

    @Test(
        "a past day posted in shuffled batches pages the breaches a batch ingest announces, once quiet for lateness",
        .timeLimit(.scaled(minutes: 5)))
    func shuffledPastDay() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let records = try Fixture.sampleDayRecords(engine)

        // The batch ingest of the same records, at the same wall time.
        let batch = try SQLiteContactStore(path: directory.appendingPathComponent("batch.sqlite").path)
        _ = try await batch.ingest(records, correlator: engine.correlator)
        _ = try await batch.advanceClock(to: Self.wall, correlator: engine.correlator)
        let expected = try await count(.breach, in: batch)
        #expect(expected > 100)

        // serve: the wall clock ticks, 40 shuffled requests arrive a second apart.
        let live = try SQLiteContactStore(path: directory.appendingPathComponent("live.sqlite").path, live: true)
        _ = try await live.advanceClock(to: Self.wall, correlator: engine.correlator)
        var generator = SeededGenerator(seed: 11)
        let shuffled = records.shuffled(using: &generator)
        let size = shuffled.count / 40 + 1
        var now = Self.wall
        for start in stride(from: 0, to: shuffled.count, by: size) {
            let results = try await live.ingest(
                batches: [Array(shuffled[start..<min(start + size, shuffled.count)])], correlator: engine.correlator)
            for result in results { _ = try result.get() }
            now = now + 1
            _ = try await live.advanceClock(to: now, correlator: engine.correlator)
        }
        #expect(try await count(.breach, in: live) == 0, "no breach is paged while the backfill arrives")
        let waiting = try #require(try await live.nextCheck())
        #expect(waiting <= now + 600, "the customers waiting for the backfill are checked when it settles")

        // Quiet for lateness: decided, as the batch ingest decided.
        _ = try await live.advanceClock(to: now + 600, correlator: engine.correlator)
        let paged = try await count(.breach, in: live)
        let reversals = try await count(.reversal, in: live)
        #expect(paged == expected)
        #expect(reversals * 100 <= expected, "reversals at most 1 % of breaches")
        // Nor is an obligation that was overdue when its records arrived announced at risk: its
        // warning waits with its breach. One at risk but due after the backfill (Friday evening's
        // callbacks, due Monday) is marked at once, as a batch ingest at that clock would.
        let batchWarned = Set(try await batch.outbox(after: 0, limit: 100_000).filter { $0.kind == .atRisk }.map(\.key))
        let liveWarned = try await live.outbox(after: 0, limit: 100_000).filter { $0.kind == .atRisk }
        #expect(liveWarned.count >= batchWarned.count)
        for warning in liveWarned where !batchWarned.contains(warning.key) {
            let id = try #require(warning.obligation)
            // One a later record took away (its call moved) has no deadline left to compare.
            guard let obligation = try await live.obligation(id) else { continue }
            #expect(obligation.obligation.deadline > now, "\(warning.key): overdue on arrival, yet warned")
        }
        // And the state is the batch ingest's at the same clock.
        _ = try await batch.advanceClock(to: now + 600, correlator: engine.correlator)
        #expect(ExportDocument.render(try await live.snapshot()) == ExportDocument.render(try await batch.snapshot()))
    }

    @Test(
        "during a backfill, a late call's obligation that was not yet overdue when it arrived breaches on time; one overdue on arrival waits",
        .timeLimit(.scaled(minutes: 2)))
    func notOverdueOnArrivalBreachesOnTime() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        // Callers who hung up in the 24/7 repairs queue (callback due 30 min after the call).
        func missed(_ number: String, _ start: String, _ end: String, _ id: String) -> [IngestRecord] {
            let row =
                #""","\#(number)","96116","from-trunk","\#(number)","SIP/trunk-\#(id)","","Queue","repairs,t","\#(start)","\#(start)","\#(end)",60,60,"ANSWERED","DOCUMENTATION","\#(id)",""#
                + "\""
            return engine.decoder(for: .asteriskCSV).records(in: Array((row + "\n").utf8), source: "post-\(id)")
        }
        let live = try SQLiteContactStore(path: directory.appendingPathComponent("live.sqlite").path, live: true)
        _ = try await live.advanceClock(to: Self.wall, correlator: engine.correlator)
        // 12:00: a call that ended at 11:48 arrives, 12 minutes late: due 12:18, not yet overdue.
        let onTime = missed("13812340001", "2026-11-29 11:47:00", "2026-11-29 11:48:00", "1764387620.1")
        #expect(onTime.count == 1)
        _ = try await live.ingest(onTime, correlator: engine.correlator)
        _ = try await live.advanceClock(to: Self.wall + 1, correlator: engine.correlator)
        // 12:09 and 12:17: the backfill goes on with yesterday's calls, overdue since yesterday.
        for (minute, number, id) in [(9, "13812340002", "1764291600.2"), (17, "13812340003", "1764291700.3")] {
            _ = try await live.advanceClock(to: Self.wall + Int64(minute) * 60, correlator: engine.correlator)
            let overdue = missed(number, "2026-11-28 09:00:00", "2026-11-28 09:01:00", id)
            _ = try await live.ingest(overdue, correlator: engine.correlator)
        }
        // 12:19, the backfill still arriving (last late batch two minutes ago).
        _ = try await live.advanceClock(to: Self.wall + 19 * 60, correlator: engine.correlator)

        let violations = try await live.violations().violations.filter { $0.category == .notHandledInTime }
        #expect(violations.map(\.at) == [Self.wall + 18 * 60], "only the callback due 12:18 breached, at 12:18")
        #expect(try await count(.breach, in: live) == 1)
        // Quiet for lateness: yesterday's calls are decided too.
        _ = try await live.advanceClock(to: Self.wall + 17 * 60 + 600, correlator: engine.correlator)
        #expect(try await live.violations().violations.filter { $0.category == .notHandledInTime }.count == 3)
    }

    @Test("live records still breach on time while nothing arrives late", .timeLimit(.scaled(minutes: 5)))
    func liveBreachesOnTime() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let records = try Fixture.sampleDayRecords(engine)
        // The day's own wall time: every record arrives as it happens (within lateness).
        let live = try SQLiteContactStore(path: directory.appendingPathComponent("live.sqlite").path, live: true)
        let start = try #require(Timestamp(iso8601: "2026-11-27T00:00:00+08:00"))
        _ = try await live.advanceClock(to: start, correlator: engine.correlator)
        // Minute by minute, each minute's records posted when the minute is over.
        var minutes: [Int64: [IngestRecord]] = [:]
        for record in records { minutes[(record.eventTime ?? start).seconds / 60, default: []].append(record) }
        var end = start
        for minute in minutes.keys.sorted() {
            end = max(end, Timestamp(seconds: (minute + 1) * 60))
            _ = try await live.advanceClock(to: end, correlator: engine.correlator)
            _ = try await live.ingest(minutes[minute] ?? [], correlator: engine.correlator)
        }
        _ = try await live.advanceClock(to: end, correlator: engine.correlator)

        let batch = try SQLiteContactStore(path: directory.appendingPathComponent("batch.sqlite").path)
        _ = try await batch.ingest(records, correlator: engine.correlator)
        _ = try await batch.advanceClock(to: end, correlator: engine.correlator)
        // Nothing was late, so nothing waited: every breach due by the day's end was paged by then.
        let breaches = try await batch.violations().violations.filter { $0.category == .notHandledInTime }
        #expect(breaches.count > 100)
        let paged = try await count(.breach, in: live)
        #expect(paged >= breaches.count)
        #expect(ExportDocument.render(try await live.snapshot()) == ExportDocument.render(try await batch.snapshot()))
    }
}

extension IngestRecord {
    /// The event time of a stored record (nil for rejects and ignored lines).
    fileprivate var eventTime: Timestamp? {
        guard case .record(let record) = self else { return nil }
        return record.eventTime
    }
}
