import FirstContactCore
import Foundation
import GRDB
import Testing

@testable import FirstContactStore

// The routing read runs on the calling thread through connections of its own (BENCHMARKS.md,
// `/v1/route`): it must see every commit, never wait for the writer or for another reader, and
// fall back to the pool when its connections are taken.
@Suite("The routing read's own connections")
struct SQLiteDirectReadTests {
    @Test("a busy connection is skipped, never waited for; with all busy the caller gets nil", arguments: [1, 2])
    func busyConnectionsAreSkipped(count: Int) throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        _ = try SQLiteContactStore(path: path)
        let readers = try SQLiteDirectReaders(path: path, count: count)
        // Nested reads on one thread hold the outer connections. `held(n)`: with n of them held,
        // did one more read find none free?
        func held(_ taken: Int) throws -> Bool? {
            if taken == 0 { return try readers.read { _ in 1 } == nil }
            return try readers.read { _ in try held(taken - 1) } ?? nil
        }
        #expect(try held(count) == true)
        #expect(try held(count - 1) == false)
        #expect(try readers.read { db in try Int.fetchOne(db, sql: "SELECT 7") } == 7)
    }

    @Test("closing the store leaves no write-ahead log behind, the routing read's connections included")
    func closingFoldsTheLog() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        func ingestAndRoute() async throws {
            let store = try SQLiteContactStore(path: path)
            _ = try await store.ingest(try StoreFixture.records(calls: 60), correlator: StoreFixture.correlator)
            _ = try await store.openContact(of: "13800000000")
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
        try await ingestAndRoute()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test("the open contact is read beside an open write transaction, and sees each commit at once")
    func readsBesideTheWriterAndSeesCommits() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("store.sqlite").path)
        _ = try await store.ingest(try StoreFixture.records(calls: 60), correlator: StoreFixture.correlator)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: StoreFixture.correlator)
        let open = try await store.snapshot().contacts.filter {
            RouteDecision.openStatuses.contains($0.status) && !$0.customer.isWithheld
        }
        let contact = try #require(open.first)
        #expect(try await store.openContact(of: contact.customer.text)?.id == contact.id)

        // The writer holds a write transaction (its closing commit not yet made): the read does
        // not wait for it and sees the last committed state. The read runs on the writer's own
        // thread, so one that waited for the writer would wait out its busy timeout and throw
        // SQLITE_BUSY instead of answering.
        let duringWrite = try await store.pool.base.write { db -> ContactID? in
            try db.execute(sql: "UPDATE contact SET status = 'resolved' WHERE id = ?", arguments: [contact.id.rawValue])
            let seen = try store.directReaders.read { db in
                try String.fetchOne(
                    db, sql: "SELECT status FROM contact WHERE id = ?", arguments: [contact.id.rawValue])
            }
            #expect(seen == .some(contact.status.rawValue))
            return nil
        }
        #expect(duringWrite == nil)
        // Committed: the next read sees the contact resolved, so it is no longer the open one.
        #expect(try await store.openContact(of: contact.customer.text)?.id != contact.id)
    }
}
