import FirstContactCore
import GRDB

/// Report queries: SQL aggregates over the derived tables, so a month's report reads counts and
/// small rows, never every contact.
extension SQLiteContactStore {
    package func openObligations(_ scope: ReportScope) async throws -> [BoardRow] {
        try await self.reader.read { db in
            let (condition, arguments) = Self.obligationScope(scope, alias: "o")
            let rows = try Row.fetchAll(
                db,
                SQLRequest(
                    literal: """
                        SELECT o.rowid, o.*, c.customer AS contact_customer FROM obligation o JOIN contact c ON c.id = o.contact_id
                        WHERE o.state IN ('pending', 'breached') AND \(SQL(sql: condition, arguments: StatementArguments(arguments)))
                        ORDER BY o.due_at, o.id
                        """))
            return try rows.map { row in
                BoardRow(
                    obligation: try Self.obligation(row), contact: ContactID(row["contact_id"] as String),
                    customer: row["contact_customer"])
            }
        }
    }

    package func obligationTallies(dueFrom from: Timestamp, to: Timestamp, scope: ReportScope) async throws
        -> [ObligationTally]
    {
        try await self.reader.read { db in
            let (condition, arguments) = Self.obligationScope(scope, alias: "o")
            let scoped = SQL(sql: condition, arguments: StatementArguments(arguments))
            let periods = try Self.summarisedPeriods(db, within: from, to)
            var counts: [ObligationTally: Int] = [:]
            func add(_ rows: [Row]) throws {
                for row in rows {
                    let tally = ObligationTally(
                        department: DepartmentID(row[0] as String),
                        kind: try Self.parseReport(row[1], column: "kind", table: "obligation"),
                        state: try Self.parseReport(row[2], column: "state", table: "obligation"),
                        count: 0)
                    counts[tally, default: 0] += row[3] as Int
                }
            }
            for (start, end) in Self.unsummarised(from, to, periods) {
                try add(
                    Row.fetchAll(
                        db,
                        SQLRequest(
                            literal: """
                                SELECT o.owner_department, o.kind, o.state, count(*) FROM obligation o
                                WHERE o.due_at >= \(start.seconds) AND o.due_at < \(end.seconds) AND \(scoped)
                                GROUP BY o.owner_department, o.kind, o.state
                                """)))
            }
            for period in periods {
                try add(
                    Row.fetchAll(
                        db,
                        SQLRequest(
                            literal: """
                                SELECT o.owner_department, o.kind, o.state, sum(o.count) FROM report_obligation o
                                WHERE o.period_start = \(period.start.seconds) AND \(scoped)
                                GROUP BY o.owner_department, o.kind, o.state
                                """)))
            }
            return ObligationTally.listed(counts)
        }
    }

    package func agentActivity(from: Timestamp, to: Timestamp) async throws -> [AgentID: AgentActivity] {
        try await self.reader.read { db in
            let periods = try Self.summarisedPeriods(db, within: from, to)
            var figures: [AgentID: AgentActivity] = [:]
            for (start, end) in Self.unsummarised(from, to, periods) {
                for (agent, activity) in try Self.agentActivity(db, from: start, to: end) {
                    figures[agent, default: AgentActivity(agent: agent)].add(activity)
                }
            }
            for period in periods {
                for (agent, activity) in try Self.summarisedAgentActivity(db, period: period) {
                    figures[agent, default: AgentActivity(agent: agent)].add(activity)
                }
            }
            return figures
        }
    }

    /// Every agent's raw figures over `[from, to)` from the derived rows.
    static func agentActivity(_ db: Database, from: Timestamp, to: Timestamp) throws -> [AgentID: AgentActivity] {
        var figures: [AgentID: AgentActivity] = [:]
        func update(_ agent: String, _ body: (inout AgentActivity) -> Void) {
            let id = AgentID(agent)
            body(&figures[id, default: AgentActivity(agent: id)])
        }
        let period: StatementArguments = [from.seconds, to.seconds]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT c.fr_agent, count(*),
                    sum(c.status IN ('resolved', 'closed', 'referred_out')),
                    sum(c.status IN ('resolved', 'closed', 'referred_out') AND EXISTS (SELECT 1 FROM contact r WHERE r.repeat_of = c.id))
                FROM contact c WHERE c.fr_agent IS NOT NULL AND c.fr_bound_at >= ? AND c.fr_bound_at < ?
                GROUP BY c.fr_agent
                """, arguments: period)
        {
            update(row[0]) {
                $0.firstResponded = row[1]
                $0.settled = row[2]
                $0.repeated = row[3]
            }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT satisfied_by, sum(state = 'satisfied'), sum(state = 'satisfied_late') FROM obligation
                WHERE kind = 'callback' AND satisfied_via = 'callback' AND satisfied_by IS NOT NULL
                    AND satisfied_at >= ? AND satisfied_at < ?
                GROUP BY satisfied_by
                """, arguments: period)
        {
            update(row[0]) {
                $0.callbacksOnTime = row[1]
                $0.callbacksLate = row[2]
            }
        }
        // Who acknowledged: the receiving agent when one owns the hand-off, else the agent who
        // acknowledged it by hand, else the one whose call to the customer satisfied it.
        // Warm hand-offs are satisfied at once: nothing was acknowledged, so they are left out.
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT COALESCE(o.owner_agent,
                        (SELECT a.agent FROM action a WHERE a.obligation_id = o.id AND a.kind = 'acknowledge' ORDER BY a.at LIMIT 1),
                        o.satisfied_by) AS who,
                    o.acknowledged_at - o.created_at
                FROM obligation o
                WHERE o.kind = 'handoff' AND o.acknowledged_at IS NOT NULL AND o.satisfied_via IS NOT 'warm_transfer'
                    AND o.created_at >= ? AND o.created_at < ?
                ORDER BY o.created_at, o.id
                """, arguments: period)
        {
            guard let who: String = row[0] else { continue }
            let seconds: Int64 = row[1]
            update(who) { $0.handoffAcknowledgeSeconds.append(max(0, seconds)) }
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT v.agent, v.category, r.decision, count(*) FROM violation v
                LEFT JOIN violation_review r ON r.violation_id = v.id
                WHERE v.agent IS NOT NULL AND v.at >= ? AND v.at < ?
                GROUP BY v.agent, v.category, r.decision
                """, arguments: period)
        {
            let category: ViolationCategory = try Self.parseReport(row[1], column: "category", table: "violation")
            let decision: ViolationReview.Decision? = try (row[2] as String?).map {
                try Self.parseReport($0, column: "decision", table: "violation_review")
            }
            let count: Int = row[3]
            update(row[0]) {
                $0.violations[decision, default: 0] += count
                if decision == .accept { $0.acceptedByCategory[category, default: 0] += count }
            }
        }
        return figures
    }

    /// The summarised periods that lie wholly inside `[from, to)`, oldest first. A period cut by
    /// the report's bounds is read from what the derived rows still hold.
    static func summarisedPeriods(_ db: Database, within from: Timestamp, _ to: Timestamp) throws -> [ReportPeriod] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: "SELECT start, end FROM report_period WHERE start >= ? AND end <= ? ORDER BY start"),
            arguments: [from.seconds, to.seconds]
        ).map { ReportPeriod(start: Timestamp(seconds: $0[0]), end: Timestamp(seconds: $0[1])) }
    }

    /// `[from, to)` without the (sorted, disjoint, inside) `periods`.
    package static func unsummarised(_ from: Timestamp, _ to: Timestamp, _ periods: [ReportPeriod]) -> [(
        Timestamp, Timestamp
    )] {
        var gaps: [(Timestamp, Timestamp)] = []
        var cursor = from
        for period in periods {
            if period.start > cursor { gaps.append((cursor, period.start)) }
            cursor = max(cursor, period.end)
        }
        if cursor < to { gaps.append((cursor, to)) }
        return gaps
    }

    /// The figures a purge summarised for `period`, per agent.
    static func summarisedAgentActivity(_ db: Database, period: ReportPeriod) throws -> [AgentID: AgentActivity] {
        var figures: [AgentID: AgentActivity] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT agent, first_responded, settled, repeated, callbacks_on_time, callbacks_late, handoff_ack_seconds
                FROM report_agent WHERE period_start = ?
                """, arguments: [period.start.seconds])
        {
            let agent = AgentID(row[0] as String)
            var activity = AgentActivity(agent: agent)
            activity.firstResponded = row[1]
            activity.settled = row[2]
            activity.repeated = row[3]
            activity.callbacksOnTime = row[4]
            activity.callbacksLate = row[5]
            let seconds: String = row[6]
            activity.handoffAcknowledgeSeconds = try seconds.split(separator: ",").map { text in
                guard let value = Int64(text) else {
                    throw StoreError.corrupt(
                        table: "report_agent", rowid: nil, reason: "\"\(text)\" is not a number of seconds")
                }
                return value
            }
            figures[agent] = activity
        }
        for row in try Row.fetchAll(
            db,
            sql: "SELECT agent, category, decision, count FROM report_agent_violation WHERE period_start = ?",
            arguments: [period.start.seconds])
        {
            let agent = AgentID(row[0] as String)
            let category: ViolationCategory = try Self.parseReport(
                row[1], column: "category", table: "report_agent_violation")
            let decision: ViolationReview.Decision? = try (row[2] as String?).map {
                try Self.parseReport($0, column: "decision", table: "report_agent_violation")
            }
            let count: Int = row[3]
            figures[agent, default: AgentActivity(agent: agent)].violations[decision, default: 0] += count
            if decision == .accept { figures[agent]?.acceptedByCategory[category, default: 0] += count }
        }
        return figures
    }

    /// The SQL condition that limits obligations to a report scope (``ScopeSQL/obligations(_:alias:)``).
    private static func obligationScope(_ scope: ReportScope, alias o: String) -> (
        String, [any DatabaseValueConvertible]
    ) {
        let (sql, values) = ScopeSQL.obligations(scope, alias: o)
        return (sql, Self.arguments(values))
    }

    /// An enum read from an aggregate, where no single row (and so no rowid) stands behind it.
    static func parseReport<T: RawRepresentable>(_ text: String, column: String, table: String) throws -> T
    where T.RawValue == String {
        try StoredRows.decode(text, column: column, table: table, rowid: nil)
    }
}
