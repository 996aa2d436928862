import FirstContactCore
import FirstContactIngest
import Foundation
import GRDB
import GRDBSQLite
import Testing

@testable import FirstContactStore

/// SQLite-only: what a day costs must not grow with history, so no statement that ingest or a
/// clock move runs may read a whole table that grows with it. Every statement the writer runs
/// is traced, and SQLite's own plan for each is checked: a search through an index, never a
/// scan of a record or derived table. (An experiment that replaced the customer-led indexes left
/// one derivation read without its index: a day of the history benchmark took 4× as long, and
/// every other test still passed.)
@Suite("SQLite: no statement of ingest or derivation scans a table that grows with history")
struct SQLiteScanTests {
    /// The tables that grow with what is stored.
    static let growing: Set<String> = [
        "leg", "queue_event", "sip_event", "cel_event", "ivr_event", "call", "customer", "contact", "obligation",
        "violation", "violation_review", "outbox", "amendment", "action", "reject", "source_activity",
    ]

    @Test("each statement of a day's ingest and the clock moves after it searches an index")
    func noScans() async throws {
        let directory = try StoreFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite").path
        let store = try SQLiteContactStore(path: path)
        let records = try StoreFixture.records(calls: 400)
        // A first half stored and derived before tracing, so that the second half finds
        // customers with a past (settled pasts, resume points, stored rows to compare).
        let half = records.count / 2
        _ = try await store.ingest(Array(records[..<half]), correlator: StoreFixture.correlator)
        _ = try await store.advanceClock(
            to: try #require(StoreFixture.latest(Array(records[..<half]))), correlator: StoreFixture.correlator)
        let statements = Traced()
        try await store.pool.writeWithoutTransaction { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { statements.insert(statement.sql) }
            }
        }
        // The IVR events of the whole day (callback requests among them) come with the second half.
        let ivr = StoreFixture.root.appendingPathComponent("samples/day-2026-11-27/ivr/events-0001.xml")
        let events = IVREventDecoder().decode(
            [UInt8](try Data(contentsOf: ivr)), position: SourcePosition(source: ivr.path, line: 1, offset: 0))
        #expect(events.count > 100)
        _ = try await store.ingest(Array(records[half...]) + events, correlator: StoreFixture.correlator)
        _ = try await store.advanceClock(to: StoreFixture.endOfDay, correlator: StoreFixture.correlator)
        try await store.pool.writeWithoutTransaction { db in db.trace(options: .statement, nil) }

        let traced = statements.all
        #expect(traced.count > 20, "\(traced.count) statements traced")
        let queue = try DatabaseQueue(path: path)
        let scans = try await queue.read { db in
            // A question without parameters whether any row exists is answered by the first one.
            try traced.sorted().filter { !$0.hasPrefix("SELECT EXISTS (SELECT 1 FROM ") || $0.contains("?") }
                .compactMap { sql -> String? in
                    let scanned = try Self.plan(sql, db).filter { line in
                        let words = line.split(separator: " ")
                        guard words.count > 1, Self.growing.contains(String(words[1])) else { return false }
                        if words[0] == "SCAN" { return true }
                        // A search by ranges alone reads history unless the range is a time's
                        // (`IS NOT NULL` on a partial index is a range over every row it holds).
                        guard words[0] == "SEARCH", !line.contains("="),
                            let open = line.firstIndex(of: "(")
                        else { return false }
                        let column = line[line.index(after: open)...].prefix { $0 != ">" && $0 != "<" }
                        return !Self.times.contains(String(column))
                    }
                    return scanned.isEmpty ? nil : "\(scanned.joined(separator: "; ")) in: \(sql)"
                }
        }
        #expect(scans.isEmpty, "\(scans.joined(separator: "\n\n"))")
    }

    /// Columns whose ranges are times: a range from a time reads what came since, not history.
    static let times: Set<String> = ["next_check", "start", "time", "at", "due_at", "created_at"]

    /// The statements' SQL, as the writer's connection ran them.
    final class Traced: @unchecked Sendable {
        private let lock = NSLock()
        private var statements: Set<String> = []

        func insert(_ sql: String) { self.lock.withLock { _ = self.statements.insert(sql) } }
        var all: Set<String> { self.lock.withLock { self.statements } }
    }

    /// SQLite's query plan of `sql`, its parameters unbound (NULL), a line per step.
    static func plan(_ sql: String, _ db: Database) throws -> [String] {
        let leading = sql.drop { $0.isWhitespace }.prefix(6).uppercased()
        guard ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH "].contains(where: leading.hasPrefix)
        else { return [] }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db.sqliteConnection, "EXPLAIN QUERY PLAN " + sql, -1, &statement, nil) == SQLITE_OK
        else {
            throw DatabaseError(message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
        }
        defer { sqlite3_finalize(statement) }
        var lines: [String] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            lines.append(sqlite3_column_text(statement, 3).map { String(cString: $0) } ?? "")
        }
        return lines
    }
}
