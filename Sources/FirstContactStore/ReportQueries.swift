import FirstContactCore

/// Which obligations and figures a report may read, from the caller's role.
package enum ReportScope: Hashable, Sendable {
    /// Everything (admins).
    case all
    /// Obligations owned by these departments; agents who sit in them (supervisors).
    case departments(Set<DepartmentID>)
    /// One agent's own obligations, plus the unassigned hand-offs of their department (as
    /// the agent's `Scope` admits them); only that agent's figures.
    case agent(AgentID, department: DepartmentID?)

    /// Whether the obligation counts in these figures (the SQL of the report queries, in memory).
    package func covers(_ o: Obligation) -> Bool {
        switch self {
        case .all: true
        case .departments(let departments): departments.contains(o.owner.department)
        case .agent(let agent, let department):
            o.owner.agent == agent
                || (o.kind == .handoff && o.owner.agent == nil && department != nil && o.owner.department == department)
        }
    }
}

/// One open obligation on the missed-callback board, with the contact it belongs to.
package struct BoardRow: Hashable, Sendable {
    package var obligation: Obligation
    package var contact: ContactID
    /// The contact's customer (E.164 when it could be normalised, else the raw number, or `withheld`).
    package var customer: String

    package init(obligation: Obligation, contact: ContactID, customer: String) {
        self.obligation = obligation
        self.contact = contact
        self.customer = customer
    }
}

/// How many obligations of one owning department and kind, due in a period, are in one state.
package struct ObligationTally: Hashable, Sendable {
    package var department: DepartmentID
    package var kind: ObligationKind
    package var state: ObligationState
    package var count: Int

    package init(department: DepartmentID, kind: ObligationKind, state: ObligationState, count: Int) {
        self.department = department
        self.kind = kind
        self.state = state
        self.count = count
    }
}

/// One agent's raw figures over a period, as SQL aggregates them (see `Reports` for what each means).
package struct AgentActivity: Hashable, Sendable {
    package var agent: AgentID
    /// Contacts whose first responder this agent became (bound) in the period.
    package var firstResponded = 0
    /// Of those, the ones that are `resolved`, `closed` or `referred_out` now.
    package var settled = 0
    /// Of the settled ones, those a later contact of the same number names as `repeat_of`.
    package var repeated = 0
    /// Callbacks this agent made (`satisfied_via` callback) in the period: on time / late.
    package var callbacksOnTime = 0
    package var callbacksLate = 0
    /// Seconds (wall time) from a hand-off's creation to its acknowledgement, for hand-offs this
    /// agent received (owner, or the agent who acknowledged a department's hand-off) in the period.
    package var handoffAcknowledgeSeconds: [Int64] = []
    /// Violations held against this agent in the period, by review decision (nil: not reviewed yet).
    package var violations: [ViolationReview.Decision?: Int] = [:]
    /// Accepted violations by category.
    package var acceptedByCategory: [ViolationCategory: Int] = [:]

    package init(agent: AgentID) {
        self.agent = agent
    }

    /// Adds the figures of another period.
    package mutating func add(_ other: AgentActivity) {
        self.firstResponded += other.firstResponded
        self.settled += other.settled
        self.repeated += other.repeated
        self.callbacksOnTime += other.callbacksOnTime
        self.callbacksLate += other.callbacksLate
        self.handoffAcknowledgeSeconds += other.handoffAcknowledgeSeconds
        self.violations.merge(other.violations, uniquingKeysWith: +)
        self.acceptedByCategory.merge(other.acceptedByCategory, uniquingKeysWith: +)
    }
}

extension ObligationTally {
    /// Counts summed per (department, kind, state) as tallies, in the order reports list them.
    package static func listed(_ counts: [ObligationTally: Int]) -> [ObligationTally] {
        counts.map { tally, count in
            var tally = tally
            tally.count = count
            return tally
        }.sorted {
            ($0.department.rawValue, $0.kind.rawValue, $0.state.rawValue) < (
                $1.department.rawValue, $1.kind.rawValue, $1.state.rawValue
            )
        }
    }
}
