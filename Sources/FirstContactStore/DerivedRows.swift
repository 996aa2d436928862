import FirstContactCore

/// How both stores replace a customer's derived rows after its settled past: rows the new
/// derivation no longer has (or has under another contact) are deleted, the others are upserted,
/// setting only the columns a derivation can change and writing nothing when none did. Deleting
/// and inserting every row of every contact not yet settled, at every derivation, rewrote each of
/// a contact's 6 indexes, an obligation's 9 and a violation's 3 twice, at a random place (history
/// benchmark, day 32: ≈ 0.6 s of 6.1 s on SQLite, growing with the indexes). SQLite rewrites every
/// index on a column named in an UPDATE's SET even when its value is unchanged (50,000 updates of
/// a 300,000-row table: 0.64 s without the indexed column, 1.80 s setting it to itself).
package enum DerivedRows {
    /// What to delete before the upserts: stored obligations and violations the derivation does
    /// not have under the same contact, and stored contacts (after the settled past) it does not
    /// have at all (their obligations and violations are in the first two lists: `previous`
    /// holds every one of those contacts').
    package struct Underived: Sendable {
        package var obligations: [String] = []
        package var violations: [String] = []
        package var contacts: [String] = []
    }

    /// - Parameters:
    ///   - previous: the stored obligations and violations of the contacts after the settled past.
    ///   - storedContacts: the ids of those contacts.
    package static func underived(
        previous: PreviousConclusions, storedContacts: [String], derivation: Derivation
    ) -> Underived {
        var obligations: [ObligationID: ContactID] = [:]
        for contact in derivation.contacts {
            for obligation in contact.obligations { obligations[obligation.id] = contact.id }
        }
        let violations = Dictionary(derivation.violations.map { ($0.id, $0.contact) }) { first, _ in first }
        let contacts = Set(derivation.contacts.map(\.id.rawValue))
        var result = Underived()
        result.obligations = previous.obligations.filter { obligations[$0.key] != $0.value.contact }.map(\.key.rawValue)
            .sorted()
        result.violations = previous.violations.filter { violations[$0.key] != $0.value.contact }.map(\.key.rawValue)
            .sorted()
        result.contacts = storedContacts.filter { !contacts.contains($0) }.sorted()
        return result
    }

    /// The columns a derivation may change in a row it wrote before. Not the id, nor what the id
    /// is derived from (the customer, the time it opened or was created, an obligation's kind),
    /// nor the contact a row belongs to (a row that moved is deleted and inserted).
    static let contactColumns = [
        "customer", "customer_raw", "channel", "department", "category", "status", "repeat_of", "fr_agent",
        "fr_bound_at", "fr_via", "fr_call", "ring_no_answer", "calls", "last_activity", "closed_at",
    ]
    static let obligationColumns = [
        "owner_department", "owner_agent", "due_at", "ack_due_at", "acknowledged_at", "state", "at_risk", "uncertain",
        "satisfied_at", "satisfied_by", "satisfied_via", "attempts", "missed_count", "escalation_level", "breached_at",
        "call_key", "callback_number",
    ]
    static let violationColumns = ["obligation_id", "category", "department", "agent", "at", "remedied_at"]

    /// What both stores read of a stored obligation for ``PreviousConclusions``, in the order
    /// their decoders take it.
    package static let concludedObligationColumns = """
        id, state, contact_id, at_risk, escalation_level, acknowledged_at IS NOT NULL, rowid, owner_department,
        owner_agent, breached_at IS NOT NULL
        """
    /// What both stores read of a stored violation for ``PreviousConclusions``.
    package static let concludedViolationColumns = "id, category, contact_id, rowid"

    /// The upserts, in the column order of ``StoredRows``' binds. `differs` is the dialect's
    /// null-safe row comparison: `IS NOT` (SQLite), `IS DISTINCT FROM` (PostgreSQL).
    package static func upsertContact(differs: String) -> String {
        """
        INSERT INTO contact (id, customer_key, customer, customer_raw, channel, department, category, status, repeat_of,
        fr_agent, fr_bound_at, fr_via, fr_call, ring_no_answer, calls, created_at, last_activity, closed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(Self.onConflict(Self.contactColumns, in: "contact", differs: differs))
        """
    }

    package static func upsertObligation(differs: String) -> String {
        """
        INSERT INTO obligation (id, contact_id, customer_key, kind, owner_department, owner_agent, created_at, due_at,
        ack_due_at, acknowledged_at, state, at_risk, uncertain, satisfied_at, satisfied_by, satisfied_via, attempts,
        missed_count, escalation_level, breached_at, call_key, callback_number)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(Self.onConflict(Self.obligationColumns, in: "obligation", differs: differs))
        """
    }

    package static func upsertViolation(differs: String) -> String {
        """
        INSERT INTO violation (id, customer_key, obligation_id, contact_id, category, department, agent, at, remedied_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        \(Self.onConflict(Self.violationColumns, in: "violation", differs: differs))
        """
    }

    private static func onConflict(_ columns: [String], in table: String, differs: String) -> String {
        let stored = columns.map { "\(table).\($0)" }.joined(separator: ", ")
        let offered = columns.map { "excluded.\($0)" }.joined(separator: ", ")
        return "ON CONFLICT (id) DO UPDATE SET " + columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            + " WHERE (\(stored)) \(differs) (\(offered))"
    }
}
