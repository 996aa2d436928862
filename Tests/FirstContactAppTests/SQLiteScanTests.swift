import FirstContactApp
import FirstContactCore
import Foundation
import GRDB
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

    /// Columns whose ranges are times: a range from a time reads what came since, not history.
    static let times: Set<String> = ["next_check", "start", "time", "at", "due_at", "created_at"]

    @Test("each statement of a day's ingest and the clock moves after it searches an index")
    func noScans() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fc.sqlite").path
        let store = try SQLiteContactStore(path: path)
        let engine = try Fixture.engine()
        // The morning's calls stored and derived before tracing, so that the rest finds customers
        // with a past (settled pasts, resume points, stored rows to compare); the day's IVR events
        // (callback requests among them) come with the afternoon.
        let noon = try #require(Timestamp(iso8601: "2026-11-27T12:00:00+08:00"))
        let day = try Fixture.sampleDayRecords(engine)
        let morning = day.filter { !Self.isIVR($0) && Self.time(of: $0) < noon }
        let rest = day.filter { Self.isIVR($0) || Self.time(of: $0) >= noon }
        #expect(morning.count > 1_000 && rest.count > 1_000 && rest.filter(Self.isIVR).count > 100)
        _ = try await store.ingest(morning, correlator: engine.correlator)
        _ = try await store.advanceClock(to: noon, correlator: engine.correlator)

        let log = StatementLog()
        try await store.pool.writeWithoutTransaction { db in db.trace(options: .statement) { log.append($0) } }
        _ = try await store.ingest(rest, correlator: engine.correlator)
        _ = try await store.advanceClock(
            to: try #require(Timestamp(iso8601: Fixture.sampleEnd)), correlator: engine.correlator)
        try await store.pool.writeWithoutTransaction { db in db.trace(options: .statement, nil) }

        let traced = Set(log.statements)
        #expect(traced.count > 20, "\(traced.count) statements traced")
        let scans = try await DatabaseQueue(path: path).read { db in
            // A question without parameters whether any row exists is answered by the first one.
            try traced.sorted().filter { !$0.hasPrefix("SELECT EXISTS (SELECT 1 FROM ") || $0.contains("?") }
                .compactMap { sql -> String? in
                    let scanned = try Self.plan(sql, db).filter(Self.readsHistory)
                    return scanned.isEmpty ? nil : "\(scanned.joined(separator: "; ")) in: \(sql)"
                }
        }
        #expect(scans.isEmpty, "\(scans.joined(separator: "\n\n"))")
    }

    /// Whether a line of a query plan reads a growing table whole: a scan, or a search by ranges
    /// over anything but a time (`IS NOT NULL` on a partial index is a range over all it holds).
    static func readsHistory(_ line: String) -> Bool {
        let words = line.split(separator: " ")
        guard words.count > 1, Self.growing.contains(String(words[1])) else { return false }
        if words[0] == "SCAN" { return true }
        guard words[0] == "SEARCH", !line.contains("="), let open = line.firstIndex(of: "(") else { return false }
        let column = line[line.index(after: open)...].prefix { $0 != ">" && $0 != "<" }
        return !Self.times.contains(String(column))
    }

    /// SQLite's query plan of `sql`, its parameters left unbound (NULL), a line per step.
    static func plan(_ sql: String, _ db: Database) throws -> [String] {
        let leading = sql.drop { $0.isWhitespace }.prefix(6).uppercased()
        guard ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH "].contains(where: leading.hasPrefix) else { return [] }
        let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + sql)
        statement.setUncheckedArguments([])
        return try Row.fetchAll(statement).map { $0["detail"] as String }
    }

    static func time(of record: IngestRecord) -> Timestamp {
        if case .record(let record) = record { record.eventTime } else { .beforeAnyRecord }
    }

    static func isIVR(_ record: IngestRecord) -> Bool {
        if case .record(.ivr) = record { true } else { false }
    }
}
