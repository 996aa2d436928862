import FirstContactCore
import GRDB

/// What was concluded about a customer before a re-derivation, to tell what changed.
struct PreviousConclusions {
    struct ObligationState {
        var state: FirstContactCore.ObligationState
        var contact: String
        var atRisk: Bool
        var escalationLevel: Int
        var acknowledged: Bool
    }

    var obligations: [String: ObligationState] = [:]
    var violations: [String: (category: String, contact: String)] = [:]
}

/// One notification in the outbox.
package struct OutboxEntry: Hashable, Sendable {
    package enum Kind: String, Hashable, Sendable, CaseIterable {
        case atRisk = "at_risk"
        case breach
        case escalation
        case violation
        case reversal
        case review
        case feedSilent = "feed_silent"
        case feedResumed = "feed_resumed"
        /// An obligation that was owed is met (callback made, customer got through, hand-off contacted).
        case satisfied
        /// A hand-off's receiver has read it (its acknowledge clock stops).
        case acknowledged
        /// The contact was resolved or referred out: what was pending is no longer owed.
        case cancelled
        /// A callback's attempts ran out: supervisor review instead of a breach.
        case exhausted
    }

    package var seq: Int64
    package var key: String
    package var kind: Kind
    package var at: Timestamp
    package var contact: ContactID?
    package var obligation: ObligationID?
    package var violation: ViolationID?
    package var department: DepartmentID?
    package var agent: AgentID?
    package var level: Int?
    package var detail: String
}

extension SQLiteContactStore {
    static func previousConclusions(of customer: String, db: Database) throws -> PreviousConclusions {
        var previous = PreviousConclusions()
        let obligations = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT id, state, contact_id, at_risk, escalation_level, acknowledged_at IS NOT NULL, rowid FROM obligation WHERE customer_key = ?"),
            arguments: [customer])
        while let row = try obligations.next() {
            previous.obligations[row[0]] = PreviousConclusions.ObligationState(
                state: try Self.decode(row[1], column: "state", table: "obligation", rowid: row[6]), contact: row[2], atRisk: row[3],
                escalationLevel: row[4], acknowledged: row[5])
        }
        let violations = try Row.fetchCursor(
            db.cachedStatement(sql: "SELECT id, category, contact_id FROM violation WHERE customer_key = ?"), arguments: [customer])
        while let row = try violations.next() {
            previous.violations[row[0]] = (row[1], row[2])
        }
        return previous
    }

    /// Writes what changed between two derivations of a customer: amendments (a late record
    /// changed an earlier conclusion) and outbox notifications (at risk, breach, escalation,
    /// violation, reversal), in the caller's transaction.
    /// - Returns: the number of amendments.
    static func recordChanges(
        _ customer: String, from previous: PreviousConclusions, to derivation: Derivation, clock: Timestamp, db: Database
    ) throws -> Int {
        var amendments = 0
        func amend(contact: String, obligation: String?, _ message: String) throws {
            try db.run("INSERT INTO amendment (customer_key, contact_id, obligation_id, at, message) VALUES (?, ?, ?, ?, ?)") {
                $0.add(customer)
                $0.add(contact)
                $0.add(obligation)
                $0.add(clock.seconds)
                $0.add(message)
            }
            amendments += 1
        }
        func notify(
            _ key: String, _ kind: OutboxEntry.Kind, at: Timestamp, contact: ContactID?, obligation: ObligationID? = nil,
            violation: ViolationID? = nil, owner: Owner? = nil, agent: AgentID? = nil, level: Int? = nil, _ detail: String
        ) throws {
            try db.run("""
                INSERT OR IGNORE INTO outbox (key, kind, at, customer_key, contact_id, obligation_id, violation_id, department, agent, level, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(key)
                $0.add(kind.rawValue)
                $0.add(at.seconds)
                $0.add(customer)
                $0.add(contact?.rawValue)
                $0.add(obligation?.rawValue)
                $0.add(violation?.rawValue)
                $0.add(owner?.department.rawValue)
                $0.add(agent?.rawValue ?? owner?.agent?.rawValue)
                $0.add(level)
                $0.add(detail)
            }
        }

        var current: Set<String> = []
        for contact in derivation.contacts {
            for o in contact.obligations {
                let id = o.id.rawValue
                current.insert(id)
                let before = previous.obligations[id]
                if o.atRisk, before?.atRisk != true, let since = o.atRiskSince {
                    try notify("at_risk:\(id)", .atRisk, at: since, contact: contact.id, obligation: o.id, owner: o.owner,
                               "\(o.kind.rawValue) \(id) is at risk: due \(o.dueAt)")
                }
                if let breachedAt = o.breachedAt, before.map({ $0.state == .breached || $0.state == .satisfiedLate }) != true {
                    try notify("breach:\(id)", .breach, at: breachedAt, contact: contact.id, obligation: o.id, owner: o.owner,
                               "\(o.kind.rawValue) \(id) breached")
                }
                if o.escalationLevel > (before?.escalationLevel ?? 0) {
                    for level in ((before?.escalationLevel ?? 0) + 1)...o.escalationLevel {
                        try notify("escalation:\(id):\(level)", .escalation, at: level == o.escalationLevel ? (o.escalatedAt ?? clock) : (o.breachedAt ?? clock),
                                   contact: contact.id, obligation: o.id, owner: o.owner, level: level,
                                   level == 1 ? "\(id) escalated to the head of \(o.owner.department)" : "\(id) escalated to leadership")
                    }
                }
                // Departures from the board, for obligations that were known to be owed (a batch
                // that creates and settles an obligation in one derivation announces nothing).
                if let before, before.state.isOutstanding {
                    switch o.state {
                    case .satisfied, .satisfiedLate:
                        try notify("satisfied:\(id)", .satisfied, at: o.satisfiedAt ?? clock, contact: contact.id, obligation: o.id,
                                   owner: o.owner, agent: o.satisfiedBy,
                                   "\(o.kind.rawValue) \(id) \(o.state.rawValue) via \(o.satisfiedVia?.rawValue ?? "-")")
                    case .cancelled:
                        try notify("cancelled:\(id)", .cancelled, at: clock, contact: contact.id, obligation: o.id, owner: o.owner,
                                   "\(o.kind.rawValue) \(id) cancelled: the contact was settled")
                    case .exhausted:
                        try notify("exhausted:\(id)", .exhausted, at: clock, contact: contact.id, obligation: o.id, owner: o.owner,
                                   "callback \(id) exhausted after \(o.attempts) attempts: supervisor review")
                    case .pending, .breached:
                        break
                    }
                }
                if let before, !before.acknowledged, o.kind == .handoff, let acknowledged = o.acknowledgedAt,
                    o.state.isOutstanding
                {
                    try notify("acknowledged:\(id)", .acknowledged, at: acknowledged, contact: contact.id, obligation: o.id,
                               owner: o.owner, "hand-off \(id) acknowledged")
                }
                if let before, before.state == .breached || before.state == .satisfiedLate || before.state == .exhausted,
                    before.state != o.state
                {
                    try amend(contact: contact.id.rawValue, obligation: id,
                              "a late record changed \(id) from \(before.state.rawValue) to \(o.state.rawValue)")
                    if o.breachedAt == nil, before.state != .exhausted {
                        try notify("reversal:\(id):\(clock.seconds)", .reversal, at: clock, contact: contact.id, obligation: o.id,
                                   owner: o.owner, "a late record disproved the breach of \(id)")
                    }
                }
            }
        }
        for (id, before) in previous.obligations.sorted(by: { $0.key < $1.key }) where !current.contains(id) {
            guard before.state == .breached || before.state == .satisfiedLate || before.state == .exhausted else { continue }
            try amend(contact: before.contact, obligation: id, "a late record changed \(id) from \(before.state.rawValue) to no longer existing")
        }
        let violations = Set(derivation.violations.map(\.id.rawValue))
        for violation in derivation.violations where previous.violations[violation.id.rawValue] == nil {
            // Breaches of obligations are announced as breaches; the rest as violations.
            guard violation.category != .notHandledInTime, violation.category != .handoffStalled else { continue }
            try notify("violation:\(violation.id.rawValue)", .violation, at: violation.at, contact: violation.contact,
                       obligation: violation.obligation, violation: violation.id,
                       owner: Owner(department: violation.department, agent: violation.agent),
                       "\(violation.category.rawValue) recorded")
        }
        for (id, before) in previous.violations.sorted(by: { $0.key < $1.key }) where !violations.contains(id) {
            try amend(contact: before.contact, obligation: nil, "a late record disproved violation \(id) (\(before.category)): reversed")
        }
        return amendments
    }

    static func actions(ofCustomer customer: String, db: Database) throws -> [ManualAction] {
        try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, kind, obligation_id, contact_id, agent, at, payload, rowid FROM action WHERE customer_key = ?"),
            arguments: [customer]
        ).map { row in
            let kind: String = row[1]
            let rowid: Int64 = row[7]
            let payload = try ActionPayload.decode(row[6], rowid: rowid)
            let contact = (row[3] as String?).map { ContactID($0) }
            let decoded: ManualAction.Kind?
            switch kind {
            case "acknowledge": decoded = (row[2] as String?).map { .acknowledge(obligation: ObligationID($0)) }
            case "open": decoded = payload.manualContact.map { .open($0) }
            default: decoded = contact.flatMap { payload.kind(kind, contact: $0) }
            }
            guard let decoded else {
                throw StoreError.corrupt(table: "action", rowid: rowid, reason: "an action of kind \"\(kind)\" without what it needs")
            }
            return ManualAction(id: row[0], at: Timestamp(seconds: row[5]), agent: AgentID(row[4] as String), kind: decoded)
        }
    }

    // MARK: Actions, reviews, outbox

    package func obligation(_ id: ObligationID) async throws -> StoredObligation? {
        try await self.reader.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT contact_id, customer_key FROM obligation WHERE id = ?", arguments: [id.rawValue]),
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
                guard let key = try String.fetchOne(
                    db, sql: "SELECT customer_key FROM obligation WHERE id = ?", arguments: [id.rawValue])
                else { throw StoreError.notFound("obligation \(id)") }
                customer = key
            case .open(let manual):
                customer = manual.customer.text
            default:
                guard let contact = action.contact,
                    let key = try String.fetchOne(db, sql: "SELECT customer_key FROM contact WHERE id = ?", arguments: [contact.rawValue])
                else { throw StoreError.notFound("contact \(action.contact?.rawValue ?? "?")") }
                customer = key
            }
            let payload = try ActionPayload(action.kind).encoded()
            try db.run("""
                INSERT OR IGNORE INTO action (id, customer_key, kind, obligation_id, contact_id, agent, at, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """) {
                $0.add(action.id)
                $0.add(customer)
                $0.add(action.kindName)
                $0.add(obligationID?.rawValue)
                $0.add(action.contact?.rawValue)
                $0.add(action.agent.rawValue)
                $0.add(action.at.seconds)
                $0.add(payload)
            }
            try Self.markDirty(customer, db: db)
        }
    }

    package func review(_ violation: ViolationID, _ review: ViolationReview) async throws {
        try await self.pool.write { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT customer_key, contact_id, obligation_id, department, agent FROM violation WHERE id = ?",
                arguments: [violation.rawValue])
            else { throw StoreError.notFound("violation \(violation)") }
            try db.run("""
                INSERT INTO violation_review (violation_id, decision, reason, reviewed_by, at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(violation_id) DO UPDATE SET decision = excluded.decision, reason = excluded.reason,
                reviewed_by = excluded.reviewed_by, at = excluded.at
                """) {
                $0.add(violation.rawValue)
                $0.add(review.decision.rawValue)
                $0.add(review.reason)
                $0.add(review.by)
                $0.add(review.at.seconds)
            }
            try db.run("""
                INSERT OR IGNORE INTO outbox (key, kind, at, customer_key, contact_id, obligation_id, violation_id, department, agent, level, detail)
                VALUES (?, 'review', ?, ?, ?, ?, ?, ?, ?, NULL, ?)
                """) {
                $0.add("review:\(violation.rawValue):\(review.at.seconds):\(review.decision.rawValue)")
                $0.add(review.at.seconds)
                $0.add(row[0] as String)
                $0.add(row[1] as String)
                $0.add(row[2] as String?)
                $0.add(violation.rawValue)
                $0.add(row[3] as String)
                $0.add(row[4] as String?)
                $0.add("\(review.decision.rawValue) by \(review.by): \(review.reason)")
            }
        }
    }

    package func reviews() async throws -> [ViolationID: ViolationReview] {
        try await self.reader.read { db in try Self.reviews(db, where: "1") }
    }

    static func reviews(_ db: Database, where condition: SQL) throws -> [ViolationID: ViolationReview] {
        var result: [ViolationID: ViolationReview] = [:]
        for row in try Row.fetchAll(
            db, SQLRequest(literal: "SELECT violation_id, decision, reason, reviewed_by, at FROM violation_review WHERE \(condition)"))
        {
            // Keyed by violation_id (no rowid): the key goes into the reason.
            let id: String = row[0]
            let decision: ViolationReview.Decision = try Self.decode(
                row[1], column: "decision of violation \(id)", table: "violation_review", rowid: nil)
            result[ViolationID(id)] = ViolationReview(decision: decision, reason: row[2], by: row[3], at: Timestamp(seconds: row[4]))
        }
        return result
    }

    package func outbox(after seq: Int64, limit: Int) async throws -> [OutboxEntry] {
        try await self.reader.read { db in
            try Row.fetchAll(
                db, sql: """
                    SELECT seq, key, kind, at, contact_id, obligation_id, violation_id, department, agent, level, detail
                    FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?
                    """, arguments: [seq, limit]
            ).map { row in
                OutboxEntry(
                    seq: row[0], key: row[1], kind: try Self.decode(row[2], column: "kind", table: "outbox", rowid: row[0]), at: Timestamp(seconds: row[3]),
                    contact: (row[4] as String?).map { ContactID($0) }, obligation: (row[5] as String?).map { ObligationID($0) },
                    violation: (row[6] as String?).map { ViolationID($0) }, department: (row[7] as String?).map { DepartmentID($0) },
                    agent: (row[8] as String?).map { AgentID($0) }, level: row[9], detail: row[10])
            }
        }
    }

    package func nextCheck() async throws -> Timestamp? {
        try await self.reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT min(next_check) FROM customer WHERE next_check IS NOT NULL").map { Timestamp(seconds: $0) }
        }
    }
}
