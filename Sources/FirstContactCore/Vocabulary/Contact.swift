/// The agent who first served the customer on a contact (SPEC rule 2). Bound once.
package struct FirstResponder: Hashable, Sendable {
    package var agent: AgentID
    package var boundAt: Timestamp
    package var via: BindingVia
    /// The call that bound it (nil for visits, letters and manual registration).
    package var call: CallKey?

    package init(agent: AgentID, boundAt: Timestamp, via: BindingVia, call: CallKey?) {
        self.agent = agent
        self.boundAt = boundAt
        self.via = via
        self.call = call
    }
}

/// Who owes an obligation: a department, and an agent when one person owes it.
package struct Owner: Hashable, Sendable {
    package var department: DepartmentID
    package var agent: AgentID?

    package init(department: DepartmentID, agent: AgentID?) {
        self.department = department
        self.agent = agent
    }
}

/// One step of the `why` trail: which rule decided what, from which record.
package struct WhyEntry: Hashable, Sendable {
    package var at: Timestamp
    package var rule: WhyRule
    package var message: String
    /// Call key and source positions of the records the decision rests on.
    package var call: CallKey?
    package var evidence: [SourcePosition]

    package init(at: Timestamp, rule: WhyRule, message: String, call: CallKey? = nil, evidence: [SourcePosition] = []) {
        self.at = at
        self.rule = rule
        self.message = message
        self.call = call
        self.evidence = evidence
    }
}

/// A recorded breach of the rule, for supervisor review (POLICY §5).
package struct Violation: Hashable, Sendable {
    package var id: ViolationID
    package var obligation: ObligationID?
    package var contact: ContactID
    package var category: ViolationCategory
    package var department: DepartmentID
    package var agent: AgentID?
    package var at: Timestamp
    /// When the obligation it grew from was satisfied after all (late): the violation stays, remedied.
    package var remediedAt: Timestamp?

    package init(
        id: ViolationID, obligation: ObligationID?, contact: ContactID, category: ViolationCategory,
        department: DepartmentID, agent: AgentID?, at: Timestamp
    ) {
        self.id = id
        self.obligation = obligation
        self.contact = contact
        self.category = category
        self.department = department
        self.agent = agent
        self.at = at
        self.remediedAt = nil
    }
}

/// A first-contact record: one customer matter.
package struct Contact: Hashable, Sendable {
    package var id: ContactID
    package var customer: CustomerNumber
    package var customerRaw: String
    package var channel: ContactChannel
    package var department: DepartmentID?
    package var category: ContactCategory
    package var status: ContactStatus
    package var repeatOf: ContactID?
    package var firstResponder: FirstResponder?
    package var calls: [CallKey]
    package var obligations: [Obligation]
    package var createdAt: Timestamp
    /// Agents who were rung and did not answer (they matter for accountability).
    package var ringNoAnswer: [AgentID]
    package var lastActivity: Timestamp
    package var closedAt: Timestamp?
    /// Set when a person resolved the contact or referred it out.
    package var resolution: Resolution?
    package var why: [WhyEntry]

    package init(
        id: ContactID, customer: CustomerNumber, customerRaw: String, channel: ContactChannel,
        department: DepartmentID?, category: ContactCategory, createdAt: Timestamp
    ) {
        self.id = id
        self.customer = customer
        self.customerRaw = customerRaw
        self.channel = channel
        self.department = department
        self.category = category
        self.status = .open
        self.repeatOf = nil
        self.firstResponder = nil
        self.calls = []
        self.obligations = []
        self.createdAt = createdAt
        self.ringNoAnswer = []
        self.lastActivity = createdAt
        self.closedAt = nil
        self.resolution = nil
        self.why = []
    }
}

/// A supervisor's decision on a violation (POLICY §5: people decide, the software records).
package struct ViolationReview: Hashable, Sendable {
    package enum Decision: String, Hashable, Sendable, CaseIterable {
        /// The violation stands and counts in the figures.
        case accept
        /// It happened, but for a reason that excuses it.
        case excuse
        /// It should not have been recorded.
        case dismiss
    }

    package var decision: Decision
    package var reason: String
    package var by: String
    package var at: Timestamp

    package init(decision: Decision, reason: String, by: String, at: Timestamp) {
        self.decision = decision
        self.reason = reason
        self.by = by
        self.at = at
    }
}
