import FirstContactApp
import FirstContactCore
import FirstContactSimulator
import FirstContactStore
import Foundation
import GRDB
import Testing

/// Deriving a customer from their settled past or resume point (only the calls after it) must give
/// what a derivation from every record gives, whatever the batches and arrival order, including
/// records older than either, which send the customer back to a derivation from the start.
@Suite("Settled past")
struct SettledPastTests {
    /// Thursday to Tuesday: the weekend closes the week's contacts (`auto_close: 24h`), so
    /// Monday's calls find a settled past.
    static let days = [5, 6, 9, 10].map { CivilDate(year: 2026, month: 11, day: $0) }
    static let end = "2026-11-10T23:59:59+08:00"

    @Test(
        "days ingested one by one in shuffled parts, with late records of earlier days, export what one run of every record exports",
        arguments: [7, 31, 1_009] as [UInt64])
    func optimisedEqualsFullDerivation(seed: UInt64) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        // The same customers call again every day (one seed), so their past grows.
        var days: [URL] = []
        for date in Self.days {
            let day = directory.appendingPathComponent("day-\(date.day)")
            _ = try Simulator(configuration: engine.configuration).run(
                seed: seed, calls: 150, date: date, outputDirectory: day.path, formats: [.asterisk, .ivr])
            days.append(day)
        }
        let everything = days.flatMap {
            [$0.appendingPathComponent("asterisk").path, $0.appendingPathComponent("ivr").path]
        }
        let (reference, _) = try await Fixture.export(
            ingesting: [everything], into: try directory.appendingPathComponent("reference").creatingDirectory(),
            tick: Self.end, engine: engine)

        // Each day in two shuffled parts, a day after the other; a tenth of the first two days'
        // lines held back and ingested after the last day.
        var generator = SeededGenerator(seed: seed)
        let parts = try directory.appendingPathComponent("parts").creatingDirectory()
        var runs: [[String]] = []
        var late: [String] = []
        for (index, day) in days.enumerated() {
            var run: [[String]] = [[day.appendingPathComponent("ivr").path], []]
            for name in ["Master.csv", "queue_log"] {
                let lines = try String(
                    contentsOf: day.appendingPathComponent("asterisk").appendingPathComponent(name), encoding: .utf8
                ).split(separator: "\n").shuffled(using: &generator)
                let held = index < 2 ? lines.count / 10 : 0
                let groups = [
                    Array(lines.prefix(held)), Array(lines.dropFirst(held).prefix((lines.count - held) / 2)),
                    Array(lines.dropFirst(held + (lines.count - held) / 2)),
                ]
                for (g, group) in groups.enumerated() where !group.isEmpty {
                    let url = parts.appendingPathComponent("\(index)-\(g)-\(name)")
                    try (group.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
                    if g == 0 { late.append(url.path) } else { run[g - 1].append(url.path) }
                }
            }
            runs += run
        }
        let store = try directory.appendingPathComponent("optimised").creatingDirectory()
        let (beforeLate, _) = try await Fixture.export(ingesting: runs, into: store, engine: engine)
        #expect(!beforeLate.isEmpty)
        let settled = try await DatabaseQueue(path: store.appendingPathComponent("fc.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM customer WHERE settled_before IS NOT NULL") ?? 0
        }
        #expect(settled > 0, "no customer has a settled past: the optimised derivation was not exercised")
        let withoutContacts = try await DatabaseQueue(path: store.appendingPathComponent("fc.sqlite").path).read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM customer WHERE settled_before IS NOT NULL AND settled_contact IS NULL")
                ?? 0
        }
        #expect(withoutContacts > 0, "no customer who only hung up within the grace has a settled past")
        let resumable = try await DatabaseQueue(path: store.appendingPathComponent("fc.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM customer WHERE resume_before IS NOT NULL") ?? 0
        }
        #expect(resumable > 0, "no customer has a resume point: the resumed derivation was not exercised")

        let (optimised, _) = try await Fixture.export(ingesting: [late], into: store, tick: Self.end, engine: engine)
        #expect(optimised == reference)
        // The totals kept through settled pasts, resume points and late records are what the rows count.
        let reader = try SQLiteContactStore(readingAt: store.appendingPathComponent("fc.sqlite").path)
        let counted = try await reader.countedTotals()
        #expect(try await reader.totals() == counted)
        #expect(counted.contacts > 100)
    }

    /// Three simulated days of 150 stories (the same customers) ingested one run a day: the path
    /// of the database, whose first days are settled past by the third.
    static func threeDaysStored(in directory: URL, engine: Engine) async throws -> String {
        var runs: [[String]] = []
        for date in Self.days.prefix(3) {
            let day = directory.appendingPathComponent("day-\(date.day)")
            _ = try Simulator(configuration: engine.configuration).run(
                seed: 7, calls: 150, date: date, outputDirectory: day.path, formats: [.asterisk, .ivr])
            runs.append([day.appendingPathComponent("asterisk").path, day.appendingPathComponent("ivr").path])
        }
        let stored = try directory.appendingPathComponent("store").creatingDirectory()
        _ = try await Fixture.export(ingesting: runs, into: stored, engine: engine)
        return stored.appendingPathComponent("fc.sqlite").path
    }

    @Test(
        "a person's note on a contact of the settled past reaches that contact: an action derives its customer from every record"
    )
    func actionOnASettledContact() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let path = try await Self.threeDaysStored(in: directory, engine: engine)
        let settled = try await DatabaseQueue(path: path).read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT c.id, c.customer_key FROM contact c JOIN customer u ON u.customer_key = c.customer_key
                    WHERE c.created_at < u.settled_before ORDER BY c.id LIMIT 1
                    """)
        }
        let row = try #require(settled, "no contact in a settled past")
        let contact = ContactID(row[0] as String)
        let customer: String = row[1]

        let store = try SQLiteContactStore(path: path)
        let at = try #require(Timestamp(iso8601: "2026-11-09T23:00:00+08:00"))
        try await store.record(
            ManualAction(id: "note-settled", at: at, agent: AgentID("1001"), kind: .note(contact: contact, text: "复查")))
        _ = try await store.advanceClock(to: at, correlator: engine.correlator)
        var query = ContactQuery()
        query.customer = customer
        let noted = try #require(try await store.contacts(query).first { $0.id == contact })
        #expect(noted.lastActivity == at)
    }

    @Test(
        "a derivation that concludes what is stored writes no derived row: every customer derived again at the same clock leaves contacts, obligations and violations untouched"
    )
    func unchangedRowsAreNotWritten() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let path = try await Self.threeDaysStored(in: directory, engine: engine)
        let tables = ["contact", "obligation", "violation"]
        let customers = try await DatabaseQueue(path: path).write { db in
            try db.execute(sql: "CREATE TABLE written (row_table TEXT NOT NULL, operation TEXT NOT NULL)")
            for table in tables {
                for operation in ["INSERT", "UPDATE", "DELETE"] {
                    try db.execute(
                        sql: """
                            CREATE TRIGGER written_\(table)_\(operation) AFTER \(operation) ON \(table)
                            BEGIN INSERT INTO written VALUES ('\(table)', '\(operation)'); END
                            """)
                }
            }
            try db.execute(sql: "UPDATE customer SET dirty = 1")
            return db.changesCount
        }
        #expect(customers > 100)

        // Not a clock that moves: the stored one stays, and only the dirty customers are derived.
        let store = try SQLiteContactStore(path: path)
        _ = try await store.advanceClock(to: .beforeAnyRecord, correlator: engine.correlator)
        let (dirty, written) = try await DatabaseQueue(path: path).read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM customer WHERE dirty = 1") ?? -1,
                try Row.fetchAll(db, sql: "SELECT row_table, operation, count(*) FROM written GROUP BY 1, 2")
                    .map { "\($0[0] as String) \($0[1] as String) \($0[2] as Int)" }
            )
        }
        #expect(dirty == 0, "the customers were not derived again")
        #expect(written.isEmpty)
    }
}
