import FirstContactCore
import FirstContactStore

/// The supervisors' reports (SPEC "reports"; POLICY art. 19–20), computed from the store's SQL
/// aggregates: a month's report reads counts and the open obligations, never every contact.
package struct Reports: Sendable {
    package let store: any ContactStore
    package let directory: Directory

    package init(store: any ContactStore, directory: Directory) {
        self.store = store
        self.directory = directory
    }

    // MARK: Missed-callback board

    /// One line of the board: an obligation still owed.
    package struct BoardEntry: Hashable, Sendable {
        package var row: BoardRow
        /// The clock that runs out next: for a hand-off not yet acknowledged, the earlier of its
        /// acknowledge and contact deadlines; otherwise `due_at`.
        package var deadline: Timestamp
        /// Breached, or its deadline has passed (the scheduler may not have noticed yet).
        package var overdue: Bool
        /// Seconds until the deadline at the report's `now` (negative: how late it is).
        package var secondsLeft: Int64
    }

    /// The missed-callback board at `now`: every `pending` or `breached` callback and hand-off in
    /// the scope (at-risk and uncertain ones included, flagged), sorted overdue first (most late
    /// first), then at risk, then by deadline, then id.
    package func missedCallbacks(scope: ReportScope, now: Timestamp) async throws -> [BoardEntry] {
        let rows = try await self.store.openObligations(scope)
        let entries = rows.map { row -> BoardEntry in
            let o = row.obligation
            let deadline = o.deadline
            return BoardEntry(
                row: row, deadline: deadline, overdue: o.state == .breached || deadline <= now,
                secondsLeft: deadline - now)
        }
        // At risk only ranks among those not yet overdue: a breached obligation may keep its flag.
        func rank(_ entry: BoardEntry) -> Int { entry.overdue ? 0 : entry.row.obligation.atRisk ? 1 : 2 }
        return entries.sorted { a, b in
            (rank(a), a.deadline, a.row.obligation.id.rawValue) < (rank(b), b.deadline, b.row.obligation.id.rawValue)
        }
    }

    // MARK: SLA attainment

    /// Obligations of one kind due in the period, by outcome.
    package struct Outcomes: Hashable, Sendable {
        /// `satisfied`: met before the deadline (hand-offs: acknowledged and customer contacted in time).
        package var onTime = 0
        /// `satisfied_late`: met after the deadline.
        package var late = 0
        /// `breached`: the deadline passed and it is still not met.
        package var breached = 0
        /// `exhausted`: callbacks given up after `max_attempts` unanswered tries (supervisor review).
        package var exhausted = 0
        /// `pending`: not decided yet.
        package var open = 0
        /// `cancelled` (the contact was resolved or referred another way): not counted as decided.
        package var cancelled = 0

        /// Every obligation due in the period.
        package var due: Int { self.onTime + self.late + self.breached + self.exhausted + self.open + self.cancelled }
        /// Obligations whose SLA outcome is known: on time, late, breached or exhausted.
        package var decided: Int { self.onTime + self.late + self.breached + self.exhausted }
        /// On time ÷ decided; nil when nothing was decided.
        package var attainment: Double? { self.decided == 0 ? nil : Double(self.onTime) / Double(self.decided) }

        mutating func add(_ state: ObligationState, _ count: Int) {
            switch state {
            case .satisfied: self.onTime += count
            case .satisfiedLate: self.late += count
            case .breached: self.breached += count
            case .exhausted: self.exhausted += count
            case .pending: self.open += count
            case .cancelled: self.cancelled += count
            }
        }
    }

    /// One department's attainment: obligations it owns whose `due_at` lies in the period.
    package struct DepartmentSLA: Hashable, Sendable {
        package var department: DepartmentID
        package var callbacks = Outcomes()
        package var handoffs = Outcomes()
    }

    /// SLA attainment per owning department for obligations due in `[from, to)`. Admins get every
    /// configured department, supervisors theirs (with zeros where nothing was due), agents the
    /// departments of the obligations they own.
    package func sla(scope: ReportScope, from: Timestamp, to: Timestamp) async throws -> [DepartmentSLA] {
        var byDepartment: [DepartmentID: DepartmentSLA] = [:]
        switch scope {
        case .all:
            for department in self.directory.configuration.departments {
                byDepartment[department.id] = DepartmentSLA(department: department.id)
            }
        case .departments(let departments):
            for department in departments { byDepartment[department] = DepartmentSLA(department: department) }
        case .agent:
            break
        }
        for tally in try await self.store.obligationTallies(dueFrom: from, to: to, scope: scope) {
            var entry = byDepartment[tally.department] ?? DepartmentSLA(department: tally.department)
            switch tally.kind {
            case .callback: entry.callbacks.add(tally.state, tally.count)
            case .handoff: entry.handoffs.add(tally.state, tally.count)
            }
            byDepartment[tally.department] = entry
        }
        // Configuration order (how supervisors know the departments), then any others by id.
        let order = Dictionary(
            self.directory.configuration.departments.enumerated().map { ($1.id, $0) },
            uniquingKeysWith: { first, _ in first })
        return byDepartment.values.sorted {
            (order[$0.department] ?? .max, $0.department.rawValue) < (
                order[$1.department] ?? .max, $1.department.rawValue
            )
        }
    }

    // MARK: Per-agent figures

    /// One agent's figures over a period (POLICY art. 19 praise, art. 20 accountability).
    package struct AgentFigures: Hashable, Sendable {
        package var agent: AgentID
        package var department: DepartmentID?
        /// Contacts whose first responder the agent became in the period.
        package var firstResponded = 0
        /// Of those, contacts now `resolved`, `closed` or `referred_out`.
        package var settled = 0
        /// Of the settled ones, those the customer came back about within `repeat_window`
        /// (a later contact names them as `repeat_of`).
        package var repeated = 0
        /// Settled without a repeat: first-contact resolutions.
        package var resolvedFirstTime: Int { self.settled - self.repeated }
        /// First-contact resolutions ÷ settled; nil when nothing was settled.
        package var firstContactResolution: Double? {
            self.settled == 0 ? nil : Double(self.resolvedFirstTime) / Double(self.settled)
        }
        /// Callbacks the agent made (an answered outbound call satisfied the callback) in the
        /// period, before / after the due time.
        package var callbacksOnTime = 0
        package var callbacksLate = 0
        /// Hand-offs the agent received that were acknowledged (created in the period), and the
        /// median and 90th percentile (nearest rank) of the wall-clock seconds to acknowledge.
        package var handoffsAcknowledged = 0
        package var acknowledgeMedian: Int64?
        package var acknowledgeP90: Int64?
        /// Violations held against the agent (`at` in the period) that a supervisor accepted —
        /// the only ones that count against them — by category.
        package var accepted: [ViolationCategory: Int] = [:]
        /// Accepted in total.
        package var acceptedTotal: Int { self.accepted.values.reduce(0, +) }
        /// Shown separately, not counted: excused, dismissed, and not yet reviewed.
        package var excused = 0
        package var dismissed = 0
        package var unreviewed = 0
    }

    /// Figures for every configured agent in the scope (admins: all; supervisors: agents of
    /// their departments; an agent: themselves), in configuration order, for `[from, to)`.
    package func agents(scope: ReportScope, from: Timestamp, to: Timestamp) async throws -> [AgentFigures] {
        let activity = try await self.store.agentActivity(from: from, to: to)
        let agents = self.directory.configuration.agents.filter { agent in
            switch scope {
            case .all: true
            case .departments(let departments): departments.contains(agent.department)
            case .agent(let me, _): agent.id == me
            }
        }
        return agents.map { agent in
            var figures = AgentFigures(agent: agent.id, department: agent.department)
            guard let raw = activity[agent.id] else { return figures }
            figures.firstResponded = raw.firstResponded
            figures.settled = raw.settled
            figures.repeated = raw.repeated
            figures.callbacksOnTime = raw.callbacksOnTime
            figures.callbacksLate = raw.callbacksLate
            let seconds = raw.handoffAcknowledgeSeconds.sorted()
            figures.handoffsAcknowledged = seconds.count
            figures.acknowledgeMedian = Self.percentile(seconds, 50)
            figures.acknowledgeP90 = Self.percentile(seconds, 90)
            figures.accepted = raw.acceptedByCategory
            figures.excused = raw.violations[.excuse] ?? 0
            figures.dismissed = raw.violations[.dismiss] ?? 0
            figures.unreviewed = raw.violations[nil] ?? 0
            return figures
        }
    }

    /// Nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
    /// values at or below it (median of 4 values: the 2nd).
    package static func percentile(_ sorted: [Int64], _ p: Int) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = (p * sorted.count + 99) / 100
        return sorted[max(0, min(sorted.count - 1, rank - 1))]
    }

    // MARK: Periods

    /// The report period from the `from`/`to` query values: a date (`2026-11-01`, local midnight
    /// in `zone`; a `to` date includes that whole day) or a time (`2026-11-01T08:00:00+08:00`, or
    /// without an offset: local time in `zone`). Missing values default to the month of `now`
    /// in `zone`. The period is `[from, to)`.
    /// - Throws: ``PeriodError`` for text that is neither, or an empty period.
    /// The period a report covers. Without `to` it ends with the day of the newest data
    /// (`newest`, else `now`) in the configured zone; without `from` it starts 7 days before its
    /// end, so a report opens on the days that have records, not on an empty calendar month.
    package static func period(
        from: String?, to: String?, now: Timestamp, newest: Timestamp? = nil, zone: ZoneRules
    ) throws -> (from: Timestamp, to: Timestamp) {
        let midnight = CivilTime(secondOfDay: 0)
        let start = try from.map { try Self.instant($0, zone: zone, endOfDay: false) }
        let end: Timestamp
        if let to {
            end = try Self.instant(to, zone: zone, endOfDay: true)
        } else {
            let dataEnd = zone.instant(zone.local(newest ?? now).date.adding(days: 1), midnight)
            // A `from` after the newest data still gets a week to look at.
            if let start, start >= dataEnd {
                end = zone.instant(zone.local(start).date.adding(days: Self.defaultDays), midnight)
            } else {
                end = dataEnd
            }
        }
        let resolvedStart = start ?? zone.instant(zone.local(end - 1).date.adding(days: 1 - Self.defaultDays), midnight)
        guard resolvedStart < end else { throw PeriodError(message: "the period is empty: from must be before to") }
        return (resolvedStart, end)
    }

    /// Days a report covers when no `from` is given.
    package static let defaultDays = 7

    /// The time of the newest record in the store: where a report without a period ends.
    package func newestData() async throws -> Timestamp? {
        try await self.store.latestEventTime()
    }

    private static func instant(_ text: String, zone: ZoneRules, endOfDay: Bool) throws -> Timestamp {
        if let date = CivilDate(iso: text) {
            return zone.instant(endOfDay ? date.adding(days: 1) : date, CivilTime(secondOfDay: 0))
        }
        if let time = Timestamp(iso8601: text) { return time }
        if text.utf8.count == 19, let local = LocalDateTime(bytes: Array(text.utf8)) { return zone.instant(local) }
        throw PeriodError(message: "\"\(text)\" is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SS[Z|±HH:MM])")
    }
}

/// A `from`/`to` that cannot be read.
package struct PeriodError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { self.message }
}
