import FirstContactCore
import Foundation
import GRDB

/// Retention of personal data (`policy.retention`): old contacts, their records and everything
/// that names their customer are removed; their months' report figures stay as summaries.
extension SQLiteContactStore {
    package func reportDataStart() async throws -> Timestamp? {
        try await self.reader.read { db in
            try Int64.fetchOne(
                db,
                sql: """
                    SELECT min(t) FROM (
                        SELECT min(due_at) AS t FROM obligation UNION ALL SELECT min(created_at) FROM obligation
                        UNION ALL SELECT min(satisfied_at) FROM obligation
                        UNION ALL SELECT min(fr_bound_at) FROM contact WHERE fr_agent IS NOT NULL
                        UNION ALL SELECT min(at) FROM violation)
                    """
            ).map { Timestamp(seconds: $0) }
        }
    }

    package func summarisedPeriods() async throws -> [ReportPeriod] {
        try await self.reader.read { db in try Self.allSummarisedPeriods(db) }
    }

    package func purge(before horizon: Timestamp, summarising periods: [ReportPeriod], at now: Timestamp, dryRun: Bool)
        async throws -> PurgeOutcome
    {
        if dryRun {
            return try await self.reader.read { db in
                var outcome = PurgeOutcome(horizon: horizon, dryRun: true)
                outcome.periodsSummarised = try Self.newPeriods(periods, db: db)
                outcome.periodsHeld = try Self.allSummarisedPeriods(db).count + outcome.periodsSummarised.count
                try Self.purgeRows(before: horizon, outcome: &outcome, db: db)
                return outcome
            }
        }
        let (outcome, compaction) = try await self.pool.writeWithoutTransaction { db in
            // Deleted cells and pages are overwritten with zeros, not merely unlinked.
            // Only for the purge: re-derivation deletes and rewrites rows all day long.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            var outcome = PurgeOutcome(horizon: horizon, dryRun: false)
            do {
                try Self.purgeTransaction(before: horizon, summarising: periods, at: now, outcome: &outcome, db: db)
            } catch {
                try db.execute(sql: "PRAGMA secure_delete = OFF")
                throw error
            }
            try db.execute(sql: "PRAGMA secure_delete = OFF")
            return (outcome, try Self.meta(db, "purge_compaction"))
        }
        if let compaction {
            // Older versions of the purged rows (every re-derivation replaced them) still lie in
            // free space that secure_delete never saw: VACUUM rewrites the file without them, and a
            // truncating checkpoint empties the WAL that held the deleted pages and the rewrite.
            // Marked pending until done, so a purge that failed here finishes at the next one
            // (without a second VACUUM when only the checkpoint was left).
            let path = self.pool.path
            try await self.pool.writeWithoutTransaction { db in
                if compaction != "checkpoint" {
                    try db.execute(sql: "VACUUM")
                    try Self.setMeta(db, "purge_compaction", "checkpoint")
                }
                try Self.truncateWAL(db, path: path)
                try db.execute(sql: "DELETE FROM meta WHERE key = 'purge_compaction'")
            }
        }
        return outcome
    }

    /// The purge's transaction: summaries first, then the rows, then the horizon later ingests keep.
    static func purgeTransaction(
        before horizon: Timestamp, summarising periods: [ReportPeriod], at now: Timestamp,
        outcome: inout PurgeOutcome, db: Database
    ) throws {
        try db.inTransaction {
            outcome.periodsSummarised = try Self.newPeriods(periods, db: db)
            for period in outcome.periodsSummarised { try Self.summarise(period, at: now, db: db) }
            outcome.periodsHeld = try Self.allSummarisedPeriods(db).count
            try Self.purgeRows(before: horizon, outcome: &outcome, db: db)
            // A purge is rare and deletes by the table: counting again costs what it deleted.
            if outcome.removedAnything { try SQLiteTally.recount(db) }
            let previous = try Self.metaTime(db, "purged_before")
            if previous.map({ horizon > $0 }) ?? true {
                try Self.setMeta(db, "purged_before", String(horizon.seconds))
            }
            if outcome.removedAnything { try Self.setMeta(db, "purge_compaction", "pending") }
            return .commit
        }
    }

    /// Checkpoints the whole WAL into the database and truncates it to zero bytes, waiting a
    /// little for readers still on older pages.
    static func truncateWAL(_ db: Database, path: String) throws {
        for attempt in 0..<50 {
            if try Self.checkpointTruncating(db) { return }
            if attempt < 49 { Thread.sleep(forTimeInterval: 0.1) }
        }
        throw StoreError.walBusy(path: path)
    }

    /// One truncating checkpoint: the WAL copied into the database and cut to zero bytes.
    /// Returns false when a reader still on older pages kept it from finishing (SQLITE_BUSY).
    static func checkpointTruncating(_ db: Database) throws -> Bool {
        try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)").map { ($0[0] as Int) == 0 } ?? false
    }

    static func allSummarisedPeriods(_ db: Database) throws -> [ReportPeriod] {
        try Self.summarisedPeriods(db, within: .beforeAnyRecord, Timestamp(seconds: Int64.max / 2))
    }

    /// Those of `periods` that overlap no summarised period.
    static func newPeriods(_ periods: [ReportPeriod], db: Database) throws -> [ReportPeriod] {
        try periods.sorted().filter { period in
            try
                !(Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM report_period WHERE start < ? AND end > ?)",
                    arguments: [period.end.seconds, period.start.seconds]) ?? false)
        }
    }

    /// Writes `period`'s report figures as they are now: obligation tallies by owner, and each
    /// agent's figures (the same SQL the reports run on the derived rows).
    static func summarise(_ period: ReportPeriod, at now: Timestamp, db: Database) throws {
        let start = period.start.seconds
        let end = period.end.seconds
        try db.execute(
            sql: "INSERT INTO report_period (start, end, written_at) VALUES (?, ?, ?)",
            arguments: [start, end, now.seconds])
        try db.execute(
            sql: """
                INSERT INTO report_obligation (period_start, owner_department, owner_agent, kind, state, count)
                SELECT ?1, owner_department, owner_agent, kind, state, count(*) FROM obligation
                WHERE due_at >= ?1 AND due_at < ?2 GROUP BY owner_department, owner_agent, kind, state
                """, arguments: [start, end])
        for (agent, activity) in try Self.agentActivity(db, from: period.start, to: period.end) {
            try db.execute(
                sql: """
                    INSERT INTO report_agent (period_start, agent, first_responded, settled, repeated, callbacks_on_time,
                    callbacks_late, handoff_ack_seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    start, agent.rawValue, activity.firstResponded, activity.settled, activity.repeated,
                    activity.callbacksOnTime, activity.callbacksLate,
                    activity.handoffAcknowledgeSeconds.map(String.init).joined(separator: ","),
                ])
        }
        try db.execute(
            sql: """
                INSERT INTO report_agent_violation (period_start, agent, category, decision, count)
                SELECT ?1, v.agent, v.category, r.decision, count(*) FROM violation v
                LEFT JOIN violation_review r ON r.violation_id = v.id
                WHERE v.agent IS NOT NULL AND v.at >= ?1 AND v.at < ?2
                GROUP BY v.agent, v.category, r.decision
                """, arguments: [start, end])
    }

    /// One customer's purge: the contacts created before `cut` go; derivation starts at `floor`.
    struct PurgePlan {
        var customer: String
        var cut: Timestamp
        var floor: SettledPast
        /// Nothing of the customer stays: its row goes too.
        var whole: Bool
    }

    /// Counts (dry run) or deletes every row older than `horizon` that retention removes.
    static func purgeRows(before horizon: Timestamp, outcome: inout PurgeOutcome, db: Database) throws {
        // Found before anything is removed, as a dry run finds them: the purges below remove other
        // customers' callback requests that may name them.
        let contactless = try Self.contactlessPlans(horizon: horizon, db: db)
        // Each customer with contacts older than the horizon, and how many it has.
        let candidates = try Row.fetchAll(
            db, sql: "SELECT customer_key, count(*) FROM contact WHERE created_at < ? GROUP BY customer_key",
            arguments: [horizon.seconds])
        for row in candidates {
            let (customer, old): (String, Int) = (row[0], row[1])
            guard let plan = try Self.purgePlan(customer, horizon: horizon, db: db) else {
                outcome.contactsKept += old
                continue
            }
            let purged = try Self.remove(plan, outcome: &outcome, db: db)
            outcome.contactsKept += max(0, old - purged)
            if plan.whole { outcome.customersRemoved += 1 } else { outcome.customersTrimmed += 1 }
        }
        for plan in contactless {
            _ = try Self.remove(plan, outcome: &outcome, db: db)
            if plan.whole { outcome.customersRemoved += 1 } else { outcome.customersTrimmed += 1 }
        }
        // Calls filed under no customer (between extensions) are read by no derivation.
        let nobody = "SELECT call_key FROM call WHERE customer_seq IS NULL AND end < ?1"
        for table in Self.callRecordTables {
            outcome.records += try Self.erase(
                table, where: "call_key IN (\(nobody))", [horizon.seconds], dryRun: outcome.dryRun, db: db)
        }
        outcome.calls += try Self.erase(
            "call", where: "customer_seq IS NULL AND end < ?1", [horizon.seconds], dryRun: outcome.dryRun, db: db)
        outcome.rejects += try Self.erase(
            "reject", where: "stored_at < ?1", [horizon.seconds], dryRun: outcome.dryRun, db: db)
    }

    /// Deletes (or, in a dry run, counts) the rows of `table` matching `condition`.
    static func erase(
        _ table: String, where condition: String, _ arguments: StatementArguments, dryRun: Bool, db: Database
    ) throws -> Int {
        if dryRun {
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(condition)", arguments: arguments)
                ?? 0
        }
        try db.execute(sql: "DELETE FROM \(table) WHERE \(condition)", arguments: arguments)
        return db.changesCount
    }

    /// Where a customer's purge can cut, or nil when none of their old contacts may go yet.
    ///
    /// Only contacts of the settled past are candidates (closed for good, nothing owed, no clock
    /// left), and only a prefix of them whose every time lies before `horizon`. The cut is the
    /// settled past's own, or the creation of the first contact that stays when nothing the
    /// purged contacts hold reaches past it: no call runs across it, no purged call or action
    /// comes after it (the same conditions as a settled past's cut). Another customer's IVR
    /// callback request for this number keeps the calls to it after that request.
    static func purgePlan(_ customer: String, horizon: Timestamp, db: Database) throws -> PurgePlan? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT settled_before, settled_contact, settled_closed FROM customer WHERE customer_key = ?",
                arguments: [customer]),
            let settled = Self.settledPast(row, from: 0)
        else { return nil }
        let contacts = try Row.fetchAll(
            db,
            sql: """
                SELECT c.id, c.created_at, c.closed_at, max(c.created_at, c.last_activity, coalesce(c.closed_at, 0),
                    coalesce(c.fr_bound_at, 0),
                    coalesce((SELECT max(max(o.created_at, o.due_at, coalesce(o.ack_due_at, 0), coalesce(o.acknowledged_at, 0),
                        coalesce(o.satisfied_at, 0), coalesce(o.breached_at, 0))) FROM obligation o WHERE o.contact_id = c.id), 0),
                    coalesce((SELECT max(v.at) FROM violation v WHERE v.customer_key = c.customer_key AND v.contact_id = c.id), 0)) AS latest,
                    c.calls
                FROM contact c WHERE c.customer_key = ? AND c.created_at < ? ORDER BY c.created_at, c.id
                """, arguments: [customer, settled.before.seconds])
        var eligible = 0
        while eligible < contacts.count, (contacts[eligible]["latest"] as Int64) < horizon.seconds { eligible += 1 }
        guard eligible > 0 else { return nil }
        for count in stride(from: eligible, through: max(1, eligible - 4), by: -1) {
            let purged = contacts[..<count]
            let last = purged[purged.endIndex - 1]
            let floor: SettledPast
            if count == contacts.count {
                floor = settled
            } else if let closed = last["closed_at"] as Int64? {
                floor = SettledPast(
                    before: Timestamp(seconds: contacts[count]["created_at"]),
                    last: .init(ContactID(last["id"] as String), closedAt: Timestamp(seconds: closed)))
            } else {
                continue
            }
            let cut = floor.before.seconds
            guard purged.allSatisfy({ ($0["latest"] as Int64) < cut }) else { continue }
            let calls = purged.flatMap { ($0["calls"] as String).split(separator: ",").map(String.init) }
            let ids = purged.map { $0["id"] as String }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            let blocked =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM call WHERE customer_seq = \(Self.customerSeq("?1")) AND start < ?2 AND end >= ?2)
                            OR EXISTS (SELECT 1 FROM ivr_event WHERE callback_key = ?1 AND customer_key <> ?1 AND time < ?2)
                            OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1 AND at >= ?2 AND (contact_id IN (\(marks))
                                OR obligation_id IN (SELECT id FROM obligation WHERE contact_id IN (\(marks)))))
                        """,
                    arguments: StatementArguments([customer, cut] as [any DatabaseValueConvertible] + ids + ids))
                ?? true
            guard !blocked else { continue }
            if !calls.isEmpty {
                let latestCall =
                    try Int64.fetchOne(
                        db,
                        sql:
                            "SELECT max(end) FROM call WHERE call_key IN (\(Array(repeating: "?", count: calls.count).joined(separator: ",")))",
                        arguments: StatementArguments(calls)) ?? 0
                guard latestCall < cut else { continue }
            }
            let whole =
                try count == contacts.count
                && !(Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM contact WHERE customer_key = ?1 AND created_at >= ?2)
                            OR EXISTS (SELECT 1 FROM call WHERE customer_seq = \(Self.customerSeq("?1")) AND start >= ?2)
                            OR EXISTS (SELECT 1 FROM ivr_event WHERE customer_seq = \(Self.customerSeq("?1")) AND time >= ?2)
                            OR EXISTS (SELECT 1 FROM action WHERE customer_key = ?1 AND at >= ?2)
                        """, arguments: [customer, cut]) ?? true)
            return PurgePlan(customer: customer, cut: floor.before, floor: floor, whole: whole)
        }
        return nil
    }

    /// The purges of customers whose calls before `horizon` opened no contact (hung up within
    /// `abandon_grace`): the contact table, where the other purges start, does not name them, and
    /// their numbers stayed in the file for good. Cut at the horizon itself once their settled
    /// past holds every input before it, unless a call runs across it or another customer asked
    /// to be called back at this number before it (the conditions of ``purgePlan(_:horizon:db:)``).
    static func contactlessPlans(horizon: Timestamp, db: Database) throws -> [PurgePlan] {
        let rows = try Row.fetchAll(
            db, sql: ContactlessPurge.sql(filedUnder: "customer_seq = u.seq"), arguments: [horizon.seconds])
        return rows.map { row in
            // A contact purged earlier stays the one a later contact looks back to.
            let purged = StoredRows.settledPast(
                before: horizon.seconds, contact: row["purged_contact"], closed: row["purged_closed"])
            return PurgePlan(
                customer: row["customer_key"], cut: horizon, floor: SettledPast(before: horizon, last: purged?.last),
                whole: row["whole"])
        }
    }

    /// Removes (or counts) what `plan` purges; returns the number of contacts.
    static func remove(_ plan: PurgePlan, outcome: inout PurgeOutcome, db: Database) throws -> Int {
        // Of a customer who goes whole, every row naming them goes, whenever it was written
        // (a review or an amendment is stamped with the time it was made).
        let cut = plan.whole ? Int64.max / 2 : plan.cut.seconds
        let arguments: StatementArguments = [plan.customer, cut]
        let contacts = "SELECT id FROM contact WHERE customer_key = ?1 AND created_at < ?2"
        let calls = "SELECT call_key FROM call WHERE customer_seq = \(Self.customerSeq("?1")) AND start < ?2"
        let dryRun = outcome.dryRun
        func erase(_ table: String, _ condition: String) throws -> Int {
            try Self.erase(table, where: condition, arguments, dryRun: dryRun, db: db)
        }
        _ = try erase(
            "violation_review",
            "violation_id IN (SELECT id FROM violation WHERE customer_key = ?1 AND contact_id IN (\(contacts)))")
        outcome.violations += try erase("violation", "customer_key = ?1 AND contact_id IN (\(contacts))")
        outcome.obligations += try erase("obligation", "contact_id IN (\(contacts))")
        outcome.notifications += try erase(
            "amendment", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        outcome.notifications += try erase("outbox", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        outcome.actions += try erase("action", "customer_key = ?1 AND (at < ?2 OR contact_id IN (\(contacts)))")
        for table in Self.callRecordTables {
            outcome.records += try erase(table, "call_key IN (\(calls))")
        }
        outcome.records += try erase("ivr_event", "customer_seq = \(Self.customerSeq("?1")) AND time < ?2")
        outcome.calls += try erase("call", "customer_seq = \(Self.customerSeq("?1")) AND start < ?2")
        let removed = try erase("contact", "customer_key = ?1 AND created_at < ?2")
        outcome.contacts += removed
        guard !dryRun else { return removed }
        if plan.whole {
            try db.execute(sql: "DELETE FROM customer WHERE customer_key = ?", arguments: [plan.customer])
        } else {
            try db.execute(
                sql: """
                    UPDATE customer SET purged_before = ?, purged_contact = ?, purged_closed = ?,
                    settled_before = max(settled_before, ?) WHERE customer_key = ?
                    """,
                arguments: [
                    plan.floor.before.seconds, plan.floor.last?.id.rawValue, plan.floor.last?.closedAt.seconds,
                    plan.floor.before.seconds, plan.customer,
                ])
        }
        return removed
    }
}

extension PurgeOutcome {
    /// Whether the purge deleted any row (and so the file needs compacting).
    var removedAnything: Bool {
        !self.dryRun
            && self.contacts + self.records + self.calls + self.rejects + self.actions + self.notifications
                + self.obligations + self.violations > 0
    }
}
