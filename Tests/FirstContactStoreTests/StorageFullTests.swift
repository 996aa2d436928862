import FirstContactCore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

/// A full disk, with SQLite's `max_page_count` standing in for it: the store answers every write
/// that finds no room with ``StoreError/storageFull(path:)``, keeps what it committed before, and
/// takes the same write once there is room again.
@Suite("SQLite store on a full disk")
struct StorageFullTests {
    let correlator = StoreFixture.correlator

    /// Caps the database at its current size plus `pages` (the writer connection's limit).
    static func cap(_ store: SQLiteContactStore, extraPages pages: Int) async throws {
        try await store.pool.writeWithoutTransaction { db in
            let count = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(count + pages)")
        }
    }

    static func uncap(_ store: SQLiteContactStore) async throws {
        try await store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA max_page_count = 1073741823")
        }
    }

    @Test(
        "a write that finds no room throws storageFull naming the database, commits none of itself, and succeeds unchanged once there is room"
    )
    func fullDiskIsStorageFull() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try SQLiteContactStore(path: path)
        let records = try StoreFixture.records()
        let before = try await store.ingest(Array(records.prefix(10)), correlator: self.correlator)
        #expect(!store.storage.snapshot.isFull)

        try await Self.cap(store, extraPages: 2)
        await #expect(throws: StoreError.storageFull(path: path)) {
            try await store.ingest(records, correlator: self.correlator)
        }
        #expect(store.storage.snapshot.isFull)
        #expect(store.storage.snapshot.failures == 1)
        // Group commit: the transaction fails whole or every request in it is answered the same.
        do {
            let results = try await store.ingest(
                batches: [Array(records.dropFirst(10)), Array(records.suffix(5))], correlator: self.correlator)
            for result in results {
                #expect(throws: StoreError.storageFull(path: path)) { try result.get() }
            }
        } catch {
            #expect(error as? StoreError == .storageFull(path: path))
        }
        // Reads go on.
        #expect(try await store.awaitingDerivation() > 0)

        try await Self.uncap(store)
        let after = try await store.ingest(records, correlator: self.correlator)
        #expect(!store.storage.snapshot.isFull)
        #expect(
            after.duplicates == before.newRecords + before.duplicates,
            "what was committed before the disk filled is all there, and nothing of the failed writes")
        #expect(after.newRecords > 0)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: self.correlator)
        #expect(try await store.clock() == StoreFixture.endOfDay)
    }

    @Test(
        "SQLITE_FULL, and an I/O error saying the device has no space, are a full disk; other errors are not",
        arguments: [
            (ResultCode.SQLITE_FULL, "database or disk is full", true),
            (ResultCode.SQLITE_IOERR_SHMSIZE, "No space left on device", true),
            (ResultCode.SQLITE_IOERR_WRITE, "disk I/O error", false),
            (ResultCode.SQLITE_CONSTRAINT, "UNIQUE constraint failed", false),
            (ResultCode.SQLITE_BUSY, "database is locked", false),
        ])
    func whatIsAFullDisk(_ code: ResultCode, _ message: String, _ full: Bool) throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // This file system has room, so a bare I/O error is not taken for a full disk.
        let error = DatabaseError(resultCode: code, message: message)
        #expect(SQLiteStoragePool.isStorageFull(error, database: directory.path) == full)
    }

    @Test(
        "a full disk is logged at its first failure, then at most once a minute while failures go on, writes between them or not"
    )
    func reportedOnceAMinute() {
        let watch = StorageWatch(database: "/nowhere/fc.sqlite")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(watch.reportDue(at: start) == nil, "nothing to report while writes succeed")
        var reports: [Int?] = []
        for second in stride(from: 0, to: 150, by: 10) {
            let now = start.addingTimeInterval(Double(second))
            watch.failedForSpace(at: now)
            reports.append(watch.reportDue(at: now))
        }
        // Failures at 0, 10, …, 140 s: reported at 0, 60 and 120 s with the count since the last.
        #expect(reports.compactMap { $0 } == [1, 6, 6])
        #expect(watch.snapshot.fullSince == start)
        #expect(watch.snapshot.failures == 15)
        watch.wrote()
        #expect(watch.snapshot == StorageWatch.Snapshot())
        #expect(watch.reportDue(at: start.addingTimeInterval(200)) == nil, "nothing to report after a write")
        // A disk at its limit: a write succeeds between failures; still once a minute.
        watch.failedForSpace(at: start.addingTimeInterval(151))
        #expect(watch.reportDue(at: start.addingTimeInterval(151)) == nil)
        #expect(watch.snapshot.fullSince == start.addingTimeInterval(151))
        #expect(watch.reportDue(at: start.addingTimeInterval(180)) == 1)
        watch.wrote()
        // Failing again after a quiet minute is said at once.
        watch.failedForSpace(at: start.addingTimeInterval(300))
        #expect(watch.reportDue(at: start.addingTimeInterval(300)) == 1)
    }

    @Test("the free bytes are the database's file system's, and a database not created yet is asked by its directory")
    func freeBytes() throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let free = try #require(StorageWatch.freeBytes(at: directory.appendingPathComponent("later.sqlite").path))
        #expect(free > 0)
        #expect(StorageWatch.freeBytes(at: "/no/such/directory/fc.sqlite") == nil)
    }
}
