/// What the PBX last said about agents in its queues, for routing (SPEC "Routing a returning
/// caller": the agent is rung only while at work): logged out of the queues, paused, or on a
/// queue call. Pure and order-free: a record older than what is known of an agent changes
/// nothing, so records arriving late or twice give the same state.
package struct AgentPresence: Sendable, Hashable {
    /// An agent's standing in the queues, by the last member event.
    package enum Membership: String, Sendable, Hashable {
        case member
        case loggedOut = "logged out of the queues"
        case paused
    }

    private struct Mark<State: Hashable & Sendable>: Hashable, Sendable {
        var state: State
        var at: Timestamp
        var event: String
    }

    private var membership: [AgentID: Mark<Membership>] = [:]
    /// Whether the agent's last queue call event connected them (true) or ended the call (false).
    private var onCall: [AgentID: Mark<Bool>] = [:]

    /// Events about a member's standing (queue_log verbs; FreeSWITCH agent statuses), and what
    /// each makes of it.
    static let membership: [String: Membership] = [
        "ADDMEMBER": .member, "UNPAUSE": .member, "UNPAUSEALL": .member, "AGENTLOGIN": .member,
        "REMOVEMEMBER": .loggedOut, "AGENTLOGOFF": .loggedOut, "PAUSE": .paused, "PAUSEALL": .paused,
        // FreeSWITCH mod_callcenter's agent-status-change, by CC-Agent-Status.
        "AGENT-STATUS:AVAILABLE": .member, "AGENT-STATUS:AVAILABLE (ON DEMAND)": .member,
        "AGENT-STATUS:LOGGED OUT": .loggedOut, "AGENT-STATUS:ON BREAK": .paused,
    ]
    package static let memberEventNames = Set(Self.membership.keys)

    /// A call connected this long ago without an end seen is taken as an end that was missed.
    package static let staleCall: Int64 = 4 * 3600

    package init() {}

    /// Takes in what a queue record says about its member (agent): member events (`ADDMEMBER`,
    /// `REMOVEMEMBER`, `PAUSE`, `UNPAUSE`, `PAUSEALL`, `UNPAUSEALL`, `AGENTLOGIN`, `AGENTLOGOFF`)
    /// and the member's calls (`CONNECT` until `COMPLETE…` or a transfer).
    package mutating func note(_ record: QueueRecord, directory: Directory) {
        guard let agent = directory.agent(forMember: record.agent) else { return }
        switch record.event {
        case .other(let name):
            guard let state = Self.membership[name.uppercased()] else { return }
            if let known = self.membership[agent], known.at > record.time { return }
            self.membership[agent] = Mark(state: state, at: record.time, event: name.uppercased())
        case .connected:
            self.noteCall(agent, connected: true, at: record.time, event: "CONNECT")
        case .completed:
            self.noteCall(agent, connected: false, at: record.time, event: "COMPLETE")
        case .transferred:
            self.noteCall(agent, connected: false, at: record.time, event: "TRANSFER")
        default:
            return
        }
    }

    private mutating func noteCall(_ agent: AgentID, connected: Bool, at time: Timestamp, event: String) {
        // At the same second an end wins: a call that connected and ended within it is over.
        if let known = self.onCall[agent], known.at > time || (known.at == time && !known.state) { return }
        self.onCall[agent] = Mark(state: connected, at: time, event: event)
    }

    /// Why `agent` is not to be rung now, in words; nil when nothing the PBX said stands against
    /// it (no word from the PBX counts as at work).
    package func unavailable(_ agent: AgentID, at now: Timestamp) -> String? {
        if let mark = self.membership[agent], mark.state != .member {
            return "\(agent) is \(mark.state.rawValue) (\(mark.event) at \(mark.at))"
        }
        if let mark = self.onCall[agent], mark.state, now - mark.at < Self.staleCall {
            return "\(agent) is on a queue call (CONNECT at \(mark.at))"
        }
        return nil
    }
}
