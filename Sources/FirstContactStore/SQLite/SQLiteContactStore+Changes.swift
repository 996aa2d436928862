import FirstContactCore
import GRDB

/// One notification in the outbox: the ``Notice`` that ``DerivationChanges`` decided, at its
/// place in the outbox's order. Its fields read as the notice's (`entry.kind`, `entry.contact`…).
@dynamicMemberLookup
package struct OutboxEntry: Hashable, Sendable {
    /// What a notification announces (see ``Notice``).
    package typealias Kind = Notice.Kind

    package var seq: Int64
    package var notice: Notice

    package init(seq: Int64, notice: Notice) {
        self.seq = seq
        self.notice = notice
    }

    package subscript<Value>(dynamicMember field: KeyPath<Notice, Value>) -> Value {
        self.notice[keyPath: field]
    }
}

extension SQLiteContactStore {
    /// What the store concluded about the customer's contacts opened at or after `since`.
    static func previousConclusions(of customer: String, since: Timestamp, db: Database) throws
        -> PreviousConclusions
    {
        var previous = PreviousConclusions()
        let obligations = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(DerivedRows.concludedObligationColumns) FROM obligation
                    WHERE contact_id IN (SELECT id FROM contact WHERE customer_key = ? AND created_at >= ?)
                    """
            ),
            arguments: [customer, since.seconds])
        while let row = try obligations.next() { try Self.addObligation(row, to: &previous) }
        let violations = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT \(DerivedRows.concludedViolationColumns) FROM violation
                    WHERE customer_key = ?1 AND contact_id IN (SELECT id FROM contact WHERE customer_key = ?1 AND created_at >= ?2)
                    """),
            arguments: [customer, since.seconds])
        while let row = try violations.next() { try Self.addViolation(row, to: &previous) }
        return previous
    }

    /// What the store concluded about the rows `changes` names (``DerivedRowChanges``): the
    /// stored obligations and violations that changed, and whether each stored contact that
    /// changed had a first responder.
    static func previousConclusions(
        of customer: String, _ changes: DerivedRowChanges, db: Database
    ) throws -> (PreviousConclusions, firstResponders: [String: Bool]) {
        var previous = PreviousConclusions()
        let obligation = try db.cachedStatement(
            sql: "SELECT \(DerivedRows.concludedObligationColumns) FROM obligation WHERE id = ?")
        for id in changes.storedObligations {
            if let row = try Row.fetchOne(obligation, arguments: [id.rawValue]) {
                try Self.addObligation(row, to: &previous)
            }
        }
        let violations = try db.cachedStatement(
            sql:
                "SELECT \(DerivedRows.concludedViolationColumns) FROM violation WHERE customer_key = ? AND contact_id = ?"
        )
        for contact in changes.storedViolationsOf {
            let rows = try Row.fetchCursor(violations, arguments: [customer, contact.rawValue])
            while let row = try rows.next() { try Self.addViolation(row, to: &previous) }
        }
        var firstResponders = changes.unchangedFirstResponders
        let contact = try db.cachedStatement(sql: "SELECT fr_agent IS NOT NULL FROM contact WHERE id = ?")
        for id in changes.storedContacts {
            if let had = try Bool.fetchOne(contact, arguments: [id.rawValue]) { firstResponders[id.rawValue] = had }
        }
        return (previous, firstResponders)
    }

    private static func addObligation(_ row: Row, to previous: inout PreviousConclusions) throws {
        previous.obligations[ObligationID(row[0] as String)] = PreviousConclusions.Obligation(
            state: try StoredRows.decode(row[1], column: "state", table: "obligation", rowid: row[6]),
            contact: ContactID(row[2] as String), atRisk: row[3],
            escalationLevel: row[4], acknowledged: row[5],
            owner: Owner(department: DepartmentID(row[7] as String), agent: (row[8] as String?).map { AgentID($0) }),
            breached: row[9]
        )
    }

    private static func addViolation(_ row: Row, to previous: inout PreviousConclusions) throws {
        previous.violations[ViolationID(row[0] as String)] = PreviousConclusions.Violation(
            category: try StoredRows.decode(row[1], column: "category", table: "violation", rowid: row[3]),
            contact: ContactID(row[2] as String))
    }

    /// Writes what changed between two derivations of a customer, as ``DerivationChanges``
    /// decides it: amendments (a late record changed an earlier conclusion) and outbox
    /// notifications, in the caller's transaction.
    /// - Returns: the number of amendments.
    static func recordChanges(
        _ customer: String, from previous: PreviousConclusions, to derivation: Derivation, clock: Timestamp,
        db: Database
    ) throws -> Int {
        let changes = DerivationChanges(from: previous, to: derivation, clock: clock)
        for amendment in changes.amendments {
            try db.run(
                "INSERT INTO amendment (customer_key, contact_id, obligation_id, at, message) VALUES (?, ?, ?, ?, ?)"
            ) {
                $0.add(customer)
                $0.add(amendment.contact.rawValue)
                $0.add(amendment.obligation?.rawValue)
                $0.add(clock.seconds)
                $0.add(amendment.message)
            }
        }
        for notice in changes.notices { try Self.insert(notice, customer: customer, db: db) }
        return changes.amendments.count
    }

    /// Appends `notice` to the outbox unless its key is there already.
    static func insert(_ notice: Notice, customer: String?, db: Database) throws {
        try db.run(
            """
            INSERT OR IGNORE INTO outbox (key, kind, at, customer_key, contact_id, obligation_id, violation_id, department, agent, level, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ) { StoredRows.bind(notice, customer: customer, into: &$0) }
    }

    package func announce(_ announcements: [Announcement]) async throws {
        guard !announcements.isEmpty else { return }
        try await self.pool.write { db in
            for announcement in announcements {
                try Self.insert(announcement.notice, customer: announcement.customerKey, db: db)
            }
        }
    }

    /// The actions recorded about a customer's matters, at or after `since`.
    static func actions(ofCustomer customer: String, since: Timestamp = .beforeAnyRecord, db: Database) throws
        -> [ManualAction]
    {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT id, kind, obligation_id, contact_id, agent, at, payload, rowid, seq FROM action
                    WHERE customer_key = ? AND at >= ?
                    """
            ),
            arguments: [customer, since.seconds]
        ).map { row in
            try ActionPayload.action(
                id: row[0], kind: row[1], obligation: row[2], contact: row[3], agent: row[4], at: row[5],
                payload: row[6], sequence: row[8], rowid: row[7])
        }
    }

    // MARK: Actions, reviews, outbox

    package func obligation(_ id: ObligationID) async throws -> StoredObligation? {
        try await self.reader.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT contact_id, customer_key FROM obligation WHERE id = ?", arguments: [id.rawValue]),
                let contact = try Self.contacts(db, where: "id = \(row[0] as String)", limit: 1).first,
                let obligation = contact.obligations.first(where: { $0.id == id })
            else { return nil }
            return StoredObligation(obligation: obligation, contact: contact.id, customerKey: row[1])
        }
    }

    package func record(_ action: ManualAction) async throws {
        try await self.pool.write { db in
            let customer: String
            var obligationID: ObligationID?
            switch action.kind {
            case .acknowledge(let id):
                obligationID = id
                guard
                    let key = try String.fetchOne(
                        db, sql: "SELECT customer_key FROM obligation WHERE id = ?", arguments: [id.rawValue])
                else { throw StoreError.notFound("obligation \(id)") }
                customer = key
            case .open(let manual):
                customer = action.customerKey ?? manual.customer.text
            default:
                guard let contact = action.contact,
                    let key = try String.fetchOne(
                        db, sql: "SELECT customer_key FROM contact WHERE id = ?", arguments: [contact.rawValue])
                else { throw StoreError.notFound("contact \(action.contact?.rawValue ?? "?")") }
                customer = key
            }
            let payload = try ActionPayload(action.kind).encoded()
            try db.run(
                """
                INSERT OR IGNORE INTO action (id, customer_key, kind, obligation_id, contact_id, agent, at, payload, seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM action))
                """
            ) {
                $0.add(action.id)
                $0.add(customer)
                $0.add(action.kindName)
                $0.add(obligationID?.rawValue)
                $0.add(action.contact?.rawValue)
                $0.add(action.agent.rawValue)
                $0.add(action.at.seconds)
                $0.add(payload)
            }
            // An action may concern a contact of the settled past: derive from every record.
            try Self.markDirty(customer, since: nil, db: db)
        }
    }

    package func review(_ violation: ViolationID, _ review: ViolationReview) async throws {
        try await self.pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql:
                        "SELECT customer_key, contact_id, obligation_id, department, agent FROM violation WHERE id = ?",
                    arguments: [violation.rawValue])
            else { throw StoreError.notFound("violation \(violation)") }
            try db.run(
                """
                INSERT INTO violation_review (violation_id, decision, reason, reviewed_by, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(violation_id) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
                reviewed_by = excluded.reviewed_by, at = excluded.at
                """
            ) {
                $0.add(violation.rawValue)
                $0.add(review.decision.rawValue)
                $0.add(review.reason)
                $0.add(review.by)
                $0.add(review.at.seconds)
            }
            let notice = Notice.review(
                review, of: violation, contact: ContactID(row[1] as String),
                obligation: (row[2] as String?).map { ObligationID($0) }, department: DepartmentID(row[3] as String),
                agent: (row[4] as String?).map { AgentID($0) })
            try Self.insert(notice, customer: row[0] as String, db: db)
        }
    }

    package func reviews() async throws -> [ViolationID: ViolationReview] {
        try await self.reader.read { db in try Self.reviews(db, where: "1") }
    }

    static func reviews(_ db: Database, where condition: SQL) throws -> [ViolationID: ViolationReview] {
        var result: [ViolationID: ViolationReview] = [:]
        for row in try Row.fetchAll(
            db,
            SQLRequest(
                literal:
                    "SELECT violation_id, decision, reason, reviewed_by, at FROM violation_review WHERE \(condition)"))
        {
            // Keyed by violation_id (no rowid): the key goes into the reason.
            let id: String = row[0]
            let decision: ViolationReview.Decision = try StoredRows.decode(
                row[1], column: "decision of violation \(id)", table: "violation_review", rowid: nil)
            result[ViolationID(id)] = ViolationReview(
                decision: decision, reason: row[2], by: row[3], at: Timestamp(seconds: row[4]))
        }
        return result
    }

    package func outbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await self.reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, key, kind, at, contact_id, obligation_id, violation_id, department, agent, level, detail
                    FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [seq, limit]
            ).map { row in
                OutboxEntry(
                    seq: row[0],
                    notice: Notice(
                        key: row[1],
                        kind: try StoredRows.decode(row[2], column: "kind", table: "outbox", rowid: row[0]),
                        at: Timestamp(seconds: row[3]), contact: (row[4] as String?).map { ContactID($0) },
                        obligation: (row[5] as String?).map { ObligationID($0) },
                        violation: (row[6] as String?).map { ViolationID($0) },
                        department: (row[7] as String?).map { DepartmentID($0) },
                        agent: (row[8] as String?).map { AgentID($0) }, level: row[9], detail: row[10]))
            }
        }
    }

    package func nextCheck() async throws -> Timestamp? {
        try await self.reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_check) FROM customer WHERE next_check IS NOT NULL").map {
                Timestamp(seconds: $0)
            }
        }
    }
}
