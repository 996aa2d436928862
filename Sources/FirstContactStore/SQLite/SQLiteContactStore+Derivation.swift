import FirstContactCore
import GRDB

/// Customers marked dirty, derived again from all their records, and their derived rows replaced.
extension SQLiteContactStore {
    /// Marks a customer for derivation at the next clock move (creating its row if it is new).
    /// A mark that changes nothing (dirty already, nothing to drop) writes nothing: every batch of
    /// a day marks the customers it touches, and a rewritten row is a random page of `customer`
    /// written again at each batch's commit.
    /// - Parameter since: the earliest time of what is new for the customer; a settled past or
    ///   resume point that does not end before it is dropped, and nil drops them always (derive
    ///   from every record) — down to the purged past, whose records are gone (retention).
    static func markDirty(_ customer: String, since: Timestamp?, db: Database) throws {
        let marked = StoredRows.markedColumns(keepingBefore: "?2")
        try db.run(
            """
            INSERT INTO customer (customer_key, dirty, seq) VALUES (?1, 1, \(Self.nextCustomerSeq))
            ON CONFLICT(customer_key) DO UPDATE SET \(marked.set)
            WHERE \(marked.stored) IS NOT \(marked.values)
            """
        ) {
            $0.add(customer)
            $0.add(since?.seconds)
        }
    }

    /// The number the next new customer gets (`customer.seq`, migration v22).
    static let nextCustomerSeq = "(SELECT coalesce(max(seq), 0) + 1 FROM customer)"

    /// A customer's number (`customer.seq`) in SQL, from its key bound at `parameter`.
    static func customerSeq(_ parameter: String) -> String {
        "(SELECT seq FROM customer WHERE customer_key = \(parameter))"
    }

    /// The customers one batch files records under. Each gets a row (and so a number, that its
    /// calls and IVR events are filed under) at most once per batch, and one the batch stored first
    /// needs no mark: a new row is dirty, with no settled past or resume point to drop, so
    /// ``markDirty(_:since:db:)`` would only probe it again (3.5 % of the writer's time on a day of
    /// new customers; the insert had run once per call).
    struct BatchCustomers {
        /// Per customer seen: whether this batch inserted its row.
        private var inserted: [String: Bool] = [:]

        mutating func ensure(_ customer: String?, db: Database) throws {
            guard let customer, self.inserted[customer] == nil else { return }
            self.inserted[customer] =
                try db.run(
                    """
                    INSERT INTO customer (customer_key, seq) VALUES (?, \(SQLiteContactStore.nextCustomerSeq))
                    ON CONFLICT(customer_key) DO NOTHING
                    """
                ) { $0.add(customer) } > 0
        }

        /// Whether `customer`'s new records need ``markDirty(_:since:db:)``.
        func needsMark(_ customer: String) -> Bool { self.inserted[customer] != true }
    }

    /// The settled past stored for a customer (columns `settled_before`, `settled_contact`,
    /// `settled_closed` of `row`, from `column` on).
    static func settledPast(_ row: Row, from column: Int) -> SettledPast? {
        StoredRows.settledPast(before: row[column], contact: row[column + 1], closed: row[column + 2])
    }

    /// Outbound calls from `since` on to the other numbers this customer keyed for callbacks at
    /// or after `keyedSince`, the settled past (``relatedRecords(ofCustomer:keyedSince:since:tables:names:db:)``).
    static func relatedCalls(
        ofCustomer customer: String, keyedSince: Timestamp, since: Timestamp, tables: RecordTables,
        assembler: CallAssembler, names: SourceNames = SourceNames(),
        db: Database
    ) throws -> [Call] {
        DerivationInputs.outboundCalls(
            try Self.relatedRecords(
                ofCustomer: customer, keyedSince: keyedSince, since: since, tables: tables, names: names, db: db),
            assembler: assembler)
    }

    /// Records from `since` on of each other number this customer keyed for callbacks at or
    /// after `keyedSince`, the settled past: a number keyed before it was owed a callback of a
    /// contact closed for good. Reading every number the customer ever keyed grew with history
    /// (a customer calling daily: ≈ 0.5 s of a day's 6.6 s on day 32 of the history benchmark).
    static func relatedRecords(
        ofCustomer customer: String, keyedSince: Timestamp, since: Timestamp, tables: RecordTables,
        names: SourceNames, db: Database
    ) throws -> [[(CallKey, [CallRecord])]] {
        let numbers = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT DISTINCT callback_key FROM ivr_event
                    WHERE customer_seq = \(Self.customerSeq("?1")) AND time >= ?2 AND callback_key IS NOT NULL
                    """),
            arguments: [customer, keyedSince.seconds])
        return try numbers.map { number in
            try Self.records(ofCustomer: number, since: since, tables: tables, names: names, db: db)
        }
    }

    /// Reads what re-deriving a customer takes: the inputs after their resume point or settled
    /// past (all their inputs when there is neither).
    /// - Parameters:
    ///   - replacing: whether derived rows exist already (to compare and delete).
    ///   - past: the customer's stored settled past.
    ///   - resume: the customer's stored resume point.
    static func derivationInputs(
        _ customer: String, replacing: Bool, past: SettledPast?, resume: ResumePoint?, correlator: Correlator,
        hold: BackfillHold?, tables: RecordTables, names: SourceNames, db: Database
    ) throws -> DerivationInputs {
        var inputs = DerivationInputs(
            customer: customer, replacing: replacing, past: past, stored: resume, correlator: correlator)
        let from = inputs.from
        inputs.records = try Self.records(ofCustomer: customer, since: from, tables: tables, names: names, db: db)
        inputs.actions = tables.actions ? try Self.actions(ofCustomer: customer, since: from, db: db) : []
        inputs.ivr = tables.ivr ? try Self.ivrEvents(ofCustomer: customer, since: from, names: names, db: db) : []
        if inputs.readsRelated {
            inputs.related = try Self.relatedRecords(
                ofCustomer: customer, keyedSince: inputs.since, since: from, tables: tables, names: names, db: db)
        }
        inputs.undecided = try Self.undecidedCalls(of: customer, hold: hold, db: db)
        return inputs
    }

    /// Replaces the derived rows of a customer's contacts after the settled past with those of
    /// `computed`, the derivation of `inputs`.
    /// - Parameter tally: what the rows written and deleted change in the store's totals is added to it.
    /// - Returns: the number of amendments recorded (earlier conclusions that changed).
    static func writeDerivation(
        _ computed: ComputedDerivation, of inputs: DerivationInputs, clock: Timestamp, hold: BackfillHold?,
        tally: inout TallyDelta, db: Database
    ) throws -> Int {
        let customer = inputs.customer
        let derivation = computed.derivation
        let rows = computed.rows
        let written: Derivation
        let amendments: Int
        let kept: KeptRows
        if inputs.replacing, let rows {
            let (previous, firstResponders) = try Self.previousConclusions(of: customer, rows, db: db)
            amendments = try Self.recordChanges(customer, from: previous, to: rows.changed, clock: clock, db: db)
            kept = try Self.deleteUnderived(
                previous: previous, firstResponders: firstResponders, storedContacts: rows.allStoredContacts,
                derivation, tally: &tally, db: db)
            written = rows.changed
        } else {
            let previous =
                inputs.replacing
                ? try Self.previousConclusions(of: customer, since: inputs.since, db: db) : PreviousConclusions()
            amendments = try Self.recordChanges(customer, from: previous, to: derivation, clock: clock, db: db)
            kept =
                inputs.replacing
                ? try Self.deleteUnderived(
                    customer, since: inputs.since, previous: previous, derivation, tally: &tally, db: db)
                : KeptRows()
            written = derivation
        }
        if computed.filesNothing, try Self.isForgotten(customer, db: db) {
            // Every call it had moved to another customer (a withheld caller whose number arrived
            // later): a batch ingest of the same records would never have filed it, so its row and
            // derived rows go. The audit trail stays: its amendments (that a late record changed
            // what was concluded) and what the outbox announced.
            try db.cachedStatement(sql: "DELETE FROM customer WHERE customer_key = ?").execute(arguments: [customer])
            return 0
        }
        for contact in written.contacts {
            try Self.write(contact, row: rows?.contactRows.contains(contact.id) ?? true, customer: customer, db: db)
        }
        for violation in written.violations {
            try db.run(Self.upsertViolation) { StoredRows.bind(violation, customer: customer, into: &$0) }
        }
        kept.count(written, into: &tally)
        // Compared with the stored point, not the one used: one walked under other rules is
        // replaced, as it belongs to another settled past.
        let changed = derivation.resume != inputs.stored
        try db.run(
            "UPDATE customer SET dirty = 0, derived = 1, \(StoredRows.derivedColumns(resume: changed)) WHERE customer_key = ?"
        ) {
            StoredRows.bindDerived(
                derivation, nextCheck: Self.nextCheck(derivation, hold: hold), customer: customer, resume: changed,
                into: &$0)
        }
        if changed, let point = derivation.resume {
            try db.run(StoredRows.writeResumeState) {
                $0.add(customer)
                $0.add(point.bytes)
            }
        }
        return amendments
    }

    /// Whether nothing is filed under `customer` any more: no call, IVR event or person's action.
    static func isForgotten(_ customer: String, db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT NOT (EXISTS (SELECT 1 FROM call WHERE customer_seq = \(Self.customerSeq("?1")))
                        OR EXISTS (SELECT 1 FROM ivr_event WHERE customer_seq = \(Self.customerSeq("?1")))
                        OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1))
                    """), arguments: [customer]) ?? false
    }

    /// Deletes the customer's derived rows after `since` that `derivation` no longer has, or has
    /// under another contact (``DerivedRows``); ``write(_:row:customer:db:)`` upserts the rest.
    /// - Returns: the stored rows that stay, to be updated by the upserts.
    static func deleteUnderived(
        _ customer: String, since: Timestamp, previous: PreviousConclusions, _ derivation: Derivation,
        tally: inout TallyDelta, db: Database
    ) throws -> KeptRows {
        var firstResponders: [String: Bool] = [:]
        let stored = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT id, fr_agent IS NOT NULL FROM contact WHERE customer_key = ? AND created_at >= ?"),
            arguments: [customer, since.seconds])
        while let row = try stored.next() { firstResponders[row[0]] = row[1] }
        return try Self.deleteUnderived(
            previous: previous, firstResponders: firstResponders, storedContacts: Array(firstResponders.keys),
            derivation, tally: &tally, db: db)
    }

    /// Deletes the stored rows of `previous` and `storedContacts` that `derivation` no longer has,
    /// or has under another contact.
    /// - Parameter firstResponders: whether each stored contact the derivation writes or deletes had
    ///   a first responder.
    static func deleteUnderived(
        previous: PreviousConclusions, firstResponders: [String: Bool], storedContacts: [String],
        _ derivation: Derivation, tally: inout TallyDelta, db: Database
    ) throws -> KeptRows {
        var kept = KeptRows(
            obligations: previous.obligations, violations: Set(previous.violations.keys), contacts: firstResponders)
        let underived = DerivedRows.underived(
            previous: previous, storedContacts: storedContacts, derivation: derivation)
        for id in underived.obligations {
            try db.cachedStatement(sql: "DELETE FROM obligation WHERE id = ?").execute(arguments: [id])
            if let old = kept.obligations.removeValue(forKey: ObligationID(id)) {
                tally.obligation(old.state, breached: old.breached, -1)
            }
        }
        for id in underived.violations {
            try db.cachedStatement(sql: "DELETE FROM violation WHERE id = ?").execute(arguments: [id])
            if kept.violations.remove(ViolationID(id)) != nil { tally.violations -= 1 }
        }
        for id in underived.contacts {
            try db.cachedStatement(sql: "DELETE FROM contact WHERE id = ?").execute(arguments: [id])
            if let firstResponder = kept.contacts.removeValue(forKey: id) {
                tally.contact(firstResponder: firstResponder, -1)
            }
        }
        return kept
    }

    /// A customer's derived rows that stay through a derivation: the upserts update these and
    /// insert the others, which is what the store's totals count.
    struct KeptRows {
        var obligations: [ObligationID: PreviousConclusions.Obligation] = [:]
        var violations: Set<ViolationID> = []
        /// Contact ids, each with whether it had a first responder.
        var contacts: [String: Bool] = [:]

        /// Adds to `tally` what upserting `derivation`'s rows over these changes.
        func count(_ derivation: Derivation, into tally: inout TallyDelta) {
            for contact in derivation.contacts {
                let firstResponder = contact.firstResponder != nil
                if let had = self.contacts[contact.id.rawValue] {
                    if had != firstResponder { tally.firstResponders += firstResponder ? 1 : -1 }
                } else {
                    tally.contact(firstResponder: firstResponder, 1)
                }
                for o in contact.obligations {
                    if let old = self.obligations[o.id] { tally.obligation(old.state, breached: old.breached, -1) }
                    tally.obligation(o.state, breached: o.breachedAt != nil, 1)
                }
            }
            for violation in derivation.violations where !self.violations.contains(violation.id) {
                tally.violations += 1
            }
        }
    }

    static let upsertContact = DerivedRows.upsertContact(differs: "IS NOT")
    static let upsertObligation = DerivedRows.upsertObligation(differs: "IS NOT")
    static let upsertViolation = DerivedRows.upsertViolation(differs: "IS NOT")

    /// Upserts `contact`'s obligations, and its own row unless `row` is false (unchanged).
    static func write(_ contact: Contact, row: Bool, customer: String, db: Database) throws {
        if row { try db.run(Self.upsertContact) { StoredRows.bind(contact, customer: customer, into: &$0) } }
        for o in contact.obligations {
            try db.run(Self.upsertObligation) { StoredRows.bind(o, contact: contact.id, customer: customer, into: &$0) }
        }
    }
}
