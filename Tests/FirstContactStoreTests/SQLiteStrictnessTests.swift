import FirstContactCore
import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import FirstContactStore

/// SQLite-only: rows this build cannot read are errors naming the table and rowid, a statement
/// bound with the wrong number of values fails, and read-only opening leaves the file alone.
@Suite("SQLite store strictness")
struct SQLiteStrictnessTests {
    let correlator = StoreFixture.correlator

    /// A stored day, and a second connection that writes past the schema's CHECKs.
    private func storedDay() async throws -> (SQLiteContactStore, DatabaseQueue, URL) {
        let directory = try StoreFixture.temporaryDirectory()
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try SQLiteContactStore(path: path)
        _ = try await store.ingest(try StoreFixture.records(), correlator: self.correlator)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        let vandal = try DatabaseQueue(path: path)
        try await vandal.write { db in try db.execute(sql: "PRAGMA ignore_check_constraints = ON") }
        return (store, vandal, directory)
    }

    /// One way a row can be unreadable, and a read that must meet it.
    struct Corruption: Sendable, CustomTestStringConvertible {
        var table: String
        var column: String
        var value: String
        var read: @Sendable (SQLiteContactStore, Correlator) async throws -> Void
        var testDescription: String { "\(self.table).\(self.column)" }
    }

    static let corruptions: [Corruption] = [
        Corruption(table: "obligation", column: "state", value: "lost") { store, _ in _ = try await store.snapshot() },
        Corruption(table: "obligation", column: "kind", value: "favour") { store, _ in
            _ = try await store.contacts(ContactQuery())
        },
        Corruption(table: "contact", column: "status", value: "limbo") { store, _ in
            _ = try await store.contacts(ContactQuery())
        },
        Corruption(table: "outbox", column: "kind", value: "rumour") { store, _ in
            _ = try await store.outbox(after: 0, limit: 1_000_000)
        },
        Corruption(table: "violation", column: "category", value: "rudeness") { store, _ in
            _ = try await store.violations()
        },
        Corruption(table: "queue_event", column: "event", value: "TELEPORT") { store, correlator in
            try await Self.deriveFromEveryRecord(store, correlator)
        },
        Corruption(table: "leg", column: "disposition", value: "MAYBE") { store, correlator in
            try await Self.deriveFromEveryRecord(store, correlator)
        },
    ]

    /// Every customer derived again from all their records (as a record older than their resume
    /// point and settled past would make them).
    static func deriveFromEveryRecord(_ store: SQLiteContactStore, _ correlator: Correlator) async throws {
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE customer SET dirty = 1, resume_before = NULL, settled_before = NULL,
                    settled_contact = NULL, settled_closed = NULL
                    """)
        }
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: correlator)
    }

    @Test(
        "a resume point this build cannot read is not used: the customer is derived from their records, as a store without one derives them"
    )
    func unreadableResumePoint() async throws {
        let (store, vandal, directory) = try await self.storedDay()
        defer { try? FileManager.default.removeItem(at: directory) }
        let expected = try await store.snapshot()
        let damaged = try await vandal.write { db in
            try db.execute(
                sql: """
                    UPDATE customer_resume SET state = '{"before": "yesterday"}'
                    WHERE customer_key IN (SELECT customer_key FROM customer WHERE resume_before IS NOT NULL)
                    """)
            let damaged = db.changesCount
            try db.execute(sql: "UPDATE customer SET dirty = 1 WHERE resume_before IS NOT NULL")
            return damaged
        }
        #expect(damaged > 0, "no customer had a resume point to damage")
        // Without a settled past either, the contacts are replaced from the first: they come back
        // only if every record is read again.
        try await vandal.write { db in
            try db.execute(
                sql: "UPDATE customer SET settled_before = NULL, settled_contact = NULL, settled_closed = NULL")
        }
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        let derived = try await store.snapshot()
        #expect(derived.contacts == expected.contacts)
        #expect(derived.violations == expected.violations)
    }

    @Test(
        "an unreadable stored row is thrown as corrupt with its table and rowid, never skipped",
        arguments: Self.corruptions)
    func corruptRowsAreThrown(corruption: Corruption) async throws {
        let (store, vandal, directory) = try await self.storedDay()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rowid = try #require(
            try await vandal.read { db in
                try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM \(corruption.table)")
            })
        try await vandal.write { db in
            try db.execute(
                sql: "UPDATE \(corruption.table) SET \(corruption.column) = ? WHERE rowid = ?",
                arguments: [corruption.value, rowid])
        }
        do {
            try await corruption.read(store, self.correlator)
            Issue.record("reading \(corruption.table) with \(corruption.column) '\(corruption.value)' did not fail")
        } catch StoreError.corrupt(let table, let reported, let reason) {
            #expect(table == corruption.table)
            #expect(reported == rowid)
            #expect(reason.contains(corruption.value))
        }
    }

    @Test(
        "a review with a decision this build does not know is corrupt, named by its violation (the table has no rowid)")
    func unreadableReview() async throws {
        let (store, vandal, directory) = try await self.storedDay()
        defer { try? FileManager.default.removeItem(at: directory) }
        let violation = try #require(try await store.violations().violations.first)
        try await store.review(
            violation.id, ViolationReview(decision: .accept, reason: "stands", by: "li", at: StoreFixture.endOfDay))
        try await vandal.write { db in try db.execute(sql: "UPDATE violation_review SET decision = 'shrug'") }
        await #expect {
            _ = try await store.reviews()
        } throws: { error in
            guard case StoreError.corrupt(let table, nil, let reason) = error else { return false }
            return table == "violation_review" && reason.contains(violation.id.rawValue) && reason.contains("shrug")
        }
    }

    @Test("an action payload that is not JSON is corrupt, not an action with empty fields")
    func unreadableActionPayload() async throws {
        let (store, vandal, directory) = try await self.storedDay()
        defer { try? FileManager.default.removeItem(at: directory) }
        let contact = try #require(try await store.contacts(ContactQuery(limit: 1)).first)
        try await store.record(
            ManualAction(
                id: "n1", at: StoreFixture.endOfDay, agent: AgentID("1001"),
                kind: .note(contact: contact.id, text: "called")))
        try await vandal.write { db in try db.execute(sql: "UPDATE action SET payload = '{not json' WHERE id = 'n1'") }
        let rowid = try await vandal.read { db in
            try Int64.fetchOne(db, sql: "SELECT rowid FROM action WHERE id = 'n1'")
        }
        await #expect {
            _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        } throws: { error in
            guard case StoreError.corrupt(let table, let reported, _) = error else { return false }
            return table == "action" && reported == rowid
        }
    }

    @Test("a raw insert bound with too few or too many values fails and stores nothing")
    func parameterCountMismatch() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("store.sqlite").path)
        let insert = "INSERT INTO meta (key, value) VALUES (?, ?)"
        await #expect {
            try await store.pool.write { db in try db.run(insert) { $0.add("forgotten-value") } }
        } throws: { error in
            (error as? DatabaseError)?.resultCode == .SQLITE_MISUSE
                && (error as? DatabaseError)?.message?.contains("1 bound, the statement takes 2") == true
        }
        await #expect {
            try await store.pool.write { db in
                try db.run(insert) {
                    $0.add("k")
                    $0.add("v")
                    $0.add("one too many")
                }
            }
        } throws: { error in
            (error as? DatabaseError)?.resultCode == .SQLITE_RANGE
        }
        let stored = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT key FROM meta WHERE key IN ('forgotten-value', 'k')")
        }
        #expect(stored.isEmpty)
        // The statement is still usable after a failed bind (cached statements are shared).
        let changed = try await store.pool.write { db in
            try db.run(insert) {
                $0.add("k")
                $0.add("v")
            }
        }
        #expect(changed == 1)
    }

    @Test(
        "read-only opening: no file is an error naming the path; a newer or older schema is refused naming both versions"
    )
    func readOnlyOpening() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("none.sqlite").path
        #expect(throws: StoreError.noDatabase(path: missing)) { try SQLiteContactStore(readingAt: missing) }
        #expect(!FileManager.default.fileExists(atPath: missing))

        let build = try #require(SQLiteMigrations.migrator.migrations.last)
        let older = directory.appendingPathComponent("older.sqlite").path
        try SQLiteMigrations.migrator.migrate(try DatabaseQueue(path: older), upTo: "v1")
        #expect(throws: StoreError.needsUpgrade(path: older, database: "v1", build: build)) {
            try SQLiteContactStore(readingAt: older)
        }
        // A writer upgrades it; then it reads.
        _ = try SQLiteContactStore(path: older)
        _ = try SQLiteContactStore(readingAt: older)

        let newer = directory.appendingPathComponent("newer.sqlite").path
        _ = try SQLiteContactStore(path: newer)
        try await DatabaseQueue(path: newer).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        #expect(throws: StoreError.newerSchema(path: newer, database: "v99-from-the-future", build: build)) {
            try SQLiteContactStore(readingAt: newer)
        }
        #expect(throws: StoreError.newerSchema(path: newer, database: "v99-from-the-future", build: build)) {
            try SQLiteContactStore(path: newer)
        }
    }

    @Test("a store opened read-only reads what was written and refuses every write")
    func readOnlyStoreRefusesWrites() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let writer = try SQLiteContactStore(path: path)
        let records = try StoreFixture.records(calls: 40)
        _ = try await writer.ingest(records, correlator: self.correlator)
        _ = try await writer.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        let expected = try await writer.totals()

        let reader = try SQLiteContactStore(readingAt: path)
        #expect(try await reader.totals() == expected)
        await #expect(throws: DatabaseError.self) { _ = try await reader.ingest(records, correlator: self.correlator) }
        await #expect(throws: DatabaseError.self) {
            _ = try await reader.advanceClock(
                to: Timestamp(seconds: StoreFixture.endOfDay.seconds + 86_400), correlator: self.correlator)
        }
        #expect(try await writer.clock() == StoreFixture.endOfDay)
    }

    /// Whether the store turned them off depends on what this test process opened first; either
    /// way SQLite's own figure must agree with it: no bytes counted while they are off.
    @Test("SQLite counts no memory once the store has turned its memory statistics off")
    func memoryStatistics() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("store.sqlite").path)
        _ = try await store.ingest(try StoreFixture.records(calls: 40), correlator: self.correlator)
        #expect((sqlite3_memory_used() == 0) == SQLiteContactStore.memoryStatisticsOff)
        // Both process-wide settings take effect only before the first connection: set together.
        #expect(SQLiteContactStore.statementJournalSpillSet == SQLiteContactStore.memoryStatisticsOff)
    }
}
