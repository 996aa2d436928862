/// Where a clock fires (SPEC rule 6): a pending obligation's deadline runs out (breach, or
/// `uncertain` inside a feed gap), an obligation is satisfied on time or late, a quiet contact
/// auto-closes; and, as of the derivation's clock, the at-risk mark and the escalation ladder.
extension Correlator.Walk {
    /// Applies everything that happens by `time` with no new call: breaches and auto-close.
    mutating func advance(to time: Timestamp) {
        guard let index = self.open else { return }
        for o in self.contacts[index].obligations.indices where self.contacts[index].obligations[o].state == .pending {
            let deadline = self.contacts[index].obligations[o].deadline
            guard deadline <= time else { continue }
            if let gap = self.gaps.first(where: { $0.contains(deadline) }) {
                // The feed was silent when the clock ran out: missing data is not a breach.
                if !self.contacts[index].obligations[o].uncertain {
                    self.contacts[index].obligations[o].uncertain = true
                    let id = self.contacts[index].obligations[o].id
                    self.explain(
                        index,
                        WhyEntry(
                            at: deadline, rule: .uncertain,
                            message:
                                "\(id)'s clock ran out while feed \(gap.feed) was silent (since \(gap.from)): uncertain, not breached, until records or a supervisor settle it"
                        ))
                }
            } else if self.awaitsSource(self.contacts[index].obligations[o], deadline: deadline) {
                // Late records are still arriving: what they bring next may satisfy it. Paging a
                // breach now would announce what a batch ingest of the same records never does.
                let id = self.contacts[index].obligations[o].id
                if self.held.insert(id).inserted {
                    self.explain(
                        index,
                        WhyEntry(
                            at: deadline, rule: .awaitingSource,
                            message:
                                "\(id)'s clock ran out while its records were still arriving late: decided once their source has settled (caught up, or quiet for lateness)"
                        ))
                }
            } else {
                self.breach(index, o, at: deadline)
            }
        }
        let contact = self.contacts[index]
        let closesAt = contact.lastActivity + self.policy.autoClose
        if !contact.obligations.contains(where: { $0.state.isOutstanding }), closesAt <= time {
            self.contacts[index].closedAt = closesAt
            self.explain(
                index,
                WhyEntry(
                    at: closesAt, rule: .autoClose,
                    message:
                        "no pending obligation and no activity for \(DurationSpec.text(self.policy.autoClose)): closed")
            )
            self.open = nil
        }
    }

    mutating func breach(_ c: Int, _ o: Int, at time: Timestamp) {
        var obligation = self.contacts[c].obligations[o]
        obligation.breach(at: time)
        self.contacts[c].obligations[o] = obligation
        let category: ViolationCategory = obligation.kind == .callback ? .notHandledInTime : .handoffStalled
        self.violations.append(
            Violation(
                id: ViolationID("\(obligation.id.rawValue).v"), obligation: obligation.id, contact: self.contacts[c].id,
                category: category, department: obligation.owner.department, agent: obligation.owner.agent, at: time))
        let clock =
            obligation.kind == .handoff && time == obligation.ackDueAt && obligation.acknowledgedAt == nil
            ? "acknowledge clock" : "clock"
        self.explain(
            c,
            WhyEntry(
                at: time, rule: .breach,
                message:
                    "\(obligation.kind.rawValue) \(obligation.id) \(clock) ran out unsatisfied: breached, \(category.rawValue) against \(Self.describe(obligation.owner))",
                call: obligation.call))
    }

    mutating func satisfy(_ c: Int, _ o: Int, at time: Timestamp, by agent: AgentID, via: SatisfiedVia, call: Call) {
        var lateButUncertain = false
        if self.contacts[c].obligations[o].state == .pending {
            let deadline = self.contacts[c].obligations[o].deadline
            if deadline < time {
                if self.gaps.contains(where: { $0.contains(deadline) }) {
                    self.contacts[c].obligations[o].uncertain = true
                    lateButUncertain = true
                } else if self.awaitsSource(self.contacts[c].obligations[o], deadline: deadline) {
                    // An earlier record that meets it in time may still arrive: whether this was
                    // late is decided once the backfill settles (met, for now).
                    self.held.insert(self.contacts[c].obligations[o].id)
                } else {
                    self.breach(c, o, at: deadline)
                }
            }
        }
        var obligation = self.contacts[c].obligations[o]
        if obligation.state == .breached,
            let v = self.violations.firstIndex(where: { $0.id.rawValue == "\(obligation.id.rawValue).v" })
        {
            self.violations[v].remediedAt = time
        }
        obligation.satisfy(Obligation.Satisfaction(at: time, by: agent, via: via), late: lateButUncertain)
        self.contacts[c].obligations[o] = obligation
        self.explain(
            c,
            WhyEntry(
                at: time, rule: .satisfied(obligation.kind),
                message: "\(obligation.id) \(obligation.state.rawValue) via \(via.rawValue) by agent \(agent)",
                call: call.key, evidence: call.evidence))
    }

    /// Escalation, at-risk and not_escalated for one obligation; returns its future check times.
    mutating func settle(_ c: Int, _ o: Int, asOf: Timestamp) -> [Timestamp] {
        let obligation = self.contacts[c].obligations[o]
        let department = self.directory.department(obligation.owner.department)
        let levels = self.directory.serviceLevels(of: obligation.owner.department)
        let hours = self.directory.hours(of: obligation.owner.department)
        var next: [Timestamp] = []
        switch obligation.state {
        case .pending:
            next.append(obligation.deadline)
            let riskAt = obligation.atRiskMark(levels: levels, hours: hours, percent: self.policy.atRiskPercent)
            if riskAt <= asOf, self.awaitsSource(obligation, deadline: obligation.deadline) {
                // Overdue already when its late records arrived, its breach waits for them to
                // settle: what they bring next may meet it, and then a batch ingest of the same
                // records would have warned of nothing. One at risk but not yet overdue is
                // marked now, as a batch ingest at this clock would.
                self.held.insert(obligation.id)
            } else if riskAt <= asOf {
                self.contacts[c].obligations[o].markAtRisk(since: riskAt)
            } else {
                next.append(riskAt)
            }
        case .breached, .satisfiedLate:
            guard let breachedAt = obligation.breachedAt else { break }
            let escalateAfter = levels.escalateAfter
            let ladder = EscalationLadder(breachedAt: breachedAt, escalateAfter: escalateAfter, hours: hours)
            let levelTwoAt = ladder.levelTwoAt
            let neglectedAt = ladder.neglectedAt
            // A resolution or referral ends the matter: escalation stops there.
            let settledAt = self.contacts[c].resolution?.at
            let openUntil = obligation.satisfiedAt ?? settledAt.map { min($0, asOf) } ?? asOf
            let reached = obligation.state == .breached ? openUntil >= levelTwoAt : openUntil > levelTwoAt
            self.contacts[c].obligations[o].escalate(to: reached ? 2 : 1, since: reached ? levelTwoAt : breachedAt)
            self.explain(
                c,
                WhyEntry(
                    at: breachedAt, rule: .escalation,
                    message: "\(obligation.id) escalated to level 1: head of \(obligation.owner.department)",
                    call: obligation.call))
            if reached {
                self.explain(
                    c,
                    WhyEntry(
                        at: levelTwoAt, rule: .escalation,
                        message:
                            "\(obligation.id) still open after \(DurationSpec.text(escalateAfter)): level 2, leadership",
                        call: obligation.call))
                let neglected = obligation.state == .breached ? openUntil >= neglectedAt : openUntil > neglectedAt
                if neglected {
                    self.violations.append(
                        Violation(
                            id: ViolationID("\(obligation.id.rawValue).ne"), obligation: obligation.id,
                            contact: self.contacts[c].id, category: .notEscalated,
                            department: obligation.owner.department,
                            agent: department?.head, at: neglectedAt))
                    self.explain(
                        c,
                        WhyEntry(
                            at: neglectedAt, rule: .notEscalated,
                            message:
                                "\(obligation.id) stayed unsatisfied \(DurationSpec.text(escalateAfter)) after reaching leadership: not_escalated against the head of \(obligation.owner.department)\(department?.head.map { " (\($0))" } ?? "")",
                            call: obligation.call))
                } else if obligation.state == .breached, settledAt == nil {
                    next.append(neglectedAt)
                }
            } else if obligation.state == .breached, settledAt == nil {
                next.append(levelTwoAt)
            }
        case .satisfied, .exhausted, .cancelled:
            break
        }
        return next
    }
}
