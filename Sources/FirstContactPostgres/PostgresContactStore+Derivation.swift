import FirstContactCore
import FirstContactStore
import PostgresNIO

/// The clock and derivation: customers with new records or due checks derived again from their
/// records, their derived rows replaced, what changed written to the amendments and the outbox.
extension PostgresContactStore {
    typealias BackfillHold = SQLiteContactStore.BackfillHold

    package func advanceClock(to time: Timestamp, correlator: Correlator) async throws -> ClockOutcome {
        let first = try await self.write { tx in try await Self.clockStep(to: time, correlator: correlator, tx: tx) }
        return try await self.finishClock(after: first, correlator: correlator)
    }

    package func ingest(batches: [[IngestRecord]], advancingClockTo time: Timestamp, correlator: Correlator)
        async throws -> (batches: [Result<BatchOutcome, any Error>], clock: ClockOutcome)
    {
        let live = self.live
        let (results, first) = try await self.write { tx in
            let results = try await Self.ingest(batches: batches, correlator: correlator, live: live, tx: tx)
            return (results, try await Self.clockStep(to: time, correlator: correlator, tx: tx))
        }
        return (results, try await self.finishClock(after: first, correlator: correlator))
    }

    struct ClockStep: Sendable {
        var clock: Timestamp
        var gaps: [FeedGap]
        var hold: BackfillHold?
        var outcome: ClockOutcome
        var dirtyDone: Bool
        var dueDone: Bool
    }

    /// Customers derived per transaction (as on SQLite).
    static let derivationChunk = 10_000

    enum CustomerSelection: Sendable {
        case dirty
        case due
    }

    static func clockStep(to time: Timestamp, correlator: Correlator, tx: PostgresTransaction) async throws
        -> ClockStep
    {
        // Read and moved in one statement that keeps the row locked to commit: two instances'
        // steps at once never set the clock back (a later step at an older time keeps the newer).
        let moved = try await tx.value(
            String.self,
            """
            INSERT INTO meta (key, value) VALUES ('clock', ?) ON CONFLICT (key)
            DO UPDATE SET value = GREATEST(meta.value::bigint, excluded.value::bigint)::text RETURNING value
            """
        ) { $0.add(String(time.seconds)) }
        guard let text = moved, let seconds = Int64(text) else {
            throw StoreError.corrupt(table: "meta", rowid: nil, reason: "clock \"\(moved ?? "")\" is not epoch seconds")
        }
        let clock = Timestamp(seconds: seconds)
        let gaps = try await Self.checkFeeds(correlator.directory.configuration, clock: clock, tx: tx)
        let hold = try await Self.backfillHold(clock: clock, lateness: correlator.directory.policy.lateness, tx: tx)
        var step = ClockStep(
            clock: clock, gaps: gaps, hold: hold, outcome: ClockOutcome(clock: clock), dirtyDone: false,
            dueDone: false)
        let dirty = try await Self.deriveChunk(
            .dirty, clock: clock, gaps: gaps, hold: hold, correlator: correlator, tx: tx)
        step.outcome.derived = dirty.derived
        step.outcome.amendments = dirty.amendments
        step.dirtyDone = dirty.derived < Self.derivationChunk
        if step.dirtyDone {
            let due = try await Self.deriveChunk(
                .due, clock: clock, gaps: gaps, hold: hold, correlator: correlator, tx: tx)
            step.outcome.derived += due.derived
            step.outcome.amendments += due.amendments
            step.dueDone = due.derived < Self.derivationChunk
        }
        return step
    }

    private func finishClock(after first: ClockStep, correlator: Correlator) async throws -> ClockOutcome {
        var outcome = first.outcome
        for (selection, done) in [(CustomerSelection.dirty, first.dirtyDone), (.due, first.dueDone)] where !done {
            while true {
                let chunk = try await self.write { tx in
                    // Another writer, here or on another instance, may have moved the clock on
                    // since the first step: deriving at the older clock could take back a breach.
                    var (clock, gaps, hold) = (first.clock, first.gaps, first.hold)
                    if let stored = try await Self.storedClock(tx), stored > clock {
                        clock = stored
                        gaps = try await Self.checkFeeds(correlator.directory.configuration, clock: clock, tx: tx)
                        hold = try await Self.backfillHold(
                            clock: clock, lateness: correlator.directory.policy.lateness, tx: tx)
                    }
                    return try await Self.deriveChunk(
                        selection, clock: clock, gaps: gaps, hold: hold, correlator: correlator, tx: tx)
                }
                outcome.derived += chunk.derived
                outcome.amendments += chunk.amendments
                if chunk.derived < Self.derivationChunk { break }
            }
        }
        return outcome
    }

    static func deriveChunk(
        _ selection: CustomerSelection, clock: Timestamp, gaps: [FeedGap], hold: BackfillHold?,
        correlator: Correlator, tx: PostgresTransaction
    ) async throws -> ClockOutcome {
        var chunk = ClockOutcome(clock: clock)
        let tables = try await RecordTables.present(tx)
        // Each chosen customer's row is locked for the rest of the transaction, and its columns
        // are read under the lock: two instances never derive one customer at once (another
        // takes other customers: SKIP LOCKED), and an ingest marking the customer dirty meanwhile
        // waits for this commit instead of being undone by it.
        let rows: [PostgresRow]
        switch selection {
        case .dirty:
            rows = try await tx.rows(
                """
                SELECT customer_key, derived, settled_before, settled_contact, settled_closed, resume_before,
                \(StoredRows.resumeState("customer"))
                FROM customer WHERE dirty ORDER BY customer_key LIMIT ? FOR UPDATE SKIP LOCKED
                """
            ) { $0.add(Self.derivationChunk) }
        case .due:
            rows = try await tx.rows(
                """
                SELECT customer_key, derived, settled_before, settled_contact, settled_closed, resume_before,
                \(StoredRows.resumeState("customer"))
                FROM customer WHERE next_check IS NOT NULL AND next_check <= ?
                ORDER BY next_check, customer_key LIMIT ? FOR UPDATE SKIP LOCKED
                """
            ) {
                $0.add(clock.seconds)
                $0.add(Self.derivationChunk)
            }
        }
        for row in rows {
            let c = Columns(row)
            let inputs = try await Self.derivationInputs(
                try c.text(0), replacing: try c.bool(1), past: try Self.settledPast(c, from: 2),
                resume: ResumeState.point(before: try c.optionalInt64(5), bytes: try c.optionalBytes(6)),
                correlator: correlator, hold: hold, tables: tables, tx: tx)
            let computed = inputs.derive(
                correlator: correlator, clock: clock, gaps: gaps, undecidedDueBy: hold?.lastArrival ?? .beforeAnyRecord)
            chunk.amendments += try await Self.writeDerivation(computed, of: inputs, clock: clock, hold: hold, tx: tx)
            chunk.derived += 1
        }
        return chunk
    }

    static func settledPast(_ c: Columns, from column: Int) throws -> SettledPast? {
        StoredRows.settledPast(
            before: try c.optionalInt64(column), contact: try c.optionalText(column + 1),
            closed: try c.optionalInt64(column + 2))
    }

    /// Reads what re-deriving a customer takes (see ``SQLiteContactStore``'s `derivationInputs`),
    /// a customer whose row the transaction holds locked (``deriveChunk``).
    static func derivationInputs(
        _ customer: String, replacing: Bool, past: SettledPast?, resume: ResumePoint?, correlator: Correlator,
        hold: BackfillHold?, tables: RecordTables, tx: PostgresTransaction
    ) async throws -> DerivationInputs {
        var inputs = DerivationInputs(
            customer: customer, replacing: replacing, past: past, stored: resume, correlator: correlator)
        let from = inputs.from
        inputs.records = try await Self.records(ofCustomer: customer, since: from, tables: tables, tx: tx)
        inputs.actions = tables.actions ? try await Self.actions(ofCustomer: customer, since: from, tx: tx) : []
        inputs.ivr = tables.ivr ? try await Self.ivrEvents(ofCustomer: customer, since: from, tx: tx) : []
        if inputs.readsRelated {
            inputs.related = try await Self.relatedRecords(
                ofCustomer: customer, keyedSince: inputs.since, since: from, tables: tables, tx: tx)
        }
        inputs.undecided = try await Self.undecidedCalls(of: customer, hold: hold, tx: tx)
        return inputs
    }

    /// Replaces the derived rows of a customer's contacts after the settled past with those of
    /// `computed`, the derivation of `inputs` (see ``SQLiteContactStore``'s `writeDerivation`).
    /// - Returns: the number of amendments recorded.
    static func writeDerivation(
        _ computed: ComputedDerivation, of inputs: DerivationInputs, clock: Timestamp, hold: BackfillHold?,
        tx: PostgresTransaction
    ) async throws -> Int {
        let customer = inputs.customer
        let since = inputs.since
        let replacing = inputs.replacing
        let derivation = computed.derivation
        let rows = computed.rows
        let written: Derivation
        let amendments: Int
        if replacing, let rows {
            let previous = try await Self.previousConclusions(of: customer, rows, tx: tx)
            amendments = try await Self.recordChanges(customer, from: previous, to: rows.changed, clock: clock, tx: tx)
            try await Self.delete(
                DerivedRows.underived(
                    previous: previous, storedContacts: rows.allStoredContacts, derivation: derivation),
                tx: tx)
            written = rows.changed
        } else {
            let previous =
                replacing
                ? try await Self.previousConclusions(of: customer, since: since, tx: tx) : PreviousConclusions()
            amendments = try await Self.recordChanges(customer, from: previous, to: derivation, clock: clock, tx: tx)
            if replacing {
                let stored = try await tx.rows("SELECT id FROM contact WHERE customer_key = ? AND created_at >= ?") {
                    $0.add(customer)
                    $0.add(since.seconds)
                }.map { try Columns($0).text(0) }
                try await Self.delete(
                    DerivedRows.underived(previous: previous, storedContacts: stored, derivation: derivation), tx: tx)
            }
            written = derivation
        }
        if computed.filesNothing, try await Self.isForgotten(customer, tx: tx) {
            try await tx.run("DELETE FROM customer WHERE customer_key = ?") { $0.add(customer) }
            return 0
        }
        for contact in written.contacts {
            if rows?.contactRows.contains(contact.id) ?? true {
                try await tx.run(Self.upsertContact) { StoredRows.bind(contact, customer: customer, into: &$0) }
            }
            for o in contact.obligations {
                try await tx.run(Self.upsertObligation) {
                    StoredRows.bind(o, contact: contact.id, customer: customer, into: &$0)
                }
            }
        }
        for violation in written.violations {
            try await tx.run(Self.upsertViolation) { StoredRows.bind(violation, customer: customer, into: &$0) }
        }
        // Compared with the stored point, not the one used: one walked under other rules is
        // replaced, as it belongs to another settled past.
        let changed = derivation.resume != inputs.stored
        try await tx.run(
            "UPDATE customer SET dirty = FALSE, derived = TRUE, \(StoredRows.derivedColumns(resume: changed)) WHERE customer_key = ?"
        ) {
            StoredRows.bindDerived(
                derivation, nextCheck: SQLiteContactStore.nextCheck(derivation, hold: hold), customer: customer,
                resume: changed, into: &$0)
        }
        if changed, let point = derivation.resume {
            try await tx.run(StoredRows.writeResumeState) {
                $0.add(customer)
                $0.add(point.bytes)
            }
        }
        return amendments
    }

    /// Deletes the stored rows a derivation no longer has (``DerivedRows/underived(previous:storedContacts:derivation:)``).
    static func delete(_ underived: DerivedRows.Underived, tx: PostgresTransaction) async throws {
        for id in underived.obligations {
            try await tx.run("DELETE FROM obligation WHERE id = ?") { $0.add(id) }
        }
        for id in underived.violations {
            try await tx.run("DELETE FROM violation WHERE id = ?") { $0.add(id) }
        }
        for id in underived.contacts {
            try await tx.run("DELETE FROM contact WHERE id = ?") { $0.add(id) }
        }
    }

    static func isForgotten(_ customer: String, tx: PostgresTransaction) async throws -> Bool {
        try await tx.value(
            Bool.self,
            """
            SELECT NOT (EXISTS (SELECT 1 FROM call WHERE customer_key = ?1)
                OR EXISTS (SELECT 1 FROM ivr_event WHERE customer_key = ?1)
                OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1))
            """
        ) { $0.add(customer) } ?? false
    }

    static let upsertContact = DerivedRows.upsertContact(differs: "IS DISTINCT FROM")
    static let upsertObligation = DerivedRows.upsertObligation(differs: "IS DISTINCT FROM")
    static let upsertViolation = DerivedRows.upsertViolation(differs: "IS DISTINCT FROM")

    /// See the SQLite store's: the numbers keyed at or after the settled past (`keyedSince`).
    static func relatedCalls(
        ofCustomer customer: String, keyedSince: Timestamp, since: Timestamp, tables: RecordTables,
        assembler: CallAssembler, tx: PostgresTransaction
    ) async throws -> [Call] {
        DerivationInputs.outboundCalls(
            try await Self.relatedRecords(
                ofCustomer: customer, keyedSince: keyedSince, since: since, tables: tables, tx: tx),
            assembler: assembler)
    }

    static func relatedRecords(
        ofCustomer customer: String, keyedSince: Timestamp, since: Timestamp, tables: RecordTables,
        tx: PostgresTransaction
    ) async throws -> [[(CallKey, [CallRecord])]] {
        let numbers = try await tx.rows(
            """
            SELECT DISTINCT callback_key FROM ivr_event
            WHERE customer_key = ? AND time >= ? AND callback_key IS NOT NULL
            """
        ) {
            $0.add(customer)
            $0.add(keyedSince.seconds)
        }.map { try Columns($0).text(0) }
        var related: [[(CallKey, [CallRecord])]] = []
        for number in numbers {
            related.append(try await Self.records(ofCustomer: number, since: since, tables: tables, tx: tx))
        }
        return related
    }

    /// Rows (obligations, violations) of a customer's (`?1`) contacts created at or after a time
    /// (`?2`); an array for the reason given at ``customerCalls``.
    static let earlierContacts =
        "contact_id = ANY (ARRAY(SELECT id FROM contact WHERE customer_key = ?1 AND created_at >= ?2))"

    static func previousConclusions(of customer: String, since: Timestamp, tx: PostgresTransaction) async throws
        -> PreviousConclusions
    {
        var previous = PreviousConclusions()
        let earlier: (inout PostgresBinder) -> Void = {
            $0.add(customer)
            $0.add(since.seconds)
        }
        let obligations =
            "SELECT \(DerivedRows.concludedObligationColumns) FROM obligation WHERE \(Self.earlierContacts)"
        for row in try await tx.rows(obligations, earlier) { try Self.addObligation(row, to: &previous) }
        let violations =
            "SELECT \(DerivedRows.concludedViolationColumns) FROM violation WHERE customer_key = ?1 AND \(Self.earlierContacts)"
        for row in try await tx.rows(violations, earlier) { try Self.addViolation(row, to: &previous) }
        return previous
    }

    /// What the store concluded about the rows `changes` names (see the SQLite store's).
    static func previousConclusions(
        of customer: String, _ changes: DerivedRowChanges, tx: PostgresTransaction
    ) async throws -> PreviousConclusions {
        var previous = PreviousConclusions()
        for id in changes.storedObligations {
            for row in try await tx.rows(
                "SELECT \(DerivedRows.concludedObligationColumns) FROM obligation WHERE id = ?", { $0.add(id.rawValue) }
            ) {
                try Self.addObligation(row, to: &previous)
            }
        }
        for contact in changes.storedViolationsOf {
            for row in try await tx.rows(
                "SELECT \(DerivedRows.concludedViolationColumns) FROM violation WHERE customer_key = ? AND contact_id = ?",
                {
                    $0.add(customer)
                    $0.add(contact.rawValue)
                })
            {
                try Self.addViolation(row, to: &previous)
            }
        }
        return previous
    }

    private static func addObligation(_ row: PostgresRow, to previous: inout PreviousConclusions) throws {
        let c = Columns(row)
        previous.obligations[ObligationID(try c.text(0))] = PreviousConclusions.Obligation(
            state: try StoredRows.decode(try c.text(1), column: "state", table: "obligation", rowid: try c.int64(6)),
            contact: ContactID(try c.text(2)), atRisk: try c.bool(3),
            escalationLevel: try c.int(4), acknowledged: try c.bool(5),
            owner: Owner(department: DepartmentID(try c.text(7)), agent: try c.optionalText(8).map { AgentID($0) }),
            breached: try c.bool(9))
    }

    private static func addViolation(_ row: PostgresRow, to previous: inout PreviousConclusions) throws {
        let c = Columns(row)
        previous.violations[ViolationID(try c.text(0))] = PreviousConclusions.Violation(
            category: try StoredRows.decode(
                try c.text(1), column: "category", table: "violation", rowid: try c.int64(3)),
            contact: ContactID(try c.text(2)))
    }

    static func recordChanges(
        _ customer: String, from previous: PreviousConclusions, to derivation: Derivation, clock: Timestamp,
        tx: PostgresTransaction
    ) async throws -> Int {
        let changes = DerivationChanges(from: previous, to: derivation, clock: clock)
        for amendment in changes.amendments {
            try await tx.run(
                "INSERT INTO amendment (customer_key, contact_id, obligation_id, at, message) VALUES (?, ?, ?, ?, ?)"
            ) {
                $0.add(customer)
                $0.add(amendment.contact.rawValue)
                $0.add(amendment.obligation?.rawValue)
                $0.add(clock.seconds)
                $0.add(amendment.message)
            }
        }
        for notice in changes.notices {
            try await Self.announce(notice, customer: customer, tx: tx)
        }
        return changes.amendments.count
    }

    package func announce(_ announcements: [Announcement]) async throws {
        guard !announcements.isEmpty else { return }
        try await self.write { tx in
            for announcement in announcements {
                try await Self.announce(announcement.notice, customer: announcement.customerKey, tx: tx)
            }
        }
    }

    /// Writes a notification to the outbox unless its key is there already, when the transaction
    /// commits (``PostgresTransaction/writeOutbox()``: the outbox is numbered in commit order).
    static func announce(_ notice: Notice, customer: String?, tx: PostgresTransaction) async throws {
        await tx.outbox.append(notice, customer: customer)
    }

    // MARK: Feeds

    static func checkFeeds(_ configuration: FirstContactConfiguration, clock: Timestamp, tx: PostgresTransaction)
        async throws -> [FeedGap]
    {
        guard !configuration.feeds.isEmpty else { return [] }
        var all: [FeedGap] = []
        var changed = false
        for feed in configuration.feeds {
            let activity = try await tx.rows(
                """
                SELECT minute FROM source_activity WHERE source_id = (SELECT id FROM source WHERE name = ?)
                ORDER BY minute
                """
            ) {
                $0.add(feed.source)
            }.map { Timestamp(seconds: try Columns($0).int64(0) * 60) }
            let hours: BusinessHours =
                feed.calendar.flatMap { configuration.calendars[$0] }.map { .calendar($0) } ?? .always
            let gaps = FeedHealth.gaps(
                feed: feed.name, activity: activity, silence: feed.silence, hours: hours, clock: clock)
            all += gaps
            let stored = try await tx.rows("SELECT from_at, to_at FROM feed_gap WHERE feed = ? ORDER BY from_at") {
                $0.add(feed.name)
            }.map { row in
                let c = Columns(row)
                return FeedGap(
                    feed: feed.name, from: Timestamp(seconds: try c.int64(0)),
                    to: try c.optionalInt64(1).map { Timestamp(seconds: $0) })
            }
            guard stored != gaps else { continue }
            changed = true
            if let from = Set(stored).symmetricDifference(gaps).map(\.from).min() {
                try await tx.run(
                    """
                    UPDATE customer SET settled_before = purged_before, settled_contact = purged_contact,
                    settled_closed = purged_closed WHERE settled_before > ?
                    """
                ) { $0.add(from.seconds) }
                try await tx.run(
                    "UPDATE customer SET resume_before = NULL WHERE resume_before > ?"
                ) {
                    $0.add(from.seconds)
                }
            }
            try await tx.run("DELETE FROM feed_gap WHERE feed = ?") { $0.add(feed.name) }
            for gap in gaps {
                try await tx.run("INSERT INTO feed_gap (feed, from_at, to_at) VALUES (?, ?, ?)") {
                    $0.add(gap.feed)
                    $0.add(gap.from.seconds)
                    $0.add(gap.to?.seconds)
                }
                for notice in gap.notices(feed) { try await Self.announce(notice, customer: nil, tx: tx) }
            }
        }
        if changed {
            try await tx.run(
                "UPDATE customer SET dirty = TRUE WHERE customer_key IN (SELECT customer_key FROM obligation WHERE uncertain)"
            )
        }
        return all
    }

    static func storedGaps(_ tx: PostgresTransaction) async throws -> [FeedGap] {
        try await tx.rows("SELECT feed, from_at, to_at FROM feed_gap ORDER BY feed, from_at").map { row in
            let c = Columns(row)
            return FeedGap(
                feed: try c.text(0), from: Timestamp(seconds: try c.int64(1)),
                to: try c.optionalInt64(2).map { Timestamp(seconds: $0) })
        }
    }

    // MARK: Clock readings

    package func clock() async throws -> Timestamp? {
        try await self.read { tx in try await Self.storedClock(tx) }
    }

    package func awaitingDerivation() async throws -> Int {
        try await self.read { tx in
            Int(try await tx.value(Int64.self, "SELECT count(*) FROM customer WHERE dirty") ?? 0)
        }
    }

    package func latestEventTime() async throws -> Timestamp? {
        try await self.read { tx in try await Self.metaTime(tx, "latest_event") }
    }

    package func nextCheck() async throws -> Timestamp? {
        try await self.read { tx in
            try await tx.value(Int64.self, "SELECT min(next_check) FROM customer WHERE next_check IS NOT NULL").map {
                Timestamp(seconds: $0)
            }
        }
    }
}
