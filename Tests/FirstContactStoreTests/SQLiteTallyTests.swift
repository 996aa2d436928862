import FirstContactCore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// SQLite keeps its totals in a table its triggers update: they must hold what the rows count
/// whatever writes the rows, a migration's rebuild of a table included.
@Suite("SQLite tally")
struct SQLiteTallyTests {
    let correlator = StoreFixture.correlator

    @Test("a table a migration rebuilds keeps the tally's triggers: deleting its rows afterwards still counts")
    func rebuildKeepsTriggers() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try SQLiteContactStore(path: path)
        _ = try await store.ingest(try StoreFixture.records(), correlator: self.correlator)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        let before = try await store.totals()
        #expect(before.contacts > 0 && before.firstResponders > 0)

        let queue = try DatabaseQueue(path: path)
        let triggers =
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'contact' ORDER BY name"
        let kept = try await queue.write { db in
            let old = try Row.fetchAll(db, sql: triggers)
            try SQLiteMigrations.rebuild("contact", db: db) { $0 + " " }
            return (old, try Row.fetchAll(db, sql: triggers))
        }
        #expect(kept.0.count == 5)
        #expect(kept.1 == kept.0)
        try await queue.write { db in try db.execute(sql: "DELETE FROM contact") }

        let after = try await store.totals()
        #expect(after.contacts == 0)
        #expect(after.firstResponders == 0)
        #expect(after.records == before.records)
        #expect(after == (try await queue.read { db in try SQLiteTally.counted(db) }))
    }
}
