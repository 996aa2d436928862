import FirstContactCore
import FirstContactStore
import PostgresNIO

/// Report queries: the aggregates ``SQLiteContactStore`` runs, in PostgreSQL's dialect (booleans
/// counted with FILTER, sums cast back to bigint).
extension PostgresContactStore {
    package func openObligations(_ scope: ReportScope) async throws -> [BoardRow] {
        let condition = Self.obligationScope(scope, alias: "o")
        let columns = Self.obligationColumns.split(separator: ",").map {
            "o." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }.joined(separator: ", ")
        return try await self.read { tx in
            try await tx.rows(
                """
                SELECT \(columns), c.customer FROM obligation o JOIN contact c ON c.id = o.contact_id
                WHERE o.state IN ('pending', 'breached') AND \(condition.sql)
                ORDER BY o.due_at, o.id
                """
            ) { condition.bind(&$0) }.map { row in
                let c = Columns(row)
                return BoardRow(
                    obligation: try Self.obligation(c), contact: ContactID(try c.text(2)), customer: try c.text(23))
            }
        }
    }

    package func obligationTallies(dueFrom from: Timestamp, to: Timestamp, scope: ReportScope) async throws
        -> [ObligationTally]
    {
        let scoped = Self.obligationScope(scope, alias: "o")
        return try await self.read { tx in
            let periods = try await Self.summarisedPeriods(tx, within: from, to)
            var counts: [ObligationTally: Int] = [:]
            func add(_ rows: [PostgresRow]) throws {
                for row in rows {
                    let c = Columns(row)
                    let tally = ObligationTally(
                        department: DepartmentID(try c.text(0)),
                        kind: try Self.parseReport(try c.text(1), column: "kind", table: "obligation"),
                        state: try Self.parseReport(try c.text(2), column: "state", table: "obligation"),
                        count: 0)
                    counts[tally, default: 0] += try c.int(3)
                }
            }
            for (start, end) in SQLiteContactStore.unsummarised(from, to, periods) {
                try add(
                    try await tx.rows(
                        """
                        SELECT o.owner_department, o.kind, o.state, count(*) FROM obligation o
                        WHERE o.due_at >= ? AND o.due_at < ? AND \(scoped.sql)
                        GROUP BY o.owner_department, o.kind, o.state
                        """
                    ) {
                        $0.add(start.seconds)
                        $0.add(end.seconds)
                        scoped.bind(&$0)
                    })
            }
            for period in periods {
                try add(
                    try await tx.rows(
                        """
                        SELECT o.owner_department, o.kind, o.state, sum(o.count)::bigint FROM report_obligation o
                        WHERE o.period_start = ? AND \(scoped.sql)
                        GROUP BY o.owner_department, o.kind, o.state
                        """
                    ) {
                        $0.add(period.start.seconds)
                        scoped.bind(&$0)
                    })
            }
            return ObligationTally.listed(counts)
        }
    }

    package func agentActivity(from: Timestamp, to: Timestamp) async throws -> [AgentID: AgentActivity] {
        try await self.read { tx in
            let periods = try await Self.summarisedPeriods(tx, within: from, to)
            var figures: [AgentID: AgentActivity] = [:]
            for (start, end) in SQLiteContactStore.unsummarised(from, to, periods) {
                for (agent, activity) in try await Self.agentActivity(tx, from: start, to: end) {
                    figures[agent, default: AgentActivity(agent: agent)].add(activity)
                }
            }
            for period in periods {
                for (agent, activity) in try await Self.summarisedAgentActivity(tx, period: period) {
                    figures[agent, default: AgentActivity(agent: agent)].add(activity)
                }
            }
            return figures
        }
    }

    static func agentActivity(_ tx: PostgresTransaction, from: Timestamp, to: Timestamp) async throws
        -> [AgentID: AgentActivity]
    {
        var figures: [AgentID: AgentActivity] = [:]
        func update(_ agent: String, _ body: (inout AgentActivity) throws -> Void) rethrows {
            let id = AgentID(agent)
            try body(&figures[id, default: AgentActivity(agent: id)])
        }
        let period: (inout PostgresBinder) -> Void = {
            $0.add(from.seconds)
            $0.add(to.seconds)
        }
        for row in try await tx.rows(
            """
            SELECT c.fr_agent, count(*),
                count(*) FILTER (WHERE c.status IN ('resolved', 'closed', 'referred_out')),
                count(*) FILTER (WHERE c.status IN ('resolved', 'closed', 'referred_out')
                    AND EXISTS (SELECT 1 FROM contact r WHERE r.repeat_of = c.id))
            FROM contact c WHERE c.fr_agent IS NOT NULL AND c.fr_bound_at >= ? AND c.fr_bound_at < ?
            GROUP BY c.fr_agent
            """, period)
        {
            let c = Columns(row)
            try update(try c.text(0)) {
                $0.firstResponded = try c.int(1)
                $0.settled = try c.int(2)
                $0.repeated = try c.int(3)
            }
        }
        for row in try await tx.rows(
            """
            SELECT satisfied_by, count(*) FILTER (WHERE state = 'satisfied'), count(*) FILTER (WHERE state = 'satisfied_late')
            FROM obligation
            WHERE kind = 'callback' AND satisfied_via = 'callback' AND satisfied_by IS NOT NULL
                AND satisfied_at >= ? AND satisfied_at < ?
            GROUP BY satisfied_by
            """, period)
        {
            let c = Columns(row)
            try update(try c.text(0)) {
                $0.callbacksOnTime = try c.int(1)
                $0.callbacksLate = try c.int(2)
            }
        }
        // Who acknowledged: as on SQLite (the owning agent, else who acknowledged by hand, else
        // whose call satisfied it); warm hand-offs acknowledged nothing.
        for row in try await tx.rows(
            """
            SELECT COALESCE(o.owner_agent,
                    (SELECT a.agent FROM action a WHERE a.obligation_id = o.id AND a.kind = 'acknowledge' ORDER BY a.at LIMIT 1),
                    o.satisfied_by),
                o.acknowledged_at - o.created_at
            FROM obligation o
            WHERE o.kind = 'handoff' AND o.acknowledged_at IS NOT NULL AND o.satisfied_via IS DISTINCT FROM 'warm_transfer'
                AND o.created_at >= ? AND o.created_at < ?
            ORDER BY o.created_at, o.id
            """, period)
        {
            let c = Columns(row)
            guard let who = try c.optionalText(0) else { continue }
            let seconds = try c.int64(1)
            update(who) { $0.handoffAcknowledgeSeconds.append(max(0, seconds)) }
        }
        for row in try await tx.rows(
            """
            SELECT v.agent, v.category, r.decision, count(*) FROM violation v
            LEFT JOIN violation_review r ON r.violation_id = v.id
            WHERE v.agent IS NOT NULL AND v.at >= ? AND v.at < ?
            GROUP BY v.agent, v.category, r.decision
            """, period)
        {
            let c = Columns(row)
            let category: ViolationCategory = try Self.parseReport(
                try c.text(1), column: "category", table: "violation")
            let decision: ViolationReview.Decision? = try c.optionalText(2).map {
                try Self.parseReport($0, column: "decision", table: "violation_review")
            }
            let count = try c.int(3)
            update(try c.text(0)) {
                $0.violations[decision, default: 0] += count
                if decision == .accept { $0.acceptedByCategory[category, default: 0] += count }
            }
        }
        return figures
    }

    static func summarisedPeriods(_ tx: PostgresTransaction, within from: Timestamp, _ to: Timestamp) async throws
        -> [ReportPeriod]
    {
        try await tx.rows("SELECT start, \"end\" FROM report_period WHERE start >= ? AND \"end\" <= ? ORDER BY start") {
            $0.add(from.seconds)
            $0.add(to.seconds)
        }.map { row in
            let c = Columns(row)
            return ReportPeriod(start: Timestamp(seconds: try c.int64(0)), end: Timestamp(seconds: try c.int64(1)))
        }
    }

    static func summarisedAgentActivity(_ tx: PostgresTransaction, period: ReportPeriod) async throws
        -> [AgentID: AgentActivity]
    {
        var figures: [AgentID: AgentActivity] = [:]
        for row in try await tx.rows(
            """
            SELECT agent, first_responded, settled, repeated, callbacks_on_time, callbacks_late, handoff_ack_seconds
            FROM report_agent WHERE period_start = ?
            """, { $0.add(period.start.seconds) })
        {
            let c = Columns(row)
            let agent = AgentID(try c.text(0))
            var activity = AgentActivity(agent: agent)
            activity.firstResponded = try c.int(1)
            activity.settled = try c.int(2)
            activity.repeated = try c.int(3)
            activity.callbacksOnTime = try c.int(4)
            activity.callbacksLate = try c.int(5)
            activity.handoffAcknowledgeSeconds = try c.text(6).split(separator: ",").map { text in
                guard let value = Int64(text) else {
                    throw StoreError.corrupt(
                        table: "report_agent", rowid: nil, reason: "\"\(text)\" is not a number of seconds")
                }
                return value
            }
            figures[agent] = activity
        }
        for row in try await tx.rows(
            "SELECT agent, category, decision, count FROM report_agent_violation WHERE period_start = ?",
            { $0.add(period.start.seconds) })
        {
            let c = Columns(row)
            let agent = AgentID(try c.text(0))
            let category: ViolationCategory = try Self.parseReport(
                try c.text(1), column: "category", table: "report_agent_violation")
            let decision: ViolationReview.Decision? = try c.optionalText(2).map {
                try Self.parseReport($0, column: "decision", table: "report_agent_violation")
            }
            let count = try c.int(3)
            figures[agent, default: AgentActivity(agent: agent)].violations[decision, default: 0] += count
            if decision == .accept { figures[agent]?.acceptedByCategory[category, default: 0] += count }
        }
        return figures
    }

    /// Obligations limited to a report scope (``ScopeSQL/obligations(_:alias:)``).
    static func obligationScope(_ scope: ReportScope, alias o: String) -> Condition {
        let (sql, values) = ScopeSQL.obligations(scope, alias: o)
        return Condition(sql: sql, values: values)
    }

    static func parseReport<T: RawRepresentable>(_ text: String, column: String, table: String) throws -> T
    where T.RawValue == String {
        try StoredRows.decode(text, column: column, table: table, rowid: nil)
    }
}
