/// A department's clocks, in business seconds of its calendar (SPEC "Configuration": the
/// department's `callback_sla`, `handoff_ack_sla`, `handoff_sla`, `escalate_after`).
package struct ServiceLevels: Hashable, Sendable {
    /// How long a missed caller may wait for the callback.
    package var callback: Int64
    /// How long the receiving side of a hand-off may take to acknowledge it.
    package var handoffAck: Int64
    /// How long the receiving side of a hand-off may take to contact the customer.
    package var handoff: Int64
    /// How long a breach waits at each escalation level before it climbs one more.
    package var escalateAfter: Int64

    package init(callback: Int64, handoffAck: Int64, handoff: Int64, escalateAfter: Int64) {
        self.callback = callback
        self.handoffAck = handoffAck
        self.handoff = handoff
        self.escalateAfter = escalateAfter
    }

    /// What a department uses for each clock its configuration leaves out, and what clocks owed
    /// to an unknown department run by.
    package static let defaults = ServiceLevels(
        callback: 30 * 60, handoffAck: 15 * 60, handoff: 2 * 3600, escalateAfter: 3600)

    /// The SLA a pending obligation's running clock measures: the callback SLA, or for a hand-off
    /// the acknowledge SLA until it is acknowledged and the contact SLA after.
    package func running(_ obligation: Obligation) -> Int64 {
        switch obligation.kind {
        case .callback: self.callback
        case .handoff: obligation.acknowledgedAt == nil ? self.handoffAck : self.handoff
        }
    }
}

extension Department {
    /// The department's clocks as one value.
    package var serviceLevels: ServiceLevels {
        ServiceLevels(
            callback: self.callbackSLA, handoffAck: self.handoffAckSLA, handoff: self.handoffSLA,
            escalateAfter: self.escalateAfter)
    }
}

extension Directory {
    /// The clocks of obligations owed to `department` (the defaults when it is not configured).
    package func serviceLevels(of department: DepartmentID) -> ServiceLevels {
        self.department(department)?.serviceLevels ?? .defaults
    }
}
