import FirstContactApp
import FirstContactCore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// SQLite-only: a batch writes only rows it changes. A day arrives in several batches (the CDRs,
/// then the queue_log lines of the same calls, then the IVR's events), and a row rewritten to the
/// same values still dirties its page and its index entries, which lie at random places in
/// B-trees that grow with history: each batch wrote them all again.
@Suite("SQLite: a batch that changes nothing in a stored call or a marked customer writes neither")
struct SQLiteQuietWritesTests {
    @Test("queue_log lines of stored calls update only the calls they change, and no customer marked already")
    func laterBatchesWriteOnlyChanges() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let engine = try Fixture.engine()
        let day = try Fixture.sampleDayRecords(engine)
        let cdrs = day.filter { if case .record(.leg) = $0 { true } else { false } }
        let queue = day.filter { if case .record(.queue) = $0 { true } else { false } }
        #expect(cdrs.count > 1_000 && queue.count > 1_000)

        // The CDRs stored and not yet derived: every customer they name is marked.
        _ = try await store.ingest(cdrs, correlator: engine.correlator)
        let before = try await Self.calls(store)
        try await store.pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE test_update (tbl TEXT NOT NULL);
                    CREATE TRIGGER test_call_update AFTER UPDATE ON call BEGIN INSERT INTO test_update VALUES ('call'); END;
                    CREATE TRIGGER test_customer_update AFTER UPDATE ON customer
                        BEGIN INSERT INTO test_update VALUES ('customer'); END;
                    """)
        }

        let outcome = try await store.ingest(queue, correlator: engine.correlator)
        let after = try await Self.calls(store)
        let changed = after.filter { key, row in before[key].map { $0 != row } ?? false }.count
        let updates = try await store.pool.read { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT tbl, count(*) FROM test_update GROUP BY tbl").map {
                    ($0[0] as String, $0[1] as Int)
                })
        }
        #expect(outcome.callsTouched > 1_000 && outcome.customersTouched > 500)
        #expect(changed < outcome.callsTouched / 2, "most queue_log lines join a call without changing its row")
        #expect(updates["call", default: 0] == changed)
        #expect(updates["customer", default: 0] == 0)
    }

    static func calls(_ store: SQLiteContactStore) async throws -> [String: [DatabaseValue]] {
        try await store.pool.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db, sql: "SELECT call_key, customer_key, direction, start, end FROM call"
                )
                .map { ($0[0] as String, Array($0.databaseValues.dropFirst())) })
        }
    }
}
