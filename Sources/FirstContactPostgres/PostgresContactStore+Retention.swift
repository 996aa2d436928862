import FirstContactCore
import FirstContactStore
import PostgresNIO

/// Retention (`policy.retention`) on PostgreSQL: the same summaries and the same choice of what
/// goes as ``SQLiteContactStore``'s purge, in one transaction. The server reclaims the deleted
/// rows' space itself (autovacuum); there is no file to overwrite and compact here.
extension PostgresContactStore {
    package func reportDataStart() async throws -> Timestamp? {
        try await self.read { tx in
            try await tx.value(
                Int64.self,
                """
                SELECT min(t) FROM (
                    SELECT min(due_at) AS t FROM obligation UNION ALL SELECT min(created_at) FROM obligation
                    UNION ALL SELECT min(satisfied_at) FROM obligation
                    UNION ALL SELECT min(fr_bound_at) FROM contact WHERE fr_agent IS NOT NULL
                    UNION ALL SELECT min(at) FROM violation) AS times
                """
            ).map { Timestamp(seconds: $0) }
        }
    }

    package func summarisedPeriods() async throws -> [ReportPeriod] {
        try await self.read { tx in try await Self.allSummarisedPeriods(tx) }
    }

    package func purge(before horizon: Timestamp, summarising periods: [ReportPeriod], at now: Timestamp, dryRun: Bool)
        async throws -> PurgeOutcome
    {
        if dryRun {
            return try await self.read { tx in
                var outcome = PurgeOutcome(horizon: horizon, dryRun: true)
                outcome.periodsSummarised = try await Self.newPeriods(periods, tx: tx)
                outcome.periodsHeld = try await Self.allSummarisedPeriods(tx).count + outcome.periodsSummarised.count
                try await Self.purgeRows(before: horizon, outcome: &outcome, tx: tx)
                return outcome
            }
        }
        return try await self.write { tx in
            var outcome = PurgeOutcome(horizon: horizon, dryRun: false)
            outcome.periodsSummarised = try await Self.newPeriods(periods, tx: tx)
            for period in outcome.periodsSummarised { try await Self.summarise(period, at: now, tx: tx) }
            outcome.periodsHeld = try await Self.allSummarisedPeriods(tx).count
            try await Self.purgeRows(before: horizon, outcome: &outcome, tx: tx)
            let previous = try await Self.metaTime(tx, "purged_before")
            if previous.map({ horizon > $0 }) ?? true {
                try await Self.setMeta(tx, "purged_before", String(horizon.seconds))
            }
            return outcome
        }
    }

    static func allSummarisedPeriods(_ tx: PostgresTransaction) async throws -> [ReportPeriod] {
        try await Self.summarisedPeriods(tx, within: .beforeAnyRecord, Timestamp(seconds: Int64.max / 2))
    }

    static func newPeriods(_ periods: [ReportPeriod], tx: PostgresTransaction) async throws -> [ReportPeriod] {
        var fresh: [ReportPeriod] = []
        for period in periods.sorted() {
            let overlaps = try await tx.value(
                Bool.self, "SELECT EXISTS (SELECT 1 FROM report_period WHERE start < ? AND \"end\" > ?)"
            ) {
                $0.add(period.end.seconds)
                $0.add(period.start.seconds)
            }
            if overlaps != true { fresh.append(period) }
        }
        return fresh
    }

    static func summarise(_ period: ReportPeriod, at now: Timestamp, tx: PostgresTransaction) async throws {
        let start = period.start.seconds
        let end = period.end.seconds
        try await tx.run("INSERT INTO report_period (start, \"end\", written_at) VALUES (?, ?, ?)") {
            $0.add(start)
            $0.add(end)
            $0.add(now.seconds)
        }
        try await tx.run(
            """
            INSERT INTO report_obligation (period_start, owner_department, owner_agent, kind, state, count)
            SELECT ?1, owner_department, owner_agent, kind, state, count(*) FROM obligation
            WHERE due_at >= ?1 AND due_at < ?2 GROUP BY owner_department, owner_agent, kind, state
            """
        ) {
            $0.add(start)
            $0.add(end)
        }
        for (agent, activity) in try await Self.agentActivity(tx, from: period.start, to: period.end) {
            try await tx.run(
                """
                INSERT INTO report_agent (period_start, agent, first_responded, settled, repeated, callbacks_on_time,
                callbacks_late, handoff_ack_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
            ) {
                $0.add(start)
                $0.add(agent.rawValue)
                $0.add(activity.firstResponded)
                $0.add(activity.settled)
                $0.add(activity.repeated)
                $0.add(activity.callbacksOnTime)
                $0.add(activity.callbacksLate)
                $0.add(activity.handoffAcknowledgeSeconds.map(String.init).joined(separator: ","))
            }
        }
        try await tx.run(
            """
            INSERT INTO report_agent_violation (period_start, agent, category, decision, count)
            SELECT ?1, v.agent, v.category, r.decision, count(*) FROM violation v
            LEFT JOIN violation_review r ON r.violation_id = v.id
            WHERE v.agent IS NOT NULL AND v.at >= ?1 AND v.at < ?2
            GROUP BY v.agent, v.category, r.decision
            """
        ) {
            $0.add(start)
            $0.add(end)
        }
    }

    struct PurgePlan {
        var customer: String
        var cut: Timestamp
        var floor: SettledPast
        var whole: Bool
    }

    static func purgeRows(before horizon: Timestamp, outcome: inout PurgeOutcome, tx: PostgresTransaction)
        async throws
    {
        // Found before anything is removed, as a dry run finds them (``SQLiteContactStore``'s purge).
        let contactless = try await Self.contactlessPlans(horizon: horizon, tx: tx)
        let candidates = try await tx.rows(
            "SELECT customer_key, count(*) FROM contact WHERE created_at < ? GROUP BY customer_key ORDER BY customer_key"
        ) { $0.add(horizon.seconds) }
        for row in candidates {
            let c = Columns(row)
            let (customer, old) = (try c.text(0), try c.int(1))
            guard let plan = try await Self.purgePlan(customer, horizon: horizon, tx: tx) else {
                outcome.contactsKept += old
                continue
            }
            let purged = try await Self.remove(plan, outcome: &outcome, tx: tx)
            outcome.contactsKept += max(0, old - purged)
            if plan.whole { outcome.customersRemoved += 1 } else { outcome.customersTrimmed += 1 }
        }
        for plan in contactless {
            _ = try await Self.remove(plan, outcome: &outcome, tx: tx)
            if plan.whole { outcome.customersRemoved += 1 } else { outcome.customersTrimmed += 1 }
        }
        let dryRun = outcome.dryRun
        let bind: (inout PostgresBinder) -> Void = { $0.add(horizon.seconds) }
        let nobody = "SELECT call_key FROM call WHERE customer_key IS NULL AND \"end\" < ?1"
        for table in SQLiteContactStore.callRecordTables {
            outcome.records += try await Self.erase(
                table, where: "call_key IN (\(nobody))", dryRun: dryRun, tx: tx, bind)
        }
        outcome.calls += try await Self.erase(
            "call", where: "customer_key IS NULL AND \"end\" < ?1", dryRun: dryRun, tx: tx, bind)
        outcome.rejects += try await Self.erase("reject", where: "stored_at < ?1", dryRun: dryRun, tx: tx, bind)
    }

    /// Deletes (or, in a dry run, counts) the rows of `table` matching `condition`.
    static func erase(
        _ table: String, where condition: String, dryRun: Bool, tx: PostgresTransaction,
        _ bind: (inout PostgresBinder) -> Void
    ) async throws -> Int {
        let sql =
            dryRun
            ? "SELECT count(*) FROM \(table) WHERE \(condition)"
            : "WITH gone AS (DELETE FROM \(table) WHERE \(condition) RETURNING 1) SELECT count(*) FROM gone"
        return Int(try await tx.value(Int64.self, sql, bind) ?? 0)
    }

    /// Where a customer's purge can cut (the rules of ``SQLiteContactStore``'s `purgePlan`).
    static func purgePlan(_ customer: String, horizon: Timestamp, tx: PostgresTransaction) async throws
        -> PurgePlan?
    {
        guard
            let row = try await tx.rows(
                "SELECT settled_before, settled_contact, settled_closed FROM customer WHERE customer_key = ?"
            ) { $0.add(customer) }.first,
            let settled = try Self.settledPast(Columns(row), from: 0)
        else { return nil }
        struct Candidate {
            var id: String
            var createdAt: Int64
            var closedAt: Int64?
            var latest: Int64
            var calls: [String]
        }
        let contacts = try await tx.rows(
            """
            SELECT c.id, c.created_at, c.closed_at, GREATEST(c.created_at, c.last_activity, coalesce(c.closed_at, 0),
                coalesce(c.fr_bound_at, 0),
                coalesce((SELECT max(GREATEST(o.created_at, o.due_at, coalesce(o.ack_due_at, 0), coalesce(o.acknowledged_at, 0),
                    coalesce(o.satisfied_at, 0), coalesce(o.breached_at, 0))) FROM obligation o WHERE o.contact_id = c.id), 0),
                coalesce((SELECT max(v.at) FROM violation v WHERE v.customer_key = c.customer_key AND v.contact_id = c.id), 0)),
                c.calls
            FROM contact c WHERE c.customer_key = ? AND c.created_at < ? ORDER BY c.created_at, c.id
            """
        ) {
            $0.add(customer)
            $0.add(settled.before.seconds)
        }.map { row in
            let c = Columns(row)
            return Candidate(
                id: try c.text(0), createdAt: try c.int64(1), closedAt: try c.optionalInt64(2), latest: try c.int64(3),
                calls: try c.text(4).split(separator: ",").map(String.init))
        }
        var eligible = 0
        while eligible < contacts.count, contacts[eligible].latest < horizon.seconds { eligible += 1 }
        guard eligible > 0 else { return nil }
        for count in stride(from: eligible, through: max(1, eligible - 4), by: -1) {
            let purged = contacts[..<count]
            let last = purged[purged.endIndex - 1]
            let floor: SettledPast
            if count == contacts.count {
                floor = settled
            } else if let closed = last.closedAt {
                floor = SettledPast(
                    before: Timestamp(seconds: contacts[count].createdAt),
                    last: .init(ContactID(last.id), closedAt: Timestamp(seconds: closed)))
            } else {
                continue
            }
            let cut = floor.before.seconds
            guard purged.allSatisfy({ $0.latest < cut }) else { continue }
            let calls = purged.flatMap(\.calls)
            let ids = purged.map(\.id)
            let blocked =
                try await tx.value(
                    Bool.self,
                    """
                    SELECT EXISTS (SELECT 1 FROM call WHERE customer_key = ?1 AND start < ?2 AND "end" >= ?2)
                        OR EXISTS (SELECT 1 FROM ivr_event WHERE callback_key = ?1 AND customer_key <> ?1 AND time < ?2)
                        OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1 AND at >= ?2 AND (contact_id = ANY(?3)
                            OR obligation_id IN (SELECT id FROM obligation WHERE contact_id = ANY(?3))))
                    """
                ) {
                    $0.add(customer)
                    $0.add(cut)
                    $0.add(ids)
                } ?? true
            guard !blocked else { continue }
            if !calls.isEmpty {
                let latestCall =
                    try await tx.value(Int64.self, "SELECT max(\"end\") FROM call WHERE call_key = ANY(?)") {
                        $0.add(calls)
                    } ?? 0
                guard latestCall < cut else { continue }
            }
            let later =
                try await tx.value(
                    Bool.self,
                    """
                    SELECT EXISTS (SELECT 1 FROM contact WHERE customer_key = ?1 AND created_at >= ?2)
                        OR EXISTS (SELECT 1 FROM call WHERE customer_key = ?1 AND start >= ?2)
                        OR EXISTS (SELECT 1 FROM ivr_event WHERE customer_key = ?1 AND time >= ?2)
                        OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1 AND at >= ?2)
                    """
                ) {
                    $0.add(customer)
                    $0.add(cut)
                } ?? true
            return PurgePlan(
                customer: customer, cut: floor.before, floor: floor, whole: count == contacts.count && !later)
        }
        return nil
    }

    /// The purges of customers whose calls before `horizon` opened no contact (the rules of
    /// ``SQLiteContactStore``'s `contactlessPlans`).
    static func contactlessPlans(horizon: Timestamp, tx: PostgresTransaction) async throws -> [PurgePlan] {
        try await tx.rows(ContactlessPurge.sql) { $0.add(horizon.seconds) }.map { row in
            let c = Columns(row)
            // A contact purged earlier stays the one a later contact looks back to.
            let purged = StoredRows.settledPast(
                before: horizon.seconds, contact: try c.optionalText(1), closed: try c.optionalInt64(2))
            return PurgePlan(
                customer: try c.text(0), cut: horizon, floor: SettledPast(before: horizon, last: purged?.last),
                whole: try c.bool(3))
        }
    }

    /// Removes (or counts) what `plan` purges; returns the number of contacts.
    static func remove(_ plan: PurgePlan, outcome: inout PurgeOutcome, tx: PostgresTransaction) async throws -> Int {
        let cut = plan.whole ? Int64.max / 2 : plan.cut.seconds
        let contacts = "SELECT id FROM contact WHERE customer_key = ?1 AND created_at < ?2"
        let calls = "SELECT call_key FROM call WHERE customer_key = ?1 AND start < ?2"
        let dryRun = outcome.dryRun
        func erase(_ table: String, _ condition: String) async throws -> Int {
            try await Self.erase(table, where: condition, dryRun: dryRun, tx: tx) {
                $0.add(plan.customer)
                $0.add(cut)
            }
        }
        _ = try await erase(
            "violation_review",
            "violation_id IN (SELECT id FROM violation WHERE customer_key = ?1 AND contact_id IN (\(contacts)))")
        outcome.violations += try await erase("violation", "customer_key = ?1 AND contact_id IN (\(contacts))")
        outcome.obligations += try await erase("obligation", "contact_id IN (\(contacts))")
        outcome.notifications += try await erase(
            "amendment", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        outcome.notifications += try await erase(
            "outbox", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        outcome.actions += try await erase("action", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        for table in SQLiteContactStore.callRecordTables {
            outcome.records += try await erase(table, "call_key IN (\(calls))")
        }
        outcome.records += try await erase("ivr_event", "customer_key = ?1 AND time < ?2")
        outcome.calls += try await erase("call", "customer_key = ?1 AND start < ?2")
        let removed = try await erase("contact", "customer_key = ?1 AND created_at < ?2")
        outcome.contacts += removed
        guard !dryRun else { return removed }
        if plan.whole {
            try await tx.run("DELETE FROM customer WHERE customer_key = ?") { $0.add(plan.customer) }
        } else {
            try await tx.run(
                """
                UPDATE customer SET purged_before = ?, purged_contact = ?, purged_closed = ?,
                settled_before = GREATEST(settled_before, ?) WHERE customer_key = ?
                """
            ) {
                $0.add(plan.floor.before.seconds)
                $0.add(plan.floor.last?.id.rawValue)
                $0.add(plan.floor.last?.closedAt.seconds)
                $0.add(plan.floor.before.seconds)
                $0.add(plan.customer)
            }
        }
        return removed
    }
}
