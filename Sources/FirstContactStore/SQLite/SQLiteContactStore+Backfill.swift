import FirstContactCore
import GRDB

/// A backfill in `serve` (SPEC "Backfill in `serve`"): records that arrive more than `lateness`
/// behind the wall clock — a follower catching up, a PBX back after an outage, a past day posted
/// in any order. An obligation they create that is already overdue is not breached while such
/// records keep arriving: what comes next may satisfy it, and paging a breach now would announce
/// what a batch ingest of the same records never does. It is decided once the backfill has been
/// quiet for `lateness` (the customer's next check is set to that moment).
///
/// Kept in `meta`: `backfill_last`, the clock when the latest late batch arrived, and
/// `backfill_mark`, the last row of each record table before the backfill began: calls with a
/// record after it are the backfill's (and live calls that came in meanwhile, which wait with it).
extension SQLiteContactStore {
    /// The record tables of calls, each with its rows in insertion order, and the IVR's (whose
    /// events alone can owe a callback, under the call key `ivr:<event key>`). The order is the
    /// order of the stored mark's numbers: a table added later goes at the end.
    package static let markedTables = callRecordTables + ["ivr_event"]

    /// What a derivation holds back while a backfill is arriving.
    package struct BackfillHold: Sendable {
        /// Per record table, the last row before the backfill: calls with a later one arrived during it.
        package var mark: [Int64]
        /// When the backfill will have been quiet for `lateness`, unless more arrives.
        package var settlesAt: Timestamp
        /// The clock when its latest late records arrived: obligations of its calls due by then
        /// were overdue when they arrived; those due later were not, and breach on time.
        package var lastArrival: Timestamp

        /// The hold stored in `meta`: `backfill_mark` (`mark`, the last row ids, comma-separated)
        /// and `backfill_last` (`last`).
        package init(mark text: String, last: Timestamp, lateness: Int64) throws {
            var mark: [Int64] = []
            for part in text.split(separator: ",") {
                guard let row = Int64(part) else {
                    throw StoreError.corrupt(
                        table: "meta", rowid: nil, reason: "backfill_mark \"\(text)\" is not row ids")
                }
                mark.append(row)
            }
            // A table newer than the mark: all of its rows came during the backfill.
            mark += Array(repeating: 0, count: max(0, SQLiteContactStore.markedTables.count - mark.count))
            self.mark = mark
            self.settlesAt = last + lateness
            self.lastArrival = last
        }
    }

    /// Called inside an ingest transaction of `serve`, before its records are stored.
    static func noteBackfill(_ records: [IngestRecord], lateness: Int64, db: Database) throws {
        guard lateness > 0, let clock = try Self.storedClock(db) else { return }
        var latest: Timestamp?
        for case .record(let record) in records { latest = max(latest ?? record.eventTime, record.eventTime) }
        guard let latest, latest < clock - lateness else { return }
        let last = try Self.metaTime(db, "backfill_last")
        if last.map({ clock - $0 >= lateness }) ?? true {
            let mark = try Self.markedTables.map { table in
                try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(rowid) FROM \(table)")) ?? 0
            }
            try Self.setMeta(db, "backfill_mark", mark.map(String.init).joined(separator: ","))
        }
        try Self.setMeta(db, "backfill_last", String(clock.seconds))
    }

    /// The hold in force at `clock`: nil once the backfill has been quiet for `lateness`.
    static func backfillHold(clock: Timestamp, lateness: Int64, db: Database) throws -> BackfillHold? {
        guard let last = try Self.metaTime(db, "backfill_last"), clock - last < lateness,
            let text = try Self.meta(db, "backfill_mark")
        else { return nil }
        return try BackfillHold(mark: text, last: last, lateness: lateness)
    }

    /// The customer's calls that arrived during the backfill `hold` is about.
    static func undecidedCalls(of customer: String, hold: BackfillHold?, db: Database) throws -> Set<CallKey> {
        guard let hold else { return [] }
        var calls: Set<CallKey> = []
        for (table, mark) in zip(Self.markedTables, hold.mark) {
            if table == "ivr_event" {
                let keys = try String.fetchAll(
                    db.cachedStatement(
                        sql:
                            "SELECT event_key FROM ivr_event WHERE customer_seq = \(Self.customerSeq("?")) AND rowid > ?"
                    ),
                    arguments: [customer, mark])
                calls.formUnion(keys.map { CallRecord.ivrCallKey(EventKey(rawValue: $0)) })
                continue
            }
            let keys = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT DISTINCT call_key FROM \(table) WHERE rowid > ?2
                        AND call_key IN (SELECT call_key FROM call WHERE customer_seq = \(Self.customerSeq("?1")))
                        """),
                arguments: [customer, mark])
            calls.formUnion(keys.map { CallKey(rawValue: $0) })
        }
        return calls
    }

    /// The next check of a customer derived under `hold`: by the time the backfill settles at the
    /// latest, when a decision of the derivation waits for it.
    package static func nextCheck(_ derivation: Derivation, hold: BackfillHold?) -> Timestamp? {
        guard let hold, derivation.awaitingSource else { return derivation.nextCheck }
        return min(derivation.nextCheck ?? hold.settlesAt, hold.settlesAt)
    }
}
