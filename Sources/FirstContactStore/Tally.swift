import FirstContactCore

/// What ``StoreTotals`` counts, said once for both stores: each count is a sum over one table's
/// rows of a weight (1, or 1 when a condition holds), under a name that may depend on the row
/// (an obligation's state).
///
/// SQLite keeps these sums in a `tally` table that triggers update as rows change, so the ingest
/// summary and every `/metrics` scrape read a dozen rows instead of counting every table: the
/// counting grew with history (day 32 of the history benchmark: +0.15–0.27 s of CPU a day over
/// day 2, and a year of history would make it seconds per scrape). PostgreSQL counts with the same
/// sums (``countQuery``): a counter row that every writer updates would serialise instances.
package enum Tally {
    package struct Count: Sendable {
        package let table: String
        /// A name that no SQL identifier needs to quote (it names the triggers).
        package let key: String
        /// The tally name of row `r` (SQL, `r` the row's alias: `NEW`, `OLD` or a table alias).
        package let name: @Sendable (String) -> String
        /// What row `r` adds to it: an integer SQL expression both dialects evaluate alike.
        package let weight: @Sendable (String) -> String
        /// The columns `name` and `weight` read: an update of others leaves the tally as it is.
        package let columns: [String]
    }

    static let records = "records"
    static let calls = "calls"
    static let contacts = "contacts"
    static let firstResponders = "first_responders"
    static let obligationPrefix = "obligation."
    static let breaches = "breaches"
    static let violations = "violations"
    static let rejects = "rejects"
    static let rejectsDropped = "rejects_dropped"
    static let deadLetters = "dead_letters"

    package static let counts: [Count] =
        ["leg", "queue_event", "sip_event", "cel_event"].map { Self.rows(of: $0, as: Self.records) } + [
            Count(
                table: "call", key: Self.calls, name: { _ in "'\(Self.calls)'" },
                // A call is counted once it is known whose it is or which way it went: a row
                // made for a record that named a call before the call's own record arrived is not.
                weight: { "CASE WHEN \($0).customer_key IS NOT NULL OR \($0).direction IS NOT NULL THEN 1 ELSE 0 END" },
                columns: ["customer_key", "direction"]),
            Self.rows(of: "contact", as: Self.contacts),
            Count(
                table: "contact", key: Self.firstResponders, name: { _ in "'\(Self.firstResponders)'" },
                weight: { "CASE WHEN \($0).fr_agent IS NOT NULL THEN 1 ELSE 0 END" }, columns: ["fr_agent"]),
            Count(
                table: "obligation", key: "obligations", name: { "'\(Self.obligationPrefix)' || \($0).state" },
                weight: { _ in "1" }, columns: ["state"]),
            Count(
                table: "obligation", key: Self.breaches, name: { _ in "'\(Self.breaches)'" },
                weight: { "CASE WHEN \($0).breached_at IS NOT NULL THEN 1 ELSE 0 END" }, columns: ["breached_at"]),
            Self.rows(of: "violation", as: Self.violations),
            Self.rows(of: "reject", as: Self.rejects),
            Count(
                table: "reject_dropped", key: Self.rejectsDropped, name: { _ in "'\(Self.rejectsDropped)'" },
                weight: { "\($0).dropped" }, columns: ["dropped"]),
            Self.rows(of: "webhook_dead_letter", as: Self.deadLetters),
        ]

    private static func rows(of table: String, as name: String) -> Count {
        Count(table: table, key: name, name: { _ in "'\(name)'" }, weight: { _ in "1" }, columns: [])
    }

    /// Every tally name with its sum, counted from the tables (no name with a zero sum).
    package static let countQuery: String = {
        let sums = Self.counts.map { count in
            "SELECT \(count.name("r")) AS name, sum(\(count.weight("r"))) AS n FROM \(count.table) AS r GROUP BY 1"
        }
        return
            "SELECT name, CAST(sum(n) AS BIGINT) AS n FROM (\(sums.joined(separator: " UNION ALL "))) AS sums GROUP BY name "
            + "HAVING sum(n) <> 0"
    }()

    /// The totals the tally names and sums say.
    /// - Throws: ``StoreError/corrupt(table:rowid:reason:)`` for an obligation state this build
    ///   does not know.
    package static func totals(_ tally: some Sequence<(name: String, n: Int)>) throws -> StoreTotals {
        var totals = StoreTotals()
        for (name, n) in tally where n != 0 {
            switch name {
            case Self.records: totals.records = n
            case Self.calls: totals.calls = n
            case Self.contacts: totals.contacts = n
            case Self.firstResponders: totals.firstResponders = n
            case Self.breaches: totals.breaches = n
            case Self.violations: totals.violations = n
            case Self.rejects: totals.rejects = n
            case Self.rejectsDropped: totals.rejectsDropped = n
            case Self.deadLetters: totals.deadLetters = n
            default:
                guard name.hasPrefix(Self.obligationPrefix) else { continue }
                let state: ObligationState = try StoredRows.decode(
                    String(name.dropFirst(Self.obligationPrefix.count)), column: "state", table: "obligation",
                    rowid: nil)
                totals.obligationsByState[state] = n
            }
        }
        return totals
    }
}
