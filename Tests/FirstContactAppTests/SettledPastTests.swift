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
            tick: Self.end, engine: engine, derivationSlice: .max)

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
        // The optimised store derives in slices of five customers, each computed on another thread
        // while the writer reads the next; the reference derives each customer in turn.
        let store = try directory.appendingPathComponent("optimised").creatingDirectory()
        let (beforeLate, _) = try await Fixture.export(
            ingesting: runs, into: store, engine: engine, derivationSlice: 5)
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
        try await Self.checkResumeStates(at: store.appendingPathComponent("fc.sqlite").path)

        let (optimised, _) = try await Fixture.export(
            ingesting: [late], into: store, tick: Self.end, engine: engine, derivationSlice: 5)
        #expect(optimised == reference)
        // The totals kept through settled pasts, resume points and late records are what the rows count.
        let reader = try SQLiteContactStore(readingAt: store.appendingPathComponent("fc.sqlite").path)
        let counted = try await reader.countedTotals()
        #expect(try await reader.totals() == counted)
        #expect(counted.contacts > 100)
        // The late records dropped resume points; their bytes went with them.
        try await Self.checkResumeStates(at: store.appendingPathComponent("fc.sqlite").path)
        let described = try await Self.checkRowDigests(at: store.appendingPathComponent("fc.sqlite").path)
        #expect(described > 10, "few resume points carry row digests: the rows-that-changed path was not exercised")
    }

    /// Checks that a resume point's bytes are stored exactly for the customers whose row has a
    /// `resume_before`, and read back as a point of that time: none lost, none left behind.
    static func checkResumeStates(at path: String) async throws {
        try await DatabaseQueue(path: path).read { db in
            let marked = try Set(
                String.fetchAll(db, sql: "SELECT customer_key FROM customer WHERE resume_before IS NOT NULL"))
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.customer_key, c.resume_before, r.state FROM customer_resume r
                    LEFT JOIN customer c USING (customer_key)
                    """)
            #expect(Set(rows.map { $0[0] as String }) == marked)
            for row in rows {
                let point = ResumeState.point(before: row[1], bytes: [UInt8](row[2] as Data))
                #expect(point != nil, "the bytes stored for \(row[0] as String) are not its point")
            }
        }
    }

    /// Checks that every stored resume point's row digests describe the rows the store holds for
    /// its contacts (what lets a derivation write and read only the rows that changed), each
    /// digest taken again from the stored columns.
    /// - Returns: how many customers' points carry digests.
    static func checkRowDigests(at path: String) async throws -> Int {
        try await DatabaseQueue(path: path).read { db in
            func digest(_ sql: String, _ arguments: StatementArguments) throws -> UInt64 {
                var digest = RowDigest()
                for row in try Row.fetchAll(db, sql: sql, arguments: arguments) {
                    for value in row.databaseValues {
                        switch value.storage {
                        case .null: digest.add(nil as String?)
                        case .int64(let number): digest.add(number)
                        case .string(let text): digest.add(text)
                        case .blob(let data): digest.add([UInt8](data))
                        case .double: Issue.record("a derived row holds a REAL")
                        }
                    }
                }
                return digest.value
            }
            var described = 0
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT c.customer_key, r.state FROM customer c JOIN customer_resume r USING (customer_key)
                    WHERE c.resume_before IS NOT NULL
                    """)
            {
                let customer: String = row[0]
                let point = try #require(ResumePoint(bytes: [UInt8](row[1] as Data)), "\(customer)")
                guard !point.rowDigests.isEmpty else { continue }
                described += 1
                var expected: [UInt64] = []
                for contact in point.contacts {
                    expected.append(
                        try digest(
                            """
                            SELECT id, customer_key, customer, customer_raw, channel, department, category, status,
                            repeat_of, fr_agent, fr_bound_at, fr_via, fr_call, ring_no_answer, calls, created_at,
                            last_activity, closed_at FROM contact WHERE id = ?
                            """, [contact.id.rawValue]))
                    expected.append(
                        try digest(
                            """
                            SELECT id, customer_key, obligation_id, contact_id, category, department, agent, at,
                            remedied_at FROM violation WHERE customer_key = ? AND contact_id = ? ORDER BY at, id
                            """, [customer, contact.id.rawValue]))
                    for obligation in contact.obligations {
                        expected.append(
                            try digest(
                                """
                                SELECT id, contact_id, customer_key, kind, owner_department, owner_agent, created_at,
                                due_at, ack_due_at, acknowledged_at, state, at_risk, uncertain, satisfied_at,
                                satisfied_by, satisfied_via, attempts, missed_count, escalation_level, breached_at,
                                call_key, callback_number FROM obligation WHERE id = ?
                                """, [obligation.id.rawValue]))
                    }
                }
                #expect(point.rowDigests == expected, "customer \(customer)")
            }
            return described
        }
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
