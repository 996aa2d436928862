/// What was concluded about a customer before a re-derivation: the part of the stored state
/// that tells which transitions are new.
package struct PreviousConclusions: Hashable, Sendable {
    /// One stored obligation, as far as its notifications go.
    package struct Obligation: Hashable, Sendable {
        package var state: ObligationState
        package var contact: ContactID
        package var atRisk: Bool
        package var escalationLevel: Int
        package var acknowledged: Bool
        /// Who owed it: whom a notice about it is for when it is gone from the new derivation.
        package var owner: Owner?
        /// Whether it had breached its deadline (the store's count of breaches follows it).
        package var breached: Bool

        package init(
            state: ObligationState, contact: ContactID, atRisk: Bool, escalationLevel: Int, acknowledged: Bool,
            owner: Owner? = nil, breached: Bool = false
        ) {
            self.state = state
            self.contact = contact
            self.atRisk = atRisk
            self.escalationLevel = escalationLevel
            self.acknowledged = acknowledged
            self.owner = owner
            self.breached = breached
        }
    }

    /// One stored violation.
    package struct Violation: Hashable, Sendable {
        package var category: ViolationCategory
        package var contact: ContactID

        package init(category: ViolationCategory, contact: ContactID) {
            self.category = category
            self.contact = contact
        }
    }

    package var obligations: [ObligationID: Obligation]
    package var violations: [ViolationID: Violation]

    /// Nothing concluded yet: a customer derived for the first time.
    package init(obligations: [ObligationID: Obligation] = [:], violations: [ViolationID: Violation] = [:]) {
        self.obligations = obligations
        self.violations = violations
    }

    /// What `derivation` concludes, as a store keeps it.
    package init(concluding derivation: Derivation) {
        self.init()
        for contact in derivation.contacts {
            for o in contact.obligations {
                self.obligations[o.id] = Obligation(
                    state: o.state, contact: contact.id, atRisk: o.atRisk, escalationLevel: o.escalationLevel,
                    acknowledged: o.acknowledgedAt != nil, owner: o.owner, breached: o.breachedAt != nil)
            }
        }
        for violation in derivation.violations {
            self.violations[violation.id] = Violation(category: violation.category, contact: violation.contact)
        }
    }
}

/// One notification for the outbox (webhooks, the live board, server-sent events). Its `key` is
/// unique for what it announces, so announcing the same thing again writes nothing.
package struct Notice: Hashable, Sendable {
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
        /// A returning caller rings this agent first (`GET /v1/route`): the screen pop on the
        /// agent's "my work" page. Announced when the dialplan asks, not derived from records.
        case routed
    }

    package var key: String
    package var kind: Kind
    package var at: Timestamp
    package var contact: ContactID?
    package var obligation: ObligationID?
    package var violation: ViolationID?
    /// Who is told: the owning department and, when one person owes it or acted, that agent.
    package var department: DepartmentID?
    package var agent: AgentID?
    /// Escalation notices: the level reached.
    package var level: Int?
    package var detail: String

    package init(
        key: String, kind: Kind, at: Timestamp, contact: ContactID?, obligation: ObligationID? = nil,
        violation: ViolationID? = nil, department: DepartmentID? = nil, agent: AgentID? = nil, level: Int? = nil,
        detail: String
    ) {
        self.key = key
        self.kind = kind
        self.at = at
        self.contact = contact
        self.obligation = obligation
        self.violation = violation
        self.department = department
        self.agent = agent
        self.level = level
        self.detail = detail
    }
}

extension Notice {
    /// A supervisor's decision on a violation, announced to those the violation concerns: the
    /// same key and words in every store.
    package static func review(
        _ review: ViolationReview, of violation: ViolationID, contact: ContactID, obligation: ObligationID?,
        department: DepartmentID, agent: AgentID?
    ) -> Notice {
        Notice(
            key: "review:\(violation.rawValue):\(review.at.seconds):\(review.decision.rawValue)", kind: .review,
            at: review.at, contact: contact, obligation: obligation, violation: violation, department: department,
            agent: agent, level: nil, detail: "\(review.decision.rawValue) by \(review.by): \(review.reason)")
    }
}

/// A late record changed an earlier conclusion (SPEC rule 8): kept with the contact, at the clock
/// of the derivation that changed it.
package struct Amendment: Hashable, Sendable {
    package var contact: ContactID
    package var obligation: ObligationID?
    package var message: String

    package init(contact: ContactID, obligation: ObligationID?, message: String) {
        self.contact = contact
        self.obligation = obligation
        self.message = message
    }
}

/// What changed between two derivations of a customer: the notifications to send and the
/// amendments to keep. A pure function of the two, so every store announces the same
/// transitions under the same keys.
package struct DerivationChanges: Hashable, Sendable {
    /// In the order they are announced; no two share a key.
    package private(set) var notices: [Notice] = []
    package private(set) var amendments: [Amendment] = []
    private var keys: Set<String> = []

    /// - Parameters:
    ///   - previous: what the store concluded before (empty for a customer seen the first time).
    ///   - derivation: the new derivation of the same customer.
    ///   - clock: the clock of the new derivation; the time of transitions that have no instant
    ///     of their own (a cancellation, a reversal).
    package init(from previous: PreviousConclusions, to derivation: Derivation, clock: Timestamp) {
        var current: Set<ObligationID> = []
        for contact in derivation.contacts {
            for o in contact.obligations {
                current.insert(o.id)
                self.obligationChanged(o, of: contact.id, before: previous.obligations[o.id], clock: clock)
            }
        }
        for (id, before) in previous.obligations.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where !current.contains(id) {
            guard before.state.wasConcluded else { continue }
            self.amendments.append(
                Amendment(
                    contact: before.contact, obligation: id,
                    message: "a late record changed \(id) from \(before.state.rawValue) to no longer existing"))
            // Its breach was announced: whoever was told must learn that it no longer stands.
            if before.state != .exhausted {
                self.notify(
                    Notice(
                        key: "reversal:\(id.rawValue):\(clock.seconds)", kind: .reversal, at: clock,
                        contact: before.contact, obligation: id, department: before.owner?.department,
                        agent: before.owner?.agent, detail: "a late record withdrew \(id) and its breach"))
            }
        }
        let violations = Set(derivation.violations.map(\.id))
        for violation in derivation.violations where previous.violations[violation.id] == nil {
            // Breaches of obligations are announced as breaches; the rest as violations.
            guard violation.category != .notHandledInTime, violation.category != .handoffStalled else { continue }
            self.notify(
                Notice(
                    key: "violation:\(violation.id.rawValue)", kind: .violation, at: violation.at,
                    contact: violation.contact,
                    obligation: violation.obligation, violation: violation.id, department: violation.department,
                    agent: violation.agent, detail: "\(violation.category.rawValue) recorded"))
        }
        for (id, before) in previous.violations.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where !violations.contains(id) {
            self.amendments.append(
                Amendment(
                    contact: before.contact, obligation: nil,
                    message: "a late record disproved violation \(id) (\(before.category.rawValue)): reversed"))
        }
    }

    private mutating func obligationChanged(
        _ o: Obligation, of contact: ContactID, before: PreviousConclusions.Obligation?, clock: Timestamp
    ) {
        let id = o.id.rawValue
        func notice(
            _ key: String, _ kind: Notice.Kind, at: Timestamp, agent: AgentID? = nil, level: Int? = nil,
            _ detail: String
        ) -> Notice {
            Notice(
                key: key, kind: kind, at: at, contact: contact, obligation: o.id, department: o.owner.department,
                agent: agent ?? o.owner.agent, level: level, detail: detail)
        }
        if o.atRisk, before?.atRisk != true, let since = o.atRiskSince {
            self.notify(
                notice("at_risk:\(id)", .atRisk, at: since, "\(o.kind.rawValue) \(id) is at risk: due \(o.dueAt)"))
        }
        if let breachedAt = o.breachedAt, before.map({ $0.state == .breached || $0.state == .satisfiedLate }) != true {
            self.notify(notice("breach:\(id)", .breach, at: breachedAt, "\(o.kind.rawValue) \(id) breached"))
        }
        let levelBefore = before?.escalationLevel ?? 0
        if o.escalationLevel > levelBefore {
            for level in (levelBefore + 1)...o.escalationLevel {
                // Only the level reached now knows its instant; a level passed on the way up
                // started at the breach.
                let at = level == o.escalationLevel ? (o.escalatedAt ?? clock) : (o.breachedAt ?? clock)
                self.notify(
                    notice(
                        "escalation:\(id):\(level)", .escalation, at: at, level: level,
                        level == 1
                            ? "\(id) escalated to the head of \(o.owner.department)" : "\(id) escalated to leadership"))
            }
        }
        // Departures from the board, for obligations that were known to be owed (a batch that
        // creates and settles an obligation in one derivation announces nothing).
        if let before, before.state.isOutstanding {
            switch o.state {
            case .satisfied, .satisfiedLate:
                self.notify(
                    notice(
                        "satisfied:\(id)", .satisfied, at: o.satisfiedAt ?? clock, agent: o.satisfiedBy,
                        "\(o.kind.rawValue) \(id) \(o.state.rawValue) via \(o.satisfiedVia?.rawValue ?? "-")"))
            case .cancelled:
                self.notify(
                    notice(
                        "cancelled:\(id)", .cancelled, at: clock,
                        "\(o.kind.rawValue) \(id) cancelled: the contact was settled"))
            case .exhausted:
                self.notify(
                    notice(
                        "exhausted:\(id)", .exhausted, at: clock,
                        "callback \(id) exhausted after \(o.attempts) attempts: supervisor review"))
            case .pending, .breached:
                break
            }
        }
        if let before, !before.acknowledged, o.kind == .handoff, let acknowledged = o.acknowledgedAt,
            o.state.isOutstanding
        {
            self.notify(notice("acknowledged:\(id)", .acknowledged, at: acknowledged, "hand-off \(id) acknowledged"))
        }
        if let before, before.state.wasConcluded, before.state != o.state {
            self.amendments.append(
                Amendment(
                    contact: contact, obligation: o.id,
                    message: "a late record changed \(id) from \(before.state.rawValue) to \(o.state.rawValue)"))
            if o.breachedAt == nil, before.state != .exhausted {
                self.notify(
                    notice(
                        "reversal:\(id):\(clock.seconds)", .reversal, at: clock,
                        "a late record disproved the breach of \(id)"))
            }
        }
    }

    /// The first notice under a key wins, as in the outbox.
    private mutating func notify(_ notice: Notice) {
        guard self.keys.insert(notice.key).inserted else { return }
        self.notices.append(notice)
    }
}

extension ObligationState {
    /// A conclusion a late record can overturn, which is then amended rather than silently changed.
    fileprivate var wasConcluded: Bool { self == .breached || self == .satisfiedLate || self == .exhausted }
}
