/// Something a person recorded about a customer's matter (CLI now, the API later): an input to
/// correlation like a call record, stored and replayed in time order.
package struct ManualAction: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        /// The receiver of a hand-off has read it (POLICY art. 11: "as soon as they have read it").
        case acknowledge(obligation: ObligationID)
    }

    /// Stable id: the same action recorded twice is one action.
    package var id: String
    package var at: Timestamp
    package var agent: AgentID
    package var kind: Kind

    package init(id: String, at: Timestamp, agent: AgentID, kind: Kind) {
        self.id = id
        self.at = at
        self.agent = agent
        self.kind = kind
    }

    /// An acknowledgement's id: obligation, agent and time.
    package static func acknowledgement(of obligation: ObligationID, by agent: AgentID, at time: Timestamp) -> ManualAction {
        ManualAction(
            id: "ack:\(obligation.rawValue):\(agent.rawValue):\(time.seconds)", at: time, agent: agent,
            kind: .acknowledge(obligation: obligation))
    }
}
