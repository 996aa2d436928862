import FirstContactCore

/// A period whose report figures are summarised (a local month), `[start, end)`.
package struct ReportPeriod: Hashable, Sendable, Comparable {
    package var start: Timestamp
    package var end: Timestamp

    package init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { (lhs.start, lhs.end) < (rhs.start, rhs.end) }
}

/// What a purge (`policy.retention`) removes and what it keeps.
package struct PurgeOutcome: Hashable, Sendable {
    /// Contacts whose every time lies before this were eligible.
    package var horizon: Timestamp
    /// Nothing was written (a dry run): the counts say what a purge would remove.
    package var dryRun: Bool
    package var contacts = 0
    package var obligations = 0
    package var violations = 0
    /// Source records (CDR legs, queue events, SIP rows, IVR events).
    package var records = 0
    package var calls = 0
    package var rejects = 0
    package var actions = 0
    /// Notifications and amendments (trail text) about the purged contacts.
    package var notifications = 0
    /// Customers of whom nothing is left (their number is gone from the database).
    package var customersRemoved = 0
    /// Customers who keep later contacts (or an open one) and lost only their old contacts.
    package var customersTrimmed = 0
    /// Contacts old enough to go but kept because their customer still needs them (a call or an
    /// action that ties them to a contact that stays, a callback number another customer keyed).
    package var contactsKept = 0
    /// Periods summarised by this purge (reports read them from the summary from now on).
    package var periodsSummarised: [ReportPeriod] = []
    /// Every period held as a summary after this purge.
    package var periodsHeld = 0

    package init(horizon: Timestamp, dryRun: Bool) {
        self.horizon = horizon
        self.dryRun = dryRun
    }
}

/// The SQL both stores find their contactless purges with: customers whose calls before the
/// horizon (`?1`) opened no contact, with every input before it settled, no call running across
/// it and no other customer's callback request for their number before it. Columns: the customer,
/// its purged contact and when that closed, and whether nothing of it is left after the horizon.
package enum ContactlessPurge {
    /// PostgreSQL's form: calls and IVR events are found by the customer's key.
    package static let sql = Self.sql(filedUnder: "customer_key = u.customer_key")

    /// - Parameter filedUnder: the condition on `call` and `ivr_event` rows that they belong to the
    ///   customer `u` (SQLite files them under the customer's number, `customer_seq = u.seq`).
    package static func sql(filedUnder: String) -> String {
        """
        SELECT customer_key, purged_contact, purged_closed,
            NOT (EXISTS (SELECT 1 FROM contact WHERE customer_key = u.customer_key AND created_at >= ?1)
                OR EXISTS (SELECT 1 FROM call WHERE \(filedUnder) AND start >= ?1)
                OR EXISTS (SELECT 1 FROM ivr_event WHERE \(filedUnder) AND time >= ?1)
                OR EXISTS (SELECT 1 FROM action WHERE customer_key = u.customer_key AND at >= ?1)) AS whole
        FROM customer u
        WHERE settled_before IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM contact WHERE customer_key = u.customer_key AND created_at < ?1)
            AND (EXISTS (SELECT 1 FROM call WHERE \(filedUnder) AND start < ?1)
                OR EXISTS (SELECT 1 FROM ivr_event WHERE \(filedUnder) AND time < ?1))
            AND NOT EXISTS (SELECT 1 FROM call WHERE \(filedUnder)
                AND start >= CASE WHEN settled_before < ?1 THEN settled_before ELSE ?1 END AND start < ?1)
            AND NOT EXISTS (SELECT 1 FROM ivr_event WHERE \(filedUnder)
                AND time >= CASE WHEN settled_before < ?1 THEN settled_before ELSE ?1 END AND time < ?1)
            AND NOT EXISTS (SELECT 1 FROM call WHERE \(filedUnder) AND start < ?1 AND "end" >= ?1)
            AND NOT EXISTS (SELECT 1 FROM ivr_event WHERE callback_key = u.customer_key
                AND customer_key <> u.customer_key AND time < ?1)
        ORDER BY customer_key
        """
    }
}
