import FirstContactCore
import FirstContactStore
import PostgresNIO

/// A condition with its `?` values, in order.
struct Condition {
    var sql: String
    var values: [ScopeSQL.Value] = []

    static let always = Condition(sql: "TRUE")

    static func all(_ conditions: [Condition]) -> Condition {
        guard !conditions.isEmpty else { return .always }
        return Condition(sql: conditions.map(\.sql).joined(separator: " AND "), values: conditions.flatMap(\.values))
    }

    static func scope(_ scope: Scope, contact alias: String) -> Condition {
        let (sql, values) = ScopeSQL.condition(scope, contact: alias)
        return Condition(sql: sql, values: values)
    }

    /// `column IN (?, ?…)` over `texts` (never empty: callers check).
    static func among(_ column: String, _ texts: [String]) -> Condition {
        Condition(
            sql: "\(column) IN (" + texts.map { _ in "?" }.joined(separator: ", ") + ")",
            values: texts.map { .text($0) })
    }

    func bind(_ binder: inout PostgresBinder) {
        for value in self.values {
            switch value {
            case .text(let text): binder.add(text)
            case .int(let number): binder.add(number)
            }
        }
    }
}

extension PostgresContactStore {
    static let contactColumns = """
        rowid, id, customer_key, customer, customer_raw, channel, department, category, status, repeat_of, fr_agent,
        fr_bound_at, fr_via, fr_call, ring_no_answer, calls, created_at, last_activity, closed_at
        """
    static let obligationColumns = """
        rowid, id, contact_id, customer_key, kind, owner_department, owner_agent, created_at, due_at, ack_due_at,
        acknowledged_at, state, at_risk, uncertain, satisfied_at, satisfied_by, satisfied_via, attempts, missed_count,
        escalation_level, breached_at, call_key, callback_number
        """

    package func snapshot() async throws -> StoreSnapshot {
        try await self.read { tx in
            let contacts = try await Self.contacts(tx, where: .always, limit: nil)
            let violations = try await Self.violations(tx, where: .always)
            var rejects: [Reject] = []
            for row in try await tx.rows(
                """
                SELECT s.name, r.byte_offset, r.line, r.reason, r.raw, r.raw_length, r.raw_sha256
                FROM reject r JOIN source s ON s.id = r.source_id ORDER BY s.name, r.byte_offset
                """
            ) {
                let c = Columns(row)
                let raw = try c.bytes(4)
                rejects.append(
                    Reject(
                        position: SourcePosition(source: try c.text(0), line: try c.int(2), offset: try c.int64(1)),
                        reason: try c.text(3), keptRaw: raw, rawLength: try c.optionalInt(5) ?? raw.count,
                        rawSHA256: try c.optionalText(6)))
            }
            var dropped: [String: Int] = [:]
            for row in try await tx.rows(
                """
                SELECT s.name, d.dropped FROM reject_dropped d JOIN source s ON s.id = d.source_id WHERE d.dropped > 0
                """)
            {
                let c = Columns(row)
                dropped[try c.text(0)] = try c.int(1)
            }
            return StoreSnapshot(
                contacts: contacts, violations: violations, reviews: try await Self.reviews(tx, where: .always),
                rejects: rejects, clock: try await Self.storedClock(tx), rejectsDropped: dropped)
        }
    }

    package func openContact(of customer: String) async throws -> Contact? {
        try await self.contacts(ContactQuery(statuses: RouteDecision.openStatuses, customer: customer)).last
    }

    package func contacts(_ query: ContactQuery) async throws -> [Contact] {
        var conditions: [Condition] = []
        if !query.statuses.isEmpty {
            conditions.append(.among("status", query.statuses.map(\.rawValue).sorted()))
        }
        if let department = query.department {
            conditions.append(Condition(sql: "department = ?", values: [.text(department.rawValue)]))
        }
        if let customer = query.customer {
            conditions.append(Condition(sql: "customer_key = ?", values: [.text(customer)]))
        }
        if let from = query.createdFrom {
            conditions.append(Condition(sql: "created_at >= ?", values: [.int(Int(from.seconds))]))
        }
        if let before = query.createdBefore {
            conditions.append(Condition(sql: "created_at < ?", values: [.int(Int(before.seconds))]))
        }
        if !query.scope.isEverything {
            conditions.append(.scope(query.scope, contact: "contact"))
        }
        if let agent = query.agent {
            conditions.append(
                Condition(
                    sql: "(fr_agent = ? OR id IN (SELECT contact_id FROM obligation WHERE owner_agent = ?))",
                    values: [.text(agent.rawValue), .text(agent.rawValue)]))
        }
        if !query.obligationStates.isEmpty || query.obligationKind != nil {
            var inner: [Condition] = []
            if !query.obligationStates.isEmpty {
                inner.append(.among("state", query.obligationStates.map(\.rawValue).sorted()))
            }
            if let kind = query.obligationKind {
                inner.append(Condition(sql: "kind = ?", values: [.text(kind.rawValue)]))
            }
            let all = Condition.all(inner)
            conditions.append(
                Condition(sql: "id IN (SELECT contact_id FROM obligation WHERE \(all.sql))", values: all.values))
        }
        if let after = query.after {
            conditions.append(
                Condition(
                    sql: "(created_at > ? OR (created_at = ? AND id > ?))",
                    values: [
                        .int(Int(after.createdAt.seconds)), .int(Int(after.createdAt.seconds)),
                        .text(after.id.rawValue),
                    ]))
        }
        let condition = Condition.all(conditions)
        let limit = query.limit
        return try await self.read { tx in try await Self.contacts(tx, where: condition, limit: limit) }
    }

    package func obligationPage(
        states: Set<ObligationState>, scope: Scope, after: ObligationPosition?, limit: Int
    ) async throws -> [Obligation] {
        var conditions: [Condition] = []
        if !states.isEmpty {
            conditions.append(.among("o.state", states.map(\.rawValue).sorted()))
        }
        conditions.append(.scope(scope, contact: "c"))
        if let after {
            conditions.append(
                Condition(
                    sql: "(o.created_at, o.id) > (?, ?)",
                    values: [.int(Int(after.createdAt.seconds)), .text(after.id.rawValue)]))
        }
        let condition = Condition.all(conditions)
        let columns = Self.obligationColumns.split(separator: ",").map {
            "o." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }.joined(separator: ", ")
        return try await self.read { tx in
            try await tx.rows(
                """
                SELECT \(columns) FROM obligation o JOIN contact c ON c.id = o.contact_id
                WHERE \(condition.sql) ORDER BY o.created_at, o.id LIMIT ?
                """
            ) {
                condition.bind(&$0)
                $0.add(max(0, limit))
            }.map { try Self.obligation(Columns($0)) }
        }
    }

    package func contactIDs(_ ids: Set<ContactID>, in scope: Scope) async throws -> Set<ContactID> {
        guard !ids.isEmpty else { return [] }
        let names = ids.map(\.rawValue).sorted()
        let condition = Condition.scope(scope, contact: "c")
        return try await self.read { tx in
            Set(
                try await tx.rows("SELECT c.id FROM contact c WHERE c.id = ANY(?) AND \(condition.sql)") {
                    $0.add(names)
                    condition.bind(&$0)
                }.map {
                    ContactID(try Columns($0).text(0))
                })
        }
    }

    package func violations() async throws -> (violations: [Violation], reviews: [ViolationID: ViolationReview]) {
        try await self.read { tx in
            (try await Self.violations(tx, where: .always), try await Self.reviews(tx, where: .always))
        }
    }

    package func violation(_ id: ViolationID) async throws -> Violation? {
        try await self.read { tx in
            try await Self.violations(tx, where: Condition(sql: "id = ?", values: [.text(id.rawValue)])).first
        }
    }

    package func contact(_ id: ContactID, correlator: Correlator) async throws -> ContactDetail? {
        try await self.read { tx in
            let byID = Condition(sql: "id = ?", values: [.text(id.rawValue)])
            guard var contact = try await Self.contacts(tx, where: byID, limit: 1).first,
                let customer = try await tx.value(
                    String.self, "SELECT customer_key FROM contact WHERE id = ?",
                    {
                        $0.add(id.rawValue)
                    })
            else { return nil }
            // The trail is not stored: derive the customer again, explaining, at the stored clock.
            let purged = try await tx.rows(
                "SELECT purged_before, purged_contact, purged_closed FROM customer WHERE customer_key = ?"
            ) { $0.add(customer) }.first.flatMap { try Self.settledPast(Columns($0), from: 0) }
            let since = purged?.before ?? .beforeAnyRecord
            let assembler = CallAssembler(directory: correlator.directory)
            let calls = assembler.assembleCalls(try await Self.records(ofCustomer: customer, since: since, tx: tx))
            let clock = try await Self.storedClock(tx) ?? Timestamp(seconds: .min / 2)
            let gaps = try await Self.storedGaps(tx)
            let ivr = try await Self.ivrEvents(ofCustomer: customer, since: since, tx: tx)
            let related =
                ivr.isEmpty
                ? []
                : try await Self.relatedCalls(
                    ofCustomer: customer, keyedSince: since, since: since, tables: RecordTables(),
                    assembler: assembler, tx: tx)
            let hold = try await Self.backfillHold(
                clock: clock, lateness: correlator.directory.policy.lateness, tx: tx)
            let derivation = correlator.derive(
                customerKey: customer, calls: calls,
                actions: try await Self.actions(ofCustomer: customer, since: since, tx: tx), ivr: ivr,
                related: related, gaps: gaps, clock: clock, explaining: true, after: purged,
                undecided: try await Self.undecidedCalls(of: customer, hold: hold, tx: tx),
                undecidedDueBy: hold?.lastArrival ?? .beforeAnyRecord)
            let derived = derivation.contacts.first { $0.id == id }
            contact.why = derived?.why ?? []
            contact.resolution = derived?.resolution
            let registrations = Dictionary(
                (derived?.obligations ?? []).compactMap { o in o.registration.map { (o.id, $0) } },
                uniquingKeysWith: { a, _ in a })
            for o in contact.obligations.indices {
                contact.obligations[o].registration = registrations[contact.obligations[o].id]
            }
            let violations = try await Self.violations(
                tx, where: Condition(sql: "contact_id = ?", values: [.text(id.rawValue)]))
            let amendments = try await tx.rows("SELECT at, message FROM amendment WHERE contact_id = ? ORDER BY seq") {
                $0.add(id.rawValue)
            }.map { row in
                let c = Columns(row)
                return WhyEntry(at: Timestamp(seconds: try c.int64(0)), rule: .lateRecord, message: try c.text(1))
            }
            let reviews = try await Self.reviews(
                tx,
                where: Condition(
                    sql: "violation_id IN (SELECT id FROM violation WHERE contact_id = ?)", values: [.text(id.rawValue)]
                ))
            return ContactDetail(contact: contact, violations: violations, reviews: reviews, amendments: amendments)
        }
    }

    package func totals() async throws -> StoreTotals {
        try await self.read { tx in
            func count(_ sql: String) async throws -> Int { Int(try await tx.value(Int64.self, sql) ?? 0) }
            var totals = StoreTotals()
            totals.records = try await count(
                "SELECT (SELECT count(*) FROM leg) + (SELECT count(*) FROM queue_event) + (SELECT count(*) FROM sip_event) + (SELECT count(*) FROM cel_event)"
            )
            totals.calls = try await count(
                "SELECT count(*) FROM call WHERE customer_key IS NOT NULL OR direction IS NOT NULL")
            totals.contacts = try await count("SELECT count(*) FROM contact")
            totals.firstResponders = try await count("SELECT count(*) FROM contact WHERE fr_agent IS NOT NULL")
            for row in try await tx.rows("SELECT state, count(*), min(rowid) FROM obligation GROUP BY state") {
                let c = Columns(row)
                let state: ObligationState = try StoredRows.decode(
                    try c.text(0), column: "state", table: "obligation", rowid: try c.int64(2))
                totals.obligationsByState[state] = try c.int(1)
            }
            totals.violations = try await count("SELECT count(*) FROM violation")
            totals.rejects = try await count("SELECT count(*) FROM reject")
            totals.rejectsDropped = try await count("SELECT coalesce(sum(dropped), 0)::bigint FROM reject_dropped")
            totals.breaches = try await count("SELECT count(*) FROM obligation WHERE breached_at IS NOT NULL")
            totals.deadLetters = try await count("SELECT count(*) FROM webhook_dead_letter")
            return totals
        }
    }

    // MARK: Row mapping

    static func contacts(_ tx: PostgresTransaction, where condition: Condition, limit: Int?) async throws -> [Contact] {
        let rows = try await tx.rows(
            "SELECT \(Self.contactColumns) FROM contact WHERE \(condition.sql) ORDER BY created_at, id"
                + (limit == nil ? "" : " LIMIT ?")
        ) {
            condition.bind(&$0)
            if let limit { $0.add(limit) }
        }
        guard !rows.isEmpty else { return [] }
        var contacts: [Contact] = []
        var ids: [String] = []
        for row in rows {
            let c = Columns(row)
            let rowid = try c.int64(0)
            let id = try c.text(1)
            ids.append(id)
            var contact = Contact(
                id: ContactID(id), customer: CustomerNumber(text: try c.text(3)), customerRaw: try c.text(4),
                channel: try StoredRows.decode(try c.text(5), column: "channel", table: "contact", rowid: rowid),
                department: try c.optionalText(6).map { DepartmentID($0) },
                category: try StoredRows.decode(try c.text(7), column: "category", table: "contact", rowid: rowid),
                createdAt: Timestamp(seconds: try c.int64(16)))
            contact.status = try StoredRows.decode(try c.text(8), column: "status", table: "contact", rowid: rowid)
            contact.repeatOf = try c.optionalText(9).map { ContactID($0) }
            if let agent = try c.optionalText(10), let bound = try c.optionalInt64(11) {
                contact.firstResponder = FirstResponder(
                    agent: AgentID(agent), boundAt: Timestamp(seconds: bound),
                    via: try StoredRows.decode(try c.text(12), column: "fr_via", table: "contact", rowid: rowid),
                    call: try c.optionalText(13).map { CallKey($0) })
            }
            contact.ringNoAnswer = try c.text(14).split(separator: ",").map { AgentID(String($0)) }
            contact.calls = try c.text(15).split(separator: ",").map { CallKey(rawValue: String($0)) }
            contact.lastActivity = Timestamp(seconds: try c.int64(17))
            contact.closedAt = try c.optionalInt64(18).map(Timestamp.init(seconds:))
            contacts.append(contact)
        }
        var obligations: [String: [Obligation]] = [:]
        let wanted = Set(ids)
        let obligationRows: [PostgresRow]
        if limit == nil {
            obligationRows = try await tx.rows(
                "SELECT \(Self.obligationColumns) FROM obligation ORDER BY contact_id, created_at, id")
        } else {
            let wanted = ids
            obligationRows = try await tx.rows(
                "SELECT \(Self.obligationColumns) FROM obligation WHERE contact_id = ANY(?) ORDER BY contact_id, created_at, id"
            ) { $0.add(wanted) }
        }
        for row in obligationRows {
            let c = Columns(row)
            let contact = try c.text(2)
            if wanted.contains(contact) { obligations[contact, default: []].append(try Self.obligation(c)) }
        }
        for index in contacts.indices {
            contacts[index].obligations = obligations[contacts[index].id.rawValue] ?? []
        }
        return contacts
    }

    /// An obligation from the columns of ``obligationColumns``.
    static func obligation(_ c: Columns) throws -> Obligation {
        let rowid = try c.int64(0)
        var o = Obligation(
            id: ObligationID(try c.text(1)),
            kind: try StoredRows.decode(try c.text(4), column: "kind", table: "obligation", rowid: rowid),
            owner: Owner(department: DepartmentID(try c.text(5)), agent: try c.optionalText(6).map { AgentID($0) }),
            createdAt: Timestamp(seconds: try c.int64(7)), dueAt: Timestamp(seconds: try c.int64(8)),
            ackDueAt: try c.optionalInt64(9).map(Timestamp.init(seconds:)),
            call: CallKey(rawValue: try c.text(21)))
        o.acknowledgedAt = try c.optionalInt64(10).map(Timestamp.init(seconds:))
        var satisfaction: Obligation.Satisfaction?
        if let at = try c.optionalInt64(14) {
            guard let by = try c.optionalText(15), let via = try c.optionalText(16) else {
                throw StoreError.corrupt(
                    table: "obligation", rowid: rowid, reason: "satisfied with no satisfied_by or satisfied_via")
            }
            satisfaction = Obligation.Satisfaction(
                at: Timestamp(seconds: at), by: AgentID(by),
                via: try StoredRows.decode(via, column: "satisfied_via", table: "obligation", rowid: rowid))
        }
        let state: ObligationState = try StoredRows.decode(
            try c.text(11), column: "state", table: "obligation", rowid: rowid)
        guard
            let standing = Obligation.Standing(
                state: state, atRisk: try c.bool(12), satisfaction: satisfaction,
                breachedAt: try c.optionalInt64(20).map(Timestamp.init(seconds:)),
                escalationLevel: try c.int(19))
        else {
            throw StoreError.corrupt(
                table: "obligation", rowid: rowid, reason: "state \(state.rawValue) contradicts its other columns")
        }
        o.standing = standing
        o.uncertain = try c.bool(13)
        o.attempts = try c.int(17)
        o.missedCount = try c.int(18)
        o.callbackNumber = try c.optionalText(22).map { CustomerNumber(text: $0) }
        return o
    }

    static func violations(_ tx: PostgresTransaction, where condition: Condition) async throws -> [Violation] {
        try await tx.rows(
            """
            SELECT rowid, id, obligation_id, contact_id, category, department, agent, at, remedied_at FROM violation
            WHERE \(condition.sql) ORDER BY at, id
            """
        ) { condition.bind(&$0) }.map { row in
            let c = Columns(row)
            var violation = Violation(
                id: ViolationID(try c.text(1)), obligation: try c.optionalText(2).map { ObligationID($0) },
                contact: ContactID(try c.text(3)),
                category: try StoredRows.decode(
                    try c.text(4), column: "category", table: "violation", rowid: try c.int64(0)),
                department: DepartmentID(try c.text(5)), agent: try c.optionalText(6).map { AgentID($0) },
                at: Timestamp(seconds: try c.int64(7)))
            violation.remediedAt = try c.optionalInt64(8).map { Timestamp(seconds: $0) }
            return violation
        }
    }

    static func reviews(_ tx: PostgresTransaction, where condition: Condition) async throws
        -> [ViolationID: ViolationReview]
    {
        var result: [ViolationID: ViolationReview] = [:]
        for row in try await tx.rows(
            "SELECT violation_id, decision, reason, reviewed_by, at FROM violation_review WHERE \(condition.sql)",
            {
                condition.bind(&$0)
            })
        {
            let c = Columns(row)
            let id = try c.text(0)
            let decision: ViolationReview.Decision = try StoredRows.decode(
                try c.text(1), column: "decision of violation \(id)", table: "violation_review", rowid: nil)
            result[ViolationID(id)] = ViolationReview(
                decision: decision, reason: try c.text(2), by: try c.text(3), at: Timestamp(seconds: try c.int64(4)))
        }
        return result
    }
}
