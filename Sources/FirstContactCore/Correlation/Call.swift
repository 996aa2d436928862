/// One customer interaction as the PBX saw it, assembled from all records sharing a call key.
package struct Call: Hashable, Sendable {
    /// A stretch of time an agent really served the caller.
    package struct Answer: Hashable, Sendable {
        package var agent: AgentID
        package var at: Timestamp
        package var until: Timestamp
        /// The queue it came through, if any.
        package var queue: String?
        package var evidence: SourcePosition
    }

    /// The call passed from one agent to another agent or queue.
    package struct Transfer: Hashable, Sendable {
        package var at: Timestamp
        package var from: AgentID
        package var to: Owner
        /// Who picked it up on the receiving side, and when (nil: nobody — a failed transfer).
        package var answeredBy: AgentID?
        package var answeredAt: Timestamp?
        package var evidence: SourcePosition
    }

    package var key: CallKey
    package var direction: CallDirection
    package var customer: CustomerNumber
    package var customerRaw: String
    package var start: Timestamp
    package var end: Timestamp
    package var outcome: CallOutcome
    /// Agent answers, earliest first.
    package var answers: [Call.Answer]
    package var ringNoAnswer: [AgentID]
    /// The agent placing an outbound or internal call.
    package var callingAgent: AgentID?
    /// The agent the customer dialled directly, if so.
    package var directDialAgent: AgentID?
    /// The agent a call to the hotline rang before any queue: where the PBX sent a returning
    /// caller first (SPEC "Routing a returning caller"), answered or not.
    package var rangFirst: AgentID? = nil
    /// Routing department: queue, else DID.
    package var department: DepartmentID?
    package var category: ContactCategory?
    /// How long the caller waited before giving up (abandon grace compares this).
    package var waitSeconds: Int64
    package var transfers: [Transfer]
    package var evidence: [SourcePosition]

    /// The customer key contacts are grouped by; nil for internal calls.
    package var customerKey: String? {
        switch self.direction {
        case .internal: return nil
        case .inbound, .outbound:
            if case .withheld = self.customer { return "withheld:\(self.key.rawValue)" }
            return self.customer.text
        }
    }
}

/// Builds a ``Call`` from its records. Pure; the order of `records` does not matter.
package struct CallAssembler: Sendable {
    package let directory: Directory

    package init(directory: Directory) {
        self.directory = directory
    }

    /// - Returns: nil when the records carry nothing to build a call from (only system lines).
    package func assemble(_ key: CallKey, records: [CallRecord]) -> Call? {
        var legs: [LegRecord] = []
        var queue: [QueueRecord] = []
        var sipRows: [SIPRecord] = []
        var celRows: [CELRecord] = []
        // The same record twice is one record: keep the first source position it was seen at.
        var seen: [EventKey: SourcePosition] = [:]
        for record in records {
            let position = record.position
            if let earlier = seen[record.key], (earlier.source, earlier.offset) <= (position.source, position.offset) {
                continue
            }
            seen[record.key] = position
        }
        for record in records where seen[record.key] == record.position {
            seen[record.key] = nil
            switch record {
            case .leg(let leg): legs.append(leg)
            case .queue(let entry): if case .other = entry.event {} else { queue.append(entry) }
            case .sip(let row): sipRows.append(row)
            case .cel(let row): celRows.append(row)
            case .ivr: break  // IVR events belong to the caller's number, applied by the Correlator
            }
        }
        // Every record read is evidence, also the SIP rows folded into one synthetic leg below.
        let evidence =
            (legs.map(\.position) + queue.map(\.position) + sipRows.map(\.position) + celRows.map(\.position))
            .sorted {
                ($0.source, $0.offset) < ($1.source, $1.offset)
            }
        // A SIP proxy's rows become the legs the rules below already read (one per INVITE branch).
        let sip = sipRows.isEmpty ? nil : self.sipCall(sipRows)
        legs += sip?.legs ?? []
        // CEL rows become legs and transfer facts too. A PBX writing CDRs and CEL at once
        // describes each call twice: the CEL legs, which say who shared a bridge with the
        // caller, stand for the call then.
        if !celRows.isEmpty {
            let cel = self.celCall(key, celRows)
            if !cel.legs.isEmpty { legs = cel.legs }
            queue += cel.queue
        }
        guard !legs.isEmpty || !queue.isEmpty else { return nil }
        legs.sort { ($0.start, $0.sequence ?? 0, $0.key) < ($1.start, $1.sequence ?? 0, $1.key) }
        queue.sort { ($0.time, $0.key) < ($1.time, $1.key) }
        let directory = self.directory

        let start = min(legs.first?.start ?? .init(seconds: .max), queue.first?.time ?? .init(seconds: .max))
        let end = max(legs.map(\.end).max() ?? .init(seconds: .min), queue.last?.time ?? .init(seconds: .min))

        // Party A of the call: the first leg whose channel is not an agent device.
        let callerLeg =
            legs.first { directory.agent(forChannel: $0.channel) == nil && !Self.isLocal($0.channel) }
            ?? legs.first
        let callingAgent = callerLeg.flatMap { directory.agent(forChannel: $0.channel) }
        let dialled = callerLeg?.destination ?? ""
        let enteredQueue = queue.first { if case .entered = $0.event { return true } else { return false } }

        var call = Call(
            key: key, direction: .inbound, customer: .withheld, customerRaw: "", start: start, end: end,
            outcome: .abandoned, answers: [], ringNoAnswer: [], callingAgent: callingAgent, directDialAgent: nil,
            department: nil, category: nil, waitSeconds: end - start, transfers: [], evidence: evidence
        )

        if let agent = callingAgent, let leg = callerLeg {
            // An agent placed it: to another agent is internal, else outbound to a customer.
            let target = directory.stripOutboundPrefix(leg.destination)
            if directory.agent(forExtension: target) != nil || directory.agent(forChannel: leg.peerChannel) != nil {
                call.direction = .internal
                call.outcome = legs.contains { $0.disposition == .answered && $0.billsec > 0 } ? .answered : .noAnswer
                return call
            }
            call.direction = .outbound
            call.customerRaw = leg.destination
            call.customer = directory.normaliser.normalise(leg.destination, stripOutboundPrefix: true)
            let answered = legs.first { $0.disposition == .answered && $0.billsec > 0 && $0.answer != nil }
            if let answered, let at = answered.answer {
                call.outcome = .answered
                call.answers = [
                    Call.Answer(agent: agent, at: at, until: answered.end, queue: nil, evidence: answered.position)
                ]
            } else {
                call.outcome = Self.outcome(of: legs)
            }
            return call
        }

        // Inbound unless it never touched the hotline.
        let raw = callerLeg?.source ?? ""
        let queueCaller: String = {
            if case .entered(let number)? = enteredQueue?.event { return number }
            return ""
        }()
        call.customerRaw = raw.isEmpty ? queueCaller : raw
        call.customer = directory.normaliser.normalise(call.customerRaw)
        let touchedHotline =
            !queue.isEmpty
            || legs.contains { directory.isHotlineNumber($0.destination) || directory.isInboundContext($0.context) }
            || directory.agent(forExtension: dialled) != nil
            || legs.contains(where: Self.isQueueLeg)
            // A SIP proxy routed it to an agent: whatever number was dialled, it reached the hotline.
            || (sip != nil && legs.contains { directory.agent(forChannel: $0.peerChannel) != nil })
        guard touchedHotline else {
            call.direction = .internal
            call.outcome = Self.outcome(of: legs)
            return call
        }

        // Routing department: the queue first entered, else the DID.
        let legQueues = legs.compactMap { Self.queueName(of: $0) }
        let firstQueue = enteredQueue?.queue ?? legQueues.first
        if let firstQueue, let department = directory.department(forQueue: firstQueue) {
            call.department = department
        } else if let department = legs.lazy.compactMap({ directory.department(forDID: $0.destination) }).first {
            call.department = department
        }
        if !directory.isHotlineNumber(dialled), let agent = directory.agent(forExtension: dialled), firstQueue == nil {
            call.directDialAgent = agent
        }

        // Who really answered: agent legs with an answer and billed seconds; queue CONNECTs fill in
        // when the CDR side is missing.
        var answers: [Call.Answer] = []
        var rung: [AgentID] = []
        // When the queue says when the agent connected, that is when the agent answered: the
        // caller's leg was answered earlier, by the IVR's Answer() before the queue (SPEC "Times").
        let connects: [(agent: AgentID, at: Timestamp)] = queue.compactMap { entry in
            guard case .connected = entry.event, let agent = directory.agent(forMember: entry.agent) else { return nil }
            return (agent, entry.time)
        }
        // Every leg to an agent's device, with the agent: read once for answers, rings and the
        // agent rung first.
        var agentLegs: [(leg: LegRecord, agent: AgentID)] = []
        for leg in legs {
            guard let agent = directory.agent(forChannel: leg.peerChannel) else { continue }
            agentLegs.append((leg, agent))
            if leg.disposition == .answered, leg.billsec > 0, let legAnswer = leg.answer {
                let at =
                    connects.filter { $0.agent == agent && $0.at > legAnswer && $0.at <= leg.end }.map(\.at).min()
                    ?? legAnswer
                answers.append(
                    Call.Answer(
                        agent: agent, at: at, until: leg.end, queue: Self.queueName(of: leg), evidence: leg.position))
            } else {
                rung.append(agent)
            }
        }
        // One agent's answer seen on two legs (FreeSWITCH writes the caller's A-leg, naming the
        // agent in cc_agent, and the agent's own leg): one answer, ending when the agent's leg
        // ended — the A-leg's end is the caller's, later when the caller was then transferred on.
        answers.sort { ($0.at, $0.agent, $0.until) < ($1.at, $1.agent, $1.until) }
        answers = answers.enumerated().filter { index, answer in
            !answers[..<index].contains { $0.agent == answer.agent && abs($0.at - answer.at) <= 2 }
        }.map(\.element)
        var lastQueueEnd = end
        for entry in queue {
            switch entry.event {
            case .connected:
                guard let agent = directory.agent(forMember: entry.agent) else { continue }
                if answers.contains(where: { $0.agent == agent && abs($0.at - entry.time) <= 10 }) { continue }
                let until =
                    queue.first { later in
                        later.time >= entry.time && later.key != entry.key && Self.endsService(later.event)
                    }?.time ?? lastQueueEnd
                answers.append(
                    Call.Answer(
                        agent: agent, at: entry.time, until: until, queue: entry.queue, evidence: entry.position))
            case .ringNoAnswer:
                if let agent = directory.agent(forMember: entry.agent) { rung.append(agent) }
            default:
                break
            }
            lastQueueEnd = max(lastQueueEnd, entry.time)
        }
        answers.sort { ($0.at, $0.agent) < ($1.at, $1.agent) }
        call.answers = answers
        if call.directDialAgent == nil { call.rangFirst = Self.rangFirst(agentLegs, queue: queue) }
        let answeredAgents = Set(answers.map(\.agent))
        call.ringNoAnswer = Array(Set(rung).subtracting(answeredAgents)).sorted()

        // Abandon grace compares the queue's own wait when it logged one.
        for entry in queue.reversed() {
            if case .abandoned(let wait) = entry.event {
                call.waitSeconds = Int64(wait)
                break
            }
            if case .exited(_, let wait) = entry.event {
                call.waitSeconds = Int64(wait)
                break
            }
        }

        if !answers.isEmpty {
            call.outcome = .answered
        } else if queue.contains(where: { if case .abandoned = $0.event { return true } else { return false } }) {
            call.outcome = .abandoned
        } else if legs.contains(where: { $0.application.lowercased() == "voicemail" }) {
            call.outcome = .voicemail
        } else if legs.allSatisfy({ $0.peerChannel.isEmpty }) {
            call.outcome = .abandoned  // hung up in the IVR / dialplan
        } else {
            call.outcome = Self.outcome(of: legs.filter { !$0.peerChannel.isEmpty })
        }
        if let sip, answers.isEmpty {
            // SIP says what the caller got: the final reply to their INVITE (487 = they gave up).
            if let outcome = sip.outcome { call.outcome = outcome }
            // Transaction rows are written when the INVITE ends, so without a dialog CDR the ring
            // time is unknown; a caller who may have waited long must not vanish under the grace.
            if !sip.startKnown { call.waitSeconds = max(call.waitSeconds, directory.policy.abandonGrace) }
        }

        call.transfers = self.transfers(answers: answers, legs: legs, queue: queue)
        return call
    }

    /// Transfers: a later answer by another agent after an agent's service ended, an explicit
    /// queue_log transfer, or a later unanswered attempt at another agent or queue.
    private func transfers(answers: [Call.Answer], legs: [LegRecord], queue: [QueueRecord]) -> [Call.Transfer] {
        guard let first = answers.first else { return [] }
        let directory = self.directory
        var result: [Call.Transfer] = []
        var current = first
        var index = 1
        let explicit = queue.filter { if case .transferred = $0.event { return true } else { return false } }

        // The receiving agent's own department decides. A queue of that department received the
        // matter as a department (whoever of it answers); a queue of another department is the one
        // that brought the caller in, which Asterisk leaves on the caller's row after a transfer
        // (`lastapp=Queue`, `lastdata=hotline,…` with `dstchannel` at the receiving agent).
        func receiver(ofQueue name: String?, agent: AgentID?) -> Owner? {
            let queueDepartment = name.flatMap { directory.department(forQueue: $0) }
            guard let agent, let department = directory.departmentOf(agent) else {
                return queueDepartment.map { Owner(department: $0, agent: nil) }
            }
            return Owner(department: department, agent: queueDepartment == department ? nil : agent)
        }

        while true {
            // The explicit transfer record by the current agent, if the queue logged one.
            let record = explicit.first { entry in
                entry.time >= current.at && entry.time <= current.until + 5
                    && directory.agent(forMember: entry.agent) == current.agent
            }
            var explicitTarget: Owner?
            if let record, case .transferred(let ext, _) = record.event {
                let nextQueue = queue.first { later in
                    if case .entered = later.event { return later.time >= record.time } else { return false }
                }?.queue
                if let agent = directory.agent(forExtension: ext) {
                    explicitTarget = receiver(ofQueue: nil, agent: agent)
                } else {
                    explicitTarget = receiver(
                        ofQueue: directory.department(forQueue: ext) != nil ? ext : nextQueue, agent: nil)
                }
            }
            if index < answers.count {
                let next = answers[index]
                index += 1
                guard next.agent != current.agent, next.at + 2 >= current.until || record != nil else {
                    // Overlapping answers are a ring-all race or a conference, not a transfer.
                    if next.until > current.until, next.agent == current.agent { current = next }
                    continue
                }
                let target = explicitTarget ?? receiver(ofQueue: next.queue, agent: next.agent)
                if let target {
                    result.append(
                        Call.Transfer(
                            at: record?.time ?? current.until, from: current.agent, to: target,
                            answeredBy: next.agent, answeredAt: next.at, evidence: next.evidence))
                }
                current = next
                continue
            }
            // After the last answer: an attempt that nobody picked up.
            let attempt = legs.first { leg in
                leg.start + 2 >= current.until && !leg.peerChannel.isEmpty
                    && directory.agent(forChannel: leg.peerChannel) != current.agent
                    && !(leg.disposition == .answered && leg.billsec > 0)
            }
            let target =
                explicitTarget
                ?? attempt.flatMap { leg in
                    receiver(ofQueue: Self.queueName(of: leg), agent: directory.agent(forChannel: leg.peerChannel))
                }
            if let target, record != nil || attempt != nil {
                result.append(
                    Call.Transfer(
                        at: record?.time ?? current.until, from: current.agent, to: target, answeredBy: nil,
                        answeredAt: nil, evidence: record?.position ?? attempt?.position ?? current.evidence))
            }
            return result
        }
    }

    private static func endsService(_ event: QueueEvent) -> Bool {
        switch event {
        case .completed, .transferred: true
        default: false
        }
    }

    /// The queue a CDR leg was placed from: Asterisk's `Queue(hotline,t,…)`, or FreeSWITCH
    /// mod_callcenter's `callcenter hotline@default` (SPEC: `hotline@default` is queue `hotline`).
    static func queueName(of leg: LegRecord) -> String? {
        let name: Substring?
        switch leg.application.lowercased() {
        case "queue":
            name = leg.applicationData.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first
        case "callcenter":
            // The argument is the queue name, `name@domain`; the domain is FreeSWITCH's, not the hotline's.
            let argument = leg.applicationData.split(separator: " ", maxSplits: 1).first ?? ""
            name = argument.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first
        default:
            return nil
        }
        return name.map(String.init).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The agent rung first on a call to the hotline (not a direct dial) when that ring came
    /// before any queue: the dialplan dialled them itself (`Dial`, `bridge`, a proxy's rewritten
    /// Request-URI), as `/v1/route` tells it to. Nil for calls the queue rang first.
    static func rangFirst(_ agentLegs: [(leg: LegRecord, agent: AgentID)], queue: [QueueRecord]) -> AgentID? {
        // A queue leg is the caller's own channel (Asterisk's Queue row, FreeSWITCH's A-leg naming
        // its cc_agent): it starts with the call, long before the queue rang anyone, so its agent
        // was rung no earlier than it was connected (or the caller left). SIP branches of one
        // INVITE share the call's start: the branch that ended (failed) or was answered first
        // was the one rung first.
        func order(_ leg: LegRecord) -> (Timestamp, Timestamp, EventKey) {
            let rung = Self.isQueueLeg(leg) ? (leg.answer ?? leg.end) : leg.start
            return (rung, leg.answer ?? leg.end, leg.key)
        }
        guard let first = agentLegs.min(by: { order($0.leg) < order($1.leg) }), !Self.isQueueLeg(first.leg) else {
            return nil
        }
        if let queued = queue.first?.time, queued < first.leg.start { return nil }
        return first.agent
    }

    /// A leg that ran a queue application (Asterisk `Queue`, FreeSWITCH `callcenter`).
    static func isQueueLeg(_ leg: LegRecord) -> Bool {
        switch leg.application.lowercased() {
        case "queue", "callcenter": true
        default: false
        }
    }

    static func isLocal(_ channel: String) -> Bool { channel.lowercased().hasPrefix("local/") }

    /// The dial outcome of unanswered legs: busy only if every leg was busy.
    static func outcome(of legs: [LegRecord]) -> CallOutcome {
        if legs.contains(where: { $0.disposition == .answered && $0.billsec > 0 }) { return .answered }
        if !legs.isEmpty, legs.allSatisfy({ $0.disposition == .busy }) { return .busy }
        if legs.contains(where: { $0.disposition == .noAnswer || $0.disposition == .cancel }) { return .noAnswer }
        if legs.contains(where: { $0.disposition == .failed || $0.disposition == .congestion }) { return .failed }
        return .abandoned
    }
}
