/// Where a first responder is bound (SPEC rule 2): the first agent who really answered, once.
/// Visits and letters bind in ``Correlator/Walk/openByHand(_:action:)``; a supervisor's
/// reassignment in ``Correlator/Walk/apply(_:)``.
extension Correlator.Walk {
    mutating func bind(_ index: Int, agent: AgentID, at time: Timestamp, via: BindingVia, call: Call) {
        let contactID = self.contacts[index].id
        self.contacts[index].firstResponder = FirstResponder(agent: agent, boundAt: time, via: via, call: call.key)
        self.bindingCallEnd[contactID] = call.end
        if !call.ringNoAnswer.isEmpty {
            self.note(
                index, call, .ringNoAnswer,
                "rung without answering: \(call.ringNoAnswer.map(\.rawValue).joined(separator: ", "))", at: call.start)
        }
        self.note(
            index, call, .bindFirstResponder,
            "agent \(self.directory.label(agent)) answered (\(via.rawValue)) at \(time): first responder", at: time)
    }
}
