/// Where an inbound call from a returning customer should ring first (SPEC "Routing a returning
/// caller"): the agent who carries their matter, while that agent is at work, else the queue.
///
/// Pure: the caller's open contact and the time are given, so the same inputs always give the
/// same answer and the rule can be tested without a store or a clock.
package struct RouteDecision: Sendable, Hashable {
    package enum Route: String, Sendable, Hashable {
        case agent, queue
    }

    /// Why this agent is the one to try: the order in which they are tried.
    package enum Claim: String, Sendable, Hashable {
        case callbackOwner = "callback_owner"
        case handoffReceiver = "handoff_receiver"
        case firstResponder = "first_responder"

        /// Why `agent` is tried, in words.
        package func reason(_ agent: AgentID, contact: ContactID) -> String {
            switch self {
            case .callbackOwner: "\(agent) owes the caller a callback on contact \(contact)"
            case .handoffReceiver: "\(agent) received the hand-off of contact \(contact)"
            case .firstResponder: "\(agent) is the first responder of contact \(contact)"
            }
        }
    }

    package var route: Route
    package var agent: AgentID?
    /// What the dialplan dials: the agent's first configured device (`PJSIP/1003`, `user/1003`, …).
    package var device: String?
    /// Seconds to ring the agent before the queue.
    package var ringFirst: Int64
    package var contact: ContactID?
    package var department: DepartmentID?
    package var claim: Claim?
    /// In words, for the PBX's log and the trail.
    package var reason: String

    /// Decides for a caller whose number normalised to `caller`.
    /// - Parameters:
    ///   - openContact: the caller's contact that is still open (not resolved, referred out or
    ///     closed), if any.
    ///   - did: the number the caller dialled, if the PBX said: names the department of a queue
    ///     answer when there is no contact to name it.
    ///   - devicePrefix: the kind of device this PBX dials (`PJSIP/`, `user/`, `sip:`): the agent's
    ///     first device starting with it (any case); an agent with none is passed over. Nil: the
    ///     agent's first device, whatever it is.
    ///   - time: now, on the wall clock: calendars are asked whether they are open at it.
    ///   - presence: what the PBX said of agents in its queues (logged out, paused, on a call).
    package static func decide(
        caller: CustomerNumber, did: String? = nil, devicePrefix: String? = nil, openContact: Contact?,
        directory: Directory, at time: Timestamp, presence: AgentPresence = AgentPresence()
    ) -> RouteDecision {
        let options = directory.configuration.routing
        func queue(_ reason: String, contact: Contact? = nil) -> RouteDecision {
            RouteDecision(
                route: .queue, agent: nil, device: nil, ringFirst: options.ringFirst, contact: contact?.id,
                department: contact?.department ?? did.flatMap { directory.department(forDID: $0) }, claim: nil,
                reason: reason)
        }
        guard options.enabled else { return queue("routing is off in the configuration") }
        guard !caller.isWithheld else { return queue("the caller's number is withheld") }
        guard let contact = openContact else { return queue("the caller has no open contact") }
        if let department = contact.department, directory.department(department)?.routing == false {
            return queue("routing is off for department \(department)", contact: contact)
        }
        let candidates = Self.candidates(contact)
        guard !candidates.isEmpty else {
            return queue("contact \(contact.id) has no agent who owes or answered it", contact: contact)
        }
        // The first candidate at work is rung; the reasons the others were passed over are kept,
        // so a queue answer says who would have been rung and why they were not.
        var passed: [String] = []
        for (agent, claim) in candidates {
            guard let known = directory.agent(agent) else {
                passed.append("\(agent) is not in the directory")
                continue
            }
            if directory.department(known.department)?.routing == false {
                passed.append("routing is off for \(agent)'s department \(known.department)")
                continue
            }
            let prefix = devicePrefix?.lowercased() ?? ""
            guard let device = known.devices.first(where: { $0.lowercased().hasPrefix(prefix) }) else {
                passed.append(
                    prefix.isEmpty
                        ? "\(agent) has no device configured" : "\(agent) has no device starting with \(prefix)")
                continue
            }
            let hours = directory.hours(of: known.department)
            if case .calendar(let calendar) = hours, !calendar.isOpen(at: time) {
                passed.append("\(agent)'s department \(known.department) is closed now")
                continue
            }
            if let away = presence.unavailable(agent, at: time) {
                passed.append(away)
                continue
            }
            let why = claim.reason(agent, contact: contact.id)
            return RouteDecision(
                route: .agent, agent: agent, device: device, ringFirst: options.ringFirst, contact: contact.id,
                department: contact.department, claim: claim,
                reason: ([why] + passed.map { "passed over: \($0)" }).joined(separator: "; "))
        }
        return queue(passed.joined(separator: "; "), contact: contact)
    }

    /// The agents to try, in order, each once: owners of callbacks still owed (earliest due
    /// first), receivers of pending hand-offs (earliest due first), then the first responder.
    static func candidates(_ contact: Contact) -> [(AgentID, Claim)] {
        var out: [(AgentID, Claim)] = []
        func add(_ agent: AgentID?, _ claim: Claim) {
            if let agent, !out.contains(where: { $0.0 == agent }) { out.append((agent, claim)) }
        }
        let byDue = contact.obligations.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
        for obligation in byDue where obligation.kind == .callback && obligation.state.isOutstanding {
            add(obligation.owner.agent, .callbackOwner)
        }
        for obligation in byDue where obligation.kind == .handoff && obligation.state == .pending {
            add(obligation.owner.agent, .handoffReceiver)
        }
        add(contact.firstResponder?.agent, .firstResponder)
        return out
    }

    /// The screen pop for the agent rung first, addressed to them; nil for a queue answer. Keyed
    /// by the second it was asked in, so a dialplan asking twice for one call (a retransmitted
    /// INVITE) announces it once.
    /// - Parameter caller: the number as the PBX presented it, for the agent to see who calls.
    package func notice(caller: String, at time: Timestamp) -> Notice? {
        guard self.route == .agent, let agent = self.agent, let contact = self.contact else { return nil }
        return Notice(
            key: "routed:\(contact):\(agent):\(time.seconds)", kind: .routed, at: time, contact: contact,
            department: self.department, agent: agent,
            detail: "\(caller) is calling and rings \(agent) first for \(self.ringFirst) s: \(self.reason)")
    }

    /// The statuses of a contact that is still the number's open one.
    package static let openStatuses: Set<ContactStatus> = [.open, .awaitingCallback, .handedOff]

    /// `key=value` lines for dialplans that cannot parse JSON; absent values are empty.
    package var text: String {
        [
            ("route", self.route.rawValue), ("agent", self.agent?.rawValue ?? ""), ("device", self.device ?? ""),
            ("ring_first", String(self.ringFirst)), ("contact", self.contact?.rawValue ?? ""),
            ("department", self.department?.rawValue ?? ""),
            // One line each: a reason never breaks the format.
            ("reason", self.reason.split(whereSeparator: \.isNewline).joined(separator: " ")),
        ].map { "\($0)=\($1)" }.joined(separator: "\n")
    }
}
