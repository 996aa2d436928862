/// A promise with a clock: call the customer back, or take over a handed-off matter.
package struct Obligation: Hashable, Sendable {
    package var id: ObligationID
    package var kind: ObligationKind
    package var owner: Owner
    package var createdAt: Timestamp
    package var dueAt: Timestamp
    /// Hand-offs only: the acknowledge clock.
    package var ackDueAt: Timestamp?
    package var acknowledgedAt: Timestamp?
    /// Where it stands, with what only that standing carries.
    package var standing: Standing
    /// Its clock ran out while a watched feed was silent: missing data, not a breach, until
    /// records or a supervisor settle it (SPEC "The scheduler").
    package var uncertain: Bool
    /// Unanswered callback attempts.
    package var attempts: Int
    /// Missed calls folded into it (the one that made it included).
    package var missedCount: Int
    /// The call it grew from (`action:<id>` for a hand-off registered by hand).
    package var call: CallKey
    /// Hand-offs registered by hand: what the first responder wrote down (POLICY art. 11).
    package var registration: HandoffRegistration?
    /// Callbacks the caller asked for at another number (keyed in the IVR); nil: the contact's customer.
    package var callbackNumber: CustomerNumber?

    package init(
        id: ObligationID, kind: ObligationKind, owner: Owner, createdAt: Timestamp, dueAt: Timestamp,
        ackDueAt: Timestamp? = nil, call: CallKey
    ) {
        self.id = id
        self.kind = kind
        self.owner = owner
        self.createdAt = createdAt
        self.dueAt = dueAt
        self.ackDueAt = ackDueAt
        self.acknowledgedAt = nil
        self.standing = .pending(atRisk: nil)
        self.uncertain = false
        self.attempts = 0
        self.missedCount = 0
        self.call = call
        self.registration = nil
        self.callbackNumber = nil
    }
}

extension Obligation {
    /// Where an obligation stands. Each standing carries only what it can have: a satisfaction
    /// only once satisfied, a breach only once the clock ran out, the at-risk mark only while pending.
    package enum Standing: Hashable, Sendable {
        /// Owed, its clock running; `atRisk` once it passed the at-risk share of its SLA.
        case pending(atRisk: AtRisk?)
        /// Its clock ran out unsatisfied.
        case breached(Breach)
        /// Met in time.
        case satisfied(Satisfaction)
        /// Met after its clock ran out; `breach` is nil when the clock ran out while a feed was
        /// silent (uncertain, never breached).
        case satisfiedLate(Satisfaction, breach: Breach?)
        /// A callback whose attempts ran out: supervisor review instead of a breach.
        case exhausted
        /// No longer owed: the contact was resolved or referred out first.
        case cancelled
    }

    /// A pending obligation past the at-risk share of its SLA.
    package struct AtRisk: Hashable, Sendable {
        /// When it became at risk; nil when the stored state does not say (the store keeps the flag).
        package var since: Timestamp?

        package init(since: Timestamp?) {
            self.since = since
        }
    }

    /// Who met an obligation, when and how.
    package struct Satisfaction: Hashable, Sendable {
        package var at: Timestamp
        package var by: AgentID
        package var via: SatisfiedVia

        package init(at: Timestamp, by: AgentID, via: SatisfiedVia) {
            self.at = at
            self.by = by
            self.via = via
        }
    }

    /// When an obligation's clock ran out (the violation's `at`), and how far it has climbed.
    package struct Breach: Hashable, Sendable {
        package var at: Timestamp
        /// nil until the derivation's end puts it on the escalation ladder.
        package var escalation: Escalation?

        package init(at: Timestamp, escalation: Escalation? = nil) {
            self.at = at
            self.escalation = escalation
        }
    }

    /// A breach's step on the escalation ladder (see ``EscalationLadder``).
    package struct Escalation: Hashable, Sendable {
        /// 1: the head of the owning department; 2: leadership.
        package var level: Int
        /// When it reached the level; nil when the stored state does not say.
        package var since: Timestamp?

        package init(level: Int, since: Timestamp?) {
            self.level = level
            self.since = since
        }
    }
}

// MARK: The flat view the export, the store and the pages read

extension Obligation {
    package var state: ObligationState {
        switch self.standing {
        case .pending: .pending
        case .breached: .breached
        case .satisfied: .satisfied
        case .satisfiedLate: .satisfiedLate
        case .exhausted: .exhausted
        case .cancelled: .cancelled
        }
    }

    package var atRisk: Bool { self.atRiskMark != nil }

    /// When it became at risk (pending ones only).
    package var atRiskSince: Timestamp? { self.atRiskMark?.since }

    package var satisfaction: Satisfaction? {
        switch self.standing {
        case .satisfied(let satisfaction), .satisfiedLate(let satisfaction, _): satisfaction
        case .pending, .breached, .exhausted, .cancelled: nil
        }
    }

    package var satisfiedAt: Timestamp? { self.satisfaction?.at }
    package var satisfiedBy: AgentID? { self.satisfaction?.by }
    package var satisfiedVia: SatisfiedVia? { self.satisfaction?.via }

    package var breach: Breach? {
        switch self.standing {
        case .breached(let breach): breach
        case .satisfiedLate(_, let breach): breach
        case .pending, .satisfied, .exhausted, .cancelled: nil
        }
    }

    /// When its clock ran out (the violation's `at`), if it did.
    package var breachedAt: Timestamp? { self.breach?.at }

    /// 0 until breached; 1 or 2 once on the escalation ladder.
    package var escalationLevel: Int { self.breach?.escalation?.level ?? 0 }

    /// When it reached its current escalation level (nil at level 0).
    package var escalatedAt: Timestamp? { self.breach?.escalation?.since }

    private var atRiskMark: AtRisk? {
        guard case .pending(let atRisk) = self.standing else { return nil }
        return atRisk
    }
}

extension Obligation.Standing {
    /// The standing the flat stored columns describe; nil when they contradict each other (a
    /// satisfaction without a satisfied state, an escalation without a breach, at risk but not pending).
    package init?(
        state: ObligationState, atRisk: Bool, satisfaction: Obligation.Satisfaction?, breachedAt: Timestamp?,
        escalationLevel: Int
    ) {
        guard (0...2).contains(escalationLevel), escalationLevel == 0 || breachedAt != nil else { return nil }
        guard !atRisk || state == .pending else { return nil }
        guard (satisfaction != nil) == (state == .satisfied || state == .satisfiedLate) else { return nil }
        let breach = breachedAt.map {
            Obligation.Breach(
                at: $0,
                escalation: escalationLevel == 0 ? nil : Obligation.Escalation(level: escalationLevel, since: nil))
        }
        switch (state, satisfaction, breach) {
        case (.pending, _, nil): self = .pending(atRisk: atRisk ? Obligation.AtRisk(since: nil) : nil)
        case (.breached, _, let breach?): self = .breached(breach)
        case (.satisfied, let satisfaction?, nil): self = .satisfied(satisfaction)
        case (.satisfiedLate, let satisfaction?, let breach): self = .satisfiedLate(satisfaction, breach: breach)
        case (.exhausted, _, nil): self = .exhausted
        case (.cancelled, _, nil): self = .cancelled
        default: return nil
        }
    }
}

// MARK: Transitions

extension Obligation {
    /// Its clock ran out unsatisfied at `time`.
    package mutating func breach(at time: Timestamp) {
        self.standing = .breached(Breach(at: time))
    }

    /// Met: late when it was breached or `late` says so (its clock ran out inside a feed gap). A
    /// hand-off met by contacting the customer is acknowledged then too, if it was not before.
    package mutating func satisfy(_ satisfaction: Satisfaction, late: Bool = false) {
        switch self.standing {
        case .breached(let breach): self.standing = .satisfiedLate(satisfaction, breach: breach)
        default: self.standing = late ? .satisfiedLate(satisfaction, breach: nil) : .satisfied(satisfaction)
        }
        if self.kind == .handoff, self.acknowledgedAt == nil { self.acknowledgedAt = satisfaction.at }
    }

    /// A pending obligation passed the at-risk share of its SLA at `since`.
    package mutating func markAtRisk(since: Timestamp?) {
        guard case .pending = self.standing else { return }
        self.standing = .pending(atRisk: AtRisk(since: since))
    }

    /// A breach reached `level` of the escalation ladder at `since`.
    package mutating func escalate(to level: Int, since: Timestamp?) {
        let escalation = Escalation(level: level, since: since)
        switch self.standing {
        case .breached(var breach):
            breach.escalation = escalation
            self.standing = .breached(breach)
        case .satisfiedLate(let satisfaction, var breach?):
            breach.escalation = escalation
            self.standing = .satisfiedLate(satisfaction, breach: breach)
        case .pending, .satisfied, .satisfiedLate, .exhausted, .cancelled:
            break
        }
    }
}
