import FirstContactCore
import Foundation
import GRDB

extension SQLiteContactStore {
    package func snapshot() async throws -> StoreSnapshot {
        try await self.reader.read { db in
            let contacts = try Self.contacts(db, where: "1", limit: nil)
            let violations = try Self.violations(db, where: "1")
            var rejects: [Reject] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT s.name AS source, r.* FROM reject r JOIN source s ON s.id = r.source_id
                    ORDER BY s.name, r.byte_offset
                    """)
            while let row = try rows.next() {
                let raw: Data = row["raw"]
                let length: Int? = row["raw_length"]
                rejects.append(
                    Reject(
                        position: SourcePosition(source: row["source"], line: row["line"], offset: row["byte_offset"]),
                        reason: row["reason"], keptRaw: [UInt8](raw), rawLength: length ?? raw.count,
                        rawSHA256: row["raw_sha256"]))
            }
            var dropped: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.name AS source, d.dropped FROM reject_dropped d JOIN source s ON s.id = d.source_id
                    WHERE d.dropped > 0
                    """)
            {
                dropped[row["source"]] = row["dropped"]
            }
            let clock = try Self.storedClock(db)
            return StoreSnapshot(
                contacts: contacts, violations: violations, reviews: try Self.reviews(db, where: "1"),
                rejects: rejects, clock: clock, rejectsDropped: dropped)
        }
    }

    package func contacts(_ query: ContactQuery) async throws -> [Contact] {
        try await self.reader.read { db in
            // SQL literals: every value is interpolated as a bound argument, never spliced as text.
            var conditions: [SQL] = []
            if !query.statuses.isEmpty {
                conditions.append("status IN \(query.statuses.map(\.rawValue).sorted())")
            }
            if let department = query.department {
                conditions.append("department = \(department.rawValue)")
            }
            if let customer = query.customer {
                conditions.append("customer_key = \(customer)")
            }
            if let from = query.createdFrom {
                conditions.append("created_at >= \(from.seconds)")
            }
            if let before = query.createdBefore {
                conditions.append("created_at < \(before.seconds)")
            }
            if !query.scope.isEverything {
                let (visible, visibleArguments) = Self.condition(query.scope, contact: "contact")
                conditions.append(SQL(sql: visible, arguments: StatementArguments(visibleArguments)))
            }
            if let agent = query.agent {
                conditions.append(
                    "(fr_agent = \(agent.rawValue) OR id IN (SELECT contact_id FROM obligation WHERE owner_agent = \(agent.rawValue)))"
                )
            }
            if !query.obligationStates.isEmpty || query.obligationKind != nil {
                var inner: [SQL] = ["1"]
                if !query.obligationStates.isEmpty {
                    inner.append("state IN \(query.obligationStates.map(\.rawValue).sorted())")
                }
                if let kind = query.obligationKind {
                    inner.append("kind = \(kind.rawValue)")
                }
                conditions.append("id IN (SELECT contact_id FROM obligation WHERE \(inner.joined(separator: " AND ")))")
            }
            if let after = query.after {
                conditions.append(
                    "(created_at > \(after.createdAt.seconds) OR (created_at = \(after.createdAt.seconds) AND id > \(after.id.rawValue)))"
                )
            }
            return try Self.contacts(db, where: Self.all(conditions), limit: query.limit)
        }
    }

    /// The routing path's one read (`GET /v1/route` on every inbound call): prepared once per
    /// reader connection. Built through ``contacts(_:)``'s SQL literal it cost a statement
    /// preparation, and GRDB's authorizer callback per column, on every call (BENCHMARKS.md,
    /// `/v1/route`).
    ///
    /// Read on the calling thread through ``SQLiteDirectReaders`` when one of their connections is
    /// free, else through the pool.
    package func openContact(of customer: String) async throws -> Contact? {
        do {
            if let found = try self.directReaders.read({ db in try Self.openContact(db, customer) }) { return found }
        } catch {
            throw self.pool.mapped(error)
        }
        return try await self.reader.read { db in try Self.openContact(db, customer) }
    }

    private static func openContact(_ db: Database, _ customer: String) throws -> Contact? {
        let rows = try Row.fetchCursor(
            db.cachedStatement(sql: Self.openContactSQL), arguments: StatementArguments([customer] + Self.openStatuses))
        return try Self.contacts(db, rows: rows, everyObligation: false).first
    }

    /// The statuses of an open contact, bound after the customer in ``openContactSQL``.
    private static let openStatuses = RouteDecision.openStatuses.map(\.rawValue).sorted()
    private static let openContactSQL = """
        SELECT rowid, * FROM contact WHERE customer_key = ? AND status IN (\(
            Array(repeating: "?", count: openStatuses.count).joined(separator: ", ")))
        ORDER BY created_at DESC, id DESC LIMIT 1
        """

    package func obligationPage(
        states: Set<ObligationState>, scope: Scope, after: ObligationPosition?, limit: Int
    ) async throws -> [Obligation] {
        try await self.reader.read { db in
            var conditions: [SQL] = []
            if !states.isEmpty {
                conditions.append("o.state IN \(states.map(\.rawValue).sorted())")
            }
            let (visible, visibleArguments) = Self.condition(scope, contact: "c")
            conditions.append(SQL(sql: visible, arguments: StatementArguments(visibleArguments)))
            if let after {
                conditions.append("(o.created_at, o.id) > (\(after.createdAt.seconds), \(after.id.rawValue))")
            }
            let rows = try Row.fetchAll(
                db,
                SQLRequest(
                    literal: """
                        SELECT o.rowid, o.* FROM obligation o JOIN contact c ON c.id = o.contact_id
                        WHERE \(Self.all(conditions))
                        ORDER BY o.created_at, o.id LIMIT \(max(0, limit))
                        """))
            return try rows.map(Self.obligation)
        }
    }

    /// `scope`'s terms as an SQL condition on the contact row aliased `c` (``ScopeSQL``), with its
    /// values as GRDB arguments.
    static func condition(_ scope: Scope, contact c: String) -> (String, [any DatabaseValueConvertible]) {
        let (sql, values) = ScopeSQL.condition(scope, contact: c)
        return (sql, Self.arguments(values))
    }

    /// ``ScopeSQL`` values as GRDB arguments.
    static func arguments(_ values: [ScopeSQL.Value]) -> [any DatabaseValueConvertible] {
        values.map { value -> any DatabaseValueConvertible in
            switch value {
            case .text(let text): text
            case .int(let number): number
            }
        }
    }

    package func contactIDs(_ ids: Set<ContactID>, in scope: Scope) async throws -> Set<ContactID> {
        guard !ids.isEmpty else { return [] }
        return try await self.reader.read { db in
            let (visible, arguments) = Self.condition(scope, contact: "c")
            let names = ids.map(\.rawValue).sorted()
            let found = try String.fetchAll(
                db,
                sql:
                    "SELECT c.id FROM contact c WHERE c.id IN (\(names.map { _ in "?" }.joined(separator: ","))) AND \(visible)",
                arguments: StatementArguments(names.map { $0 as any DatabaseValueConvertible } + arguments))
            return Set(found.map { ContactID($0) })
        }
    }

    package func violations() async throws -> (violations: [Violation], reviews: [ViolationID: ViolationReview]) {
        try await self.reader.read { db in
            (try Self.violations(db, where: "1"), try Self.reviews(db, where: "1"))
        }
    }

    package func violation(_ id: ViolationID) async throws -> Violation? {
        try await self.reader.read { db in try Self.violations(db, where: "id = \(id.rawValue)").first }
    }

    package func contact(_ id: ContactID, correlator: Correlator) async throws -> ContactDetail? {
        try await self.reader.read { db in
            guard var contact = try Self.contacts(db, where: "id = \(id.rawValue)", limit: 1).first,
                let customer = try String.fetchOne(
                    db, sql: "SELECT customer_key FROM contact WHERE id = ?", arguments: [id.rawValue])
            else { return nil }
            // The trail is not stored: derive the customer again, explaining, at the stored clock,
            // from every record still held (after the purged past, when retention removed some).
            let purged = try Row.fetchOne(
                db, sql: "SELECT purged_before, purged_contact, purged_closed FROM customer WHERE customer_key = ?",
                arguments: [customer]
            ).flatMap { Self.settledPast($0, from: 0) }
            let since = purged?.before ?? .beforeAnyRecord
            let assembler = CallAssembler(directory: correlator.directory)
            let calls = assembler.assembleCalls(try Self.records(ofCustomer: customer, since: since, db: db))
            let clock = try Self.storedClock(db) ?? Timestamp(seconds: .min / 2)
            let gaps = try Self.storedGaps(db)
            let ivr = try Self.ivrEvents(ofCustomer: customer, since: since, db: db)
            let related =
                ivr.isEmpty
                ? []
                : try Self.relatedCalls(
                    ofCustomer: customer, keyedSince: since, since: since, tables: RecordTables(),
                    assembler: assembler, db: db)
            let hold = try Self.backfillHold(clock: clock, lateness: correlator.directory.policy.lateness, db: db)
            let derivation = correlator.derive(
                customerKey: customer, calls: calls,
                actions: try Self.actions(ofCustomer: customer, since: since, db: db), ivr: ivr,
                related: related, gaps: gaps, clock: clock, explaining: true, after: purged,
                undecided: try Self.undecidedCalls(of: customer, hold: hold, db: db),
                undecidedDueBy: hold?.lastArrival ?? .beforeAnyRecord)
            let derived = derivation.contacts.first { $0.id == id }
            contact.why = derived?.why ?? []
            // What people recorded is not stored with the contact row: take it from the derivation.
            contact.resolution = derived?.resolution
            let registrations = Dictionary(
                (derived?.obligations ?? []).compactMap { o in o.registration.map { (o.id, $0) } },
                uniquingKeysWith: { a, _ in a })
            for o in contact.obligations.indices {
                contact.obligations[o].registration = registrations[contact.obligations[o].id]
            }
            let violations = try Self.violations(db, where: "contact_id = \(id.rawValue)")
            let amendments = try Row.fetchAll(
                db, sql: "SELECT at, message FROM amendment WHERE contact_id = ? ORDER BY seq", arguments: [id.rawValue]
            ).map { WhyEntry(at: Timestamp(seconds: $0["at"]), rule: .lateRecord, message: $0["message"]) }
            let reviews = try Self.reviews(
                db, where: "violation_id IN (SELECT id FROM violation WHERE contact_id = \(id.rawValue))")
            return ContactDetail(contact: contact, violations: violations, reviews: reviews, amendments: amendments)
        }
    }

    package func totals() async throws -> StoreTotals {
        try await self.reader.read { db in try SQLiteTally.read(db) }
    }

    /// The totals counted from the rows (O(history)): what ``totals()`` keeps must equal it.
    package func countedTotals() async throws -> StoreTotals {
        try await self.reader.read { db in try SQLiteTally.counted(db) }
    }

    // MARK: Row mapping

    /// `conditions` joined with AND ("1" when there are none).
    static func all(_ conditions: [SQL]) -> SQL {
        conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
    }

    static func contacts(_ db: Database, where condition: SQL, limit: Int?) throws -> [Contact] {
        var limitClause: SQL = ""
        if let limit { limitClause = "LIMIT \(limit)" }
        let rows = try Row.fetchCursor(
            db,
            SQLRequest(
                literal: "SELECT rowid, * FROM contact WHERE \(condition) ORDER BY created_at, id \(limitClause)"))
        return try Self.contacts(db, rows: rows, everyObligation: limit == nil)
    }

    /// The contacts of `rows` (`SELECT rowid, * FROM contact`), with their obligations: read in one
    /// ordered pass over every obligation when `everyObligation` (all contacts are wanted), else
    /// by contact.
    ///
    /// Rows are decoded from the cursor, never fetched into an array first: GRDB finds a fetched
    /// row's column by name by lowercasing every column name before it, on every access (a fifth
    /// of a whole export's contact decoding, `perf`), where a cursor's row looks names up in a
    /// table built once per statement.
    static func contacts(_ db: Database, rows: RowCursor, everyObligation: Bool) throws -> [Contact] {
        var contacts = try Array(rows.map(Self.contactWithoutObligations))
        guard !contacts.isEmpty else { return [] }
        let ids = Set(contacts.map(\.id.rawValue))
        var obligations: [String: [Obligation]] = [:]
        func add(_ cursor: RowCursor) throws {
            while let row = try cursor.next() {
                let id: String = row["contact_id"]
                if ids.contains(id) { obligations[id, default: []].append(try Self.obligation(row)) }
            }
        }
        if everyObligation {
            // Every contact: obligations in one ordered pass rather than one query per contact.
            try add(Row.fetchCursor(db, sql: "SELECT rowid, * FROM obligation ORDER BY contact_id, created_at, id"))
        } else {
            let statement = try db.cachedStatement(
                sql: "SELECT rowid, * FROM obligation WHERE contact_id = ? ORDER BY created_at, id")
            for id in ids.sorted() { try add(Row.fetchCursor(statement, arguments: [id])) }
        }
        for index in contacts.indices {
            contacts[index].obligations = obligations[contacts[index].id.rawValue] ?? []
        }
        return contacts
    }

    private static func contactWithoutObligations(_ row: Row) throws -> Contact {
        let id: String = row["id"]
        let customerText: String = row["customer"]
        var contact = Contact(
            id: ContactID(id), customer: CustomerNumber(text: customerText), customerRaw: row["customer_raw"],
            channel: try Self.value(row, "channel", table: "contact"),
            department: (row["department"] as String?).map { DepartmentID($0) },
            category: try Self.value(row, "category", table: "contact"),
            createdAt: Timestamp(seconds: row["created_at"]))
        contact.status = try Self.value(row, "status", table: "contact")
        contact.repeatOf = (row["repeat_of"] as String?).map { ContactID($0) }
        if let agent: String = row["fr_agent"], let bound: Int64 = row["fr_bound_at"] {
            contact.firstResponder = FirstResponder(
                agent: AgentID(agent), boundAt: Timestamp(seconds: bound),
                via: try Self.value(row, "fr_via", table: "contact"),
                call: (row["fr_call"] as String?).map { CallKey($0) })
        }
        let callKeys: String = row["calls"]
        contact.calls = callKeys.split(separator: ",").map { CallKey(rawValue: String($0)) }
        let rung: String = row["ring_no_answer"]
        contact.ringNoAnswer = rung.split(separator: ",").map { AgentID(String($0)) }
        contact.lastActivity = Timestamp(seconds: row["last_activity"])
        contact.closedAt = (row["closed_at"] as Int64?).map(Timestamp.init(seconds:))
        return contact
    }

    static func obligation(_ row: Row) throws -> Obligation {
        var o = Obligation(
            id: ObligationID(row["id"] as String), kind: try Self.value(row, "kind", table: "obligation"),
            owner: Owner(
                department: DepartmentID(row["owner_department"] as String),
                agent: (row["owner_agent"] as String?).map { AgentID($0) }),
            createdAt: Timestamp(seconds: row["created_at"]), dueAt: Timestamp(seconds: row["due_at"]),
            ackDueAt: (row["ack_due_at"] as Int64?).map(Timestamp.init(seconds:)),
            call: CallKey(rawValue: row["call_key"]))
        o.acknowledgedAt = (row["acknowledged_at"] as Int64?).map(Timestamp.init(seconds:))
        var satisfaction: Obligation.Satisfaction?
        if let at: Int64 = row["satisfied_at"] {
            guard let by: String = row["satisfied_by"], let via: String = row["satisfied_via"] else {
                throw StoreError.corrupt(
                    table: "obligation", rowid: row["rowid"], reason: "satisfied with no satisfied_by or satisfied_via")
            }
            satisfaction = Obligation.Satisfaction(
                at: Timestamp(seconds: at), by: AgentID(by),
                via: try StoredRows.decode(via, column: "satisfied_via", table: "obligation", rowid: row["rowid"]))
        }
        let state: ObligationState = try Self.value(row, "state", table: "obligation")
        guard
            let standing = Obligation.Standing(
                state: state, atRisk: row["at_risk"], satisfaction: satisfaction,
                breachedAt: (row["breached_at"] as Int64?).map(Timestamp.init(seconds:)),
                escalationLevel: row["escalation_level"])
        else {
            throw StoreError.corrupt(
                table: "obligation", rowid: row["rowid"],
                reason: "state \(state.rawValue) contradicts its other columns")
        }
        o.standing = standing
        o.uncertain = row["uncertain"]
        o.attempts = row["attempts"]
        o.missedCount = row["missed_count"]
        o.callbackNumber = (row["callback_number"] as String?).map { CustomerNumber(text: $0) }
        return o
    }

    private static func violations(_ db: Database, where condition: SQL) throws -> [Violation] {
        // Decoded from the cursor (see ``contacts(_:rows:everyObligation:)``).
        try Array(
            Row.fetchCursor(
                db, SQLRequest(literal: "SELECT rowid, * FROM violation WHERE \(condition) ORDER BY at, id")
            )
            .map { row in
                var violation = Violation(
                    id: ViolationID(row["id"] as String),
                    obligation: (row["obligation_id"] as String?).map { ObligationID($0) },
                    contact: ContactID(row["contact_id"] as String),
                    category: try Self.value(row, "category", table: "violation"),
                    department: DepartmentID(row["department"] as String),
                    agent: (row["agent"] as String?).map { AgentID($0) },
                    at: Timestamp(seconds: row["at"]))
                violation.remediedAt = (row["remedied_at"] as Int64?).map { Timestamp(seconds: $0) }
                return violation
            })
    }

    /// The enum stored as text in `column` of a row selected with its `rowid`.
    private static func value<T: RawRepresentable>(_ row: Row, _ column: String, table: String) throws -> T
    where T.RawValue == String {
        try StoredRows.decode(row[column], column: column, table: table, rowid: row["rowid"])
    }
}
