import FirstContactCore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

// `serve` gives the write-ahead log back when nothing was written for a while, so between
// bursts of ingest the log holds no disk (issue "Acknowledged means durable" §3).
@Suite("The write-ahead log is checkpointed away when the store is idle")
struct LogCheckpointTests {
    @Test("serve's store checkpoints past 1,000 pages; batch ingest keeps the larger log", arguments: [true, false])
    func autocheckpoint(live: Bool) async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("store.sqlite").path, live: live)
        let pages = try await store.pool.base.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
        }
        #expect(pages == (live ? 1000 : 16384))
    }

    @Test("after writes, an idle store truncates its log; a busy one leaves it")
    func truncatesWhenIdle() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try SQLiteContactStore(path: path, live: true)
        _ = try await store.ingest(try StoreFixture.records(calls: 50), correlator: StoreFixture.correlator)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: StoreFixture.correlator)
        let wal = { () -> Int64 in
            ((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size]) as? Int64) ?? -1
        }
        #expect(wal() > 0)

        #expect(try await store.checkpointIfIdle(for: 3600) == false, "written a moment ago: not idle")
        #expect(wal() > 0)
        #expect(try await store.checkpointIfIdle(for: 0) == true)
        #expect(wal() == 0)
        // Nothing lost: the export reads the same from the checkpointed file.
        let reopened = try SQLiteContactStore(readingAt: path)
        #expect(try await reopened.snapshot().contacts.count == (try await store.snapshot().contacts.count))
        #expect(try await store.snapshot().contacts.isEmpty == false)
    }
}
