/// The end of a walk: each obligation's at-risk and escalation state, the not_handed_over
/// check, every contact's status, and the next time the result would change with no new record.
extension Correlator.Walk {
    mutating func finish(asOf: Timestamp) -> Derivation {
        var next: [Timestamp] = []
        for c in self.contacts.indices {
            let contactID = self.contacts[c].id
            let waitingBefore = next.count
            defer { if next[waitingBefore...].contains(where: { $0 > asOf }) { self.waiting.insert(contactID) } }
            for o in self.contacts[c].obligations.indices {
                next += self.settle(c, o, asOf: asOf)
            }
            // not_handed_over: answered a contact routed to another department and kept it.
            if let routed = self.routed[contactID], let responder = self.contacts[c].firstResponder,
                responder.via == .inbound, let own = self.directory.departmentOf(responder.agent), own != routed,
                let callEnd = self.bindingCallEnd[contactID]
            {
                let sla = self.directory.serviceLevels(of: routed).handoff
                let deadline = self.directory.hours(of: routed).adding(sla, to: callEnd)
                let handedOff = self.contacts[c].obligations.contains {
                    $0.kind == .handoff && $0.createdAt <= deadline
                }
                let settled = self.contacts[c].resolution.map { $0.at <= deadline } ?? false
                if !handedOff, !settled {
                    if deadline <= asOf {
                        self.violations.append(
                            Violation(
                                id: ViolationID("\(contactID.rawValue).nho"), obligation: nil, contact: contactID,
                                category: .notHandedOver, department: own, agent: responder.agent, at: deadline))
                        self.explain(
                            c,
                            WhyEntry(
                                at: deadline, rule: .notHandedOver,
                                message:
                                    "agent \(responder.agent) (\(own)) answered a contact routed to \(routed) and neither handed it off nor resolved it within \(DurationSpec.text(sla))"
                            ))
                    } else {
                        next.append(deadline)
                    }
                }
            }
            let contact = self.contacts[c]
            if let resolution = contact.resolution {
                self.contacts[c].status = resolution.kind == .resolved ? .resolved : .referredOut
            } else if contact.closedAt != nil {
                self.contacts[c].status = .closed
            } else if contact.obligations.contains(where: { $0.kind == .callback && $0.state.isOutstanding }) {
                self.contacts[c].status = .awaitingCallback
            } else if contact.obligations.contains(where: { $0.kind == .handoff && $0.state != .cancelled }) {
                self.contacts[c].status = .handedOff
            } else {
                self.contacts[c].status = .open
            }
            if contact.closedAt == nil, contact.resolution == nil,
                !contact.obligations.contains(where: { $0.state.isOutstanding })
            {
                next.append(contact.lastActivity + self.policy.autoClose)
            }
        }
        self.violations.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        if let trail = self.trail {
            for c in self.contacts.indices { self.contacts[c].why = trail.entries[c] ?? [] }
        }
        return Derivation(
            contacts: self.contacts, violations: self.violations,
            nextCheck: next.filter { $0 > asOf }.min(), unattached: self.unattached)
    }
}
