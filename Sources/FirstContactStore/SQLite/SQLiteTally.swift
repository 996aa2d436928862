import FirstContactCore
import GRDB

/// The store's totals (``StoreTotals``) kept in the `tally` table, so that the ingest summary,
/// every `/metrics` scrape and `tick` read a dozen rows instead of counting every table: counting
/// grew with history (day 32 of the history benchmark: 0.15–0.27 s of CPU; a scrape after a year
/// of history would take seconds).
///
/// The writers keep it, in the transaction of the rows they write: each adds what it changed
/// (``TallyDelta``) once, a statement per total that moved, never a statement per row. Triggers
/// kept it as exactly, but a statement that fires a trigger needs a statement journal: ≈ 8 µs a
/// row written, 1.2 s a day from day 1 (BENCHMARKS.md, twelfth session). Writers that are rare
/// and change rows wholesale (a purge, a copy into a new file) count again (``recount(_:)``).
package enum SQLiteTally {
    static let table = "tally"

    /// Each total counted from the rows, by its name (none that is 0). Migration v21 executes this
    /// text (``fill``), and a released migration's SQL never changes (UpgradeTests): to count
    /// differently, first put this text in v21 literally, then change it here and add a migration
    /// that counts again (``recount(_:)``).
    static let counts = """
        SELECT name, n FROM (
            SELECT 'records' AS name, (SELECT count(*) FROM leg) + (SELECT count(*) FROM queue_event)
                + (SELECT count(*) FROM sip_event) + (SELECT count(*) FROM cel_event) AS n
            UNION ALL SELECT 'calls', count(*) FROM call WHERE customer_key IS NOT NULL OR direction IS NOT NULL
            UNION ALL SELECT 'contacts', count(*) FROM contact
            UNION ALL SELECT 'first_responders', count(*) FROM contact WHERE fr_agent IS NOT NULL
            UNION ALL SELECT 'obligation.' || state, count(*) FROM obligation GROUP BY state
            UNION ALL SELECT 'breaches', count(*) FROM obligation WHERE breached_at IS NOT NULL
            UNION ALL SELECT 'violations', count(*) FROM violation
            UNION ALL SELECT 'rejects', count(*) FROM reject
            UNION ALL SELECT 'dead_letters', count(*) FROM webhook_dead_letter
        ) WHERE n <> 0
        """

    /// Fills the empty tally from the rows.
    static let fill = "INSERT INTO tally (name, n) " + Self.counts

    /// The totals as kept.
    static func read(_ db: Database) throws -> StoreTotals {
        try Self.totals(db, rows: "SELECT name, n FROM tally")
    }

    /// The totals counted from the rows, which the kept ones must equal.
    static func counted(_ db: Database) throws -> StoreTotals {
        try Self.totals(db, rows: Self.counts)
    }

    /// Counts again from the rows, in the caller's transaction.
    static func recount(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM tally")
        try db.execute(sql: Self.fill)
    }

    /// Adds what a transaction's writes changed, in that transaction. No row holds 0: the table
    /// holds what counting would fill it with, whatever order the rows came and went in.
    static func add(_ delta: TallyDelta, _ db: Database) throws {
        let changes = delta.changes
        for (name, n) in changes {
            try db.cachedStatement(
                sql: "INSERT INTO tally (name, n) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET n = n + excluded.n"
            ).execute(arguments: [name, n])
        }
        if changes.contains(where: { $0.1 < 0 }) {
            try db.cachedStatement(sql: "DELETE FROM tally WHERE n = 0").execute()
        }
    }

    private static func totals(_ db: Database, rows sql: String) throws -> StoreTotals {
        var totals = StoreTotals()
        let rows = try Row.fetchCursor(db, sql: sql)
        while let row = try rows.next() {
            let name: String = row[0]
            let n: Int = row[1]
            switch name {
            case TallyDelta.records: totals.records = n
            case TallyDelta.calls: totals.calls = n
            case TallyDelta.contacts: totals.contacts = n
            case TallyDelta.firstResponders: totals.firstResponders = n
            case TallyDelta.breaches: totals.breaches = n
            case TallyDelta.violations: totals.violations = n
            case TallyDelta.rejects: totals.rejects = n
            case TallyDelta.deadLetters: totals.deadLetters = n
            default:
                guard name.hasPrefix(TallyDelta.obligationPrefix) else { continue }
                let state: ObligationState = try StoredRows.decode(
                    String(name.dropFirst(TallyDelta.obligationPrefix.count)), column: "state", table: "obligation",
                    rowid: nil)
                if n != 0 { totals.obligationsByState[state] = n }
            }
        }
        // One row per source: a sum that does not grow with history.
        totals.rejectsDropped =
            try Int.fetchOne(db, sql: "SELECT coalesce(sum(dropped), 0) FROM reject_dropped") ?? 0
        return totals
    }
}

/// What one transaction's writes changed in the store's totals (``SQLiteTally``).
struct TallyDelta {
    static let records = "records"
    static let calls = "calls"
    static let contacts = "contacts"
    static let firstResponders = "first_responders"
    static let obligationPrefix = "obligation."
    static let breaches = "breaches"
    static let violations = "violations"
    static let rejects = "rejects"
    static let deadLetters = "dead_letters"

    var records = 0
    var calls = 0
    var contacts = 0
    var firstResponders = 0
    var obligations: [ObligationState: Int] = [:]
    var breaches = 0
    var violations = 0
    var rejects = 0
    var deadLetters = 0

    /// A contact stored (`sign` 1) or removed (-1).
    mutating func contact(firstResponder: Bool, _ sign: Int) {
        self.contacts += sign
        if firstResponder { self.firstResponders += sign }
    }

    /// An obligation stored (`sign` 1) or removed (-1).
    mutating func obligation(_ state: ObligationState, breached: Bool, _ sign: Int) {
        self.obligations[state, default: 0] += sign
        if breached { self.breaches += sign }
    }

    /// Every total that moved, by its name in the tally.
    var changes: [(String, Int)] {
        let named = [
            (Self.records, self.records), (Self.calls, self.calls), (Self.contacts, self.contacts),
            (Self.firstResponders, self.firstResponders), (Self.breaches, self.breaches),
            (Self.violations, self.violations), (Self.rejects, self.rejects), (Self.deadLetters, self.deadLetters),
        ]
        let states = self.obligations.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            (Self.obligationPrefix + $0.key.rawValue, $0.value)
        }
        return (named + states).filter { $0.1 != 0 }
    }
}
