/// When an obligation's clocks run out (SPEC rules 3, 5, 6): one answer for the correlator, the
/// reports, the pages and the simulator's expected outcome.
extension Obligation {
    /// A callback owed for a call missed at `time`: due one callback SLA of the owner's hours later.
    package static func callback(
        id: ObligationID, owner: Owner, missedAt time: Timestamp, call: CallKey, levels: ServiceLevels,
        hours: BusinessHours
    ) -> Obligation {
        Obligation(
            id: id, kind: .callback, owner: owner, createdAt: time, dueAt: hours.adding(levels.callback, to: time),
            call: call)
    }

    /// A hand-off made at `time`: the receiving side acknowledges within the acknowledge SLA and
    /// contacts the customer within the hand-off SLA, both in the receiving department's hours.
    package static func handoff(
        id: ObligationID, owner: Owner, madeAt time: Timestamp, call: CallKey, levels: ServiceLevels,
        hours: BusinessHours
    ) -> Obligation {
        Obligation(
            id: id, kind: .handoff, owner: owner, createdAt: time, dueAt: hours.adding(levels.handoff, to: time),
            ackDueAt: hours.adding(levels.handoffAck, to: time), call: call)
    }

    /// When the obligation's clock runs out while it is pending: a hand-off nobody has
    /// acknowledged runs out at the earlier of its acknowledge clock and its contact clock.
    package var deadline: Timestamp {
        if self.kind == .handoff, self.acknowledgedAt == nil, let ack = self.ackDueAt {
            return min(ack, self.dueAt)
        }
        return self.dueAt
    }

    /// When a pending obligation becomes at risk: `percent` of its running SLA after it was made.
    package func atRiskMark(levels: ServiceLevels, hours: BusinessHours, percent: Int) -> Timestamp {
        hours.adding(levels.running(self) * Int64(percent) / 100, to: self.createdAt)
    }
}

/// The escalation ladder of a breached obligation (SPEC rule 6, POLICY §5): level 1 (the head of
/// the owning department) at the breach, level 2 (leadership) `escalate_after` later, and a
/// not_escalated violation when it stays unsatisfied another `escalate_after` after that.
package struct EscalationLadder: Hashable, Sendable {
    package var levelOneAt: Timestamp
    package var levelTwoAt: Timestamp
    package var neglectedAt: Timestamp

    package init(breachedAt: Timestamp, escalateAfter: Int64, hours: BusinessHours) {
        self.levelOneAt = breachedAt
        self.levelTwoAt = hours.adding(escalateAfter, to: breachedAt)
        self.neglectedAt = hours.adding(escalateAfter, to: self.levelTwoAt)
    }
}
