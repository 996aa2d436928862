import Testing

@testable import FirstContactCore

/// The routing rule on its own: who rings first, given the open contact and the time.
@Suite("Routing a returning caller — the rule")
struct RouteDecisionTests {
    /// Friday 2026-11-27 10:10 and 12:30 in +08:00: the office is open, then at lunch.
    static let open = Timestamp(seconds: 1_795_745_400)
    static let lunch = Timestamp(seconds: 1_795_753_800)
    static let caller = CustomerNumber.e164("+8613812345678")

    static func directory(_ adjust: (inout FirstContactConfiguration) -> Void = { _ in }) -> Directory {
        var configuration = ScenarioKit.configuration()
        configuration.routing = RoutingOptions(enabled: true, ringFirst: 20)
        adjust(&configuration)
        return Directory(configuration: configuration)
    }

    static func contact(responder: String? = "1001", owed: [(ObligationKind, String?, ObligationState)] = [])
        -> Contact
    {
        var contact = Contact(
            id: ContactID("C-1"), customer: Self.caller, customerRaw: "13812345678", channel: .phone,
            department: ScenarioKit.service, category: .service, createdAt: Self.open - 3600)
        if let responder {
            contact.firstResponder = FirstResponder(
                agent: AgentID(responder), boundAt: Self.open - 3600, via: .inbound, call: nil)
        }
        for (index, (kind, agent, state)) in owed.enumerated() {
            var obligation = Obligation(
                id: ObligationID("O-\(index)"), kind: kind,
                owner: Owner(department: ScenarioKit.service, agent: agent.map { AgentID($0) }),
                createdAt: Self.open - 1800, dueAt: Self.open + Int64(index) * 60, call: CallKey("c\(index)"))
            switch state {
            case .breached: obligation.breach(at: Self.open - 60)
            case .cancelled: obligation.standing = .cancelled
            default: break
            }
            contact.obligations.append(obligation)
        }
        return contact
    }

    @Test(
        "callback owner, then hand-off receiver, then first responder; an agent named twice is tried once",
        arguments: [
            ([(ObligationKind.callback, "1002", ObligationState.pending)], "1002"),
            ([(.callback, "1002", .breached)], "1002"),
            ([(.callback, "1002", .cancelled)], "1001"),
            ([(.handoff, "1021", .pending), (.callback, "1002", .pending)], "1002"),
            ([(.handoff, "1021", .pending)], "1021"),
            ([(.callback, nil, .pending)], "1001"),
        ] as [([(ObligationKind, String?, ObligationState)], String)])
    func order(owed: [(ObligationKind, String?, ObligationState)], expected: String) {
        let decision = RouteDecision.decide(
            caller: Self.caller, openContact: Self.contact(owed: owed), directory: Self.directory(), at: Self.open)
        #expect(decision.route == .agent)
        #expect(decision.agent == AgentID(expected))
        #expect(decision.device == "PJSIP/\(expected)")
        #expect(decision.ringFirst == 20)
        #expect(RouteDecision.candidates(Self.contact(owed: [(.callback, "1001", .pending)])).count == 1)
    }

    @Test("at lunch the office agents are passed over for one in a 24/7 department; nobody at work is the queue")
    func calendar() {
        let repairs = Self.contact(owed: [(.handoff, "1011", .pending)])
        let routed = RouteDecision.decide(
            caller: Self.caller, openContact: repairs, directory: Self.directory(), at: Self.lunch)
        #expect(routed.agent == AgentID("1011"))
        let queued = RouteDecision.decide(
            caller: Self.caller, openContact: Self.contact(), directory: Self.directory(), at: Self.lunch)
        #expect(queued.route == .queue)
        #expect(queued.reason == "1001's department service is closed now")
        #expect(queued.contact == ContactID("C-1"))
    }

    /// A queue_log line about member `PJSIP/<agent>` at `seconds` after the office opened.
    static func member(_ agent: String, _ event: QueueEvent, at seconds: Int64) -> QueueRecord {
        QueueRecord(
            key: EventKey(rawValue: "q:\(agent):\(seconds):\(event)"),
            position: SourcePosition(source: "queue_log", line: Int(seconds), offset: seconds),
            call: CallKey("NONE"), time: Self.open - 3600 + seconds, queue: "hotline", agent: "PJSIP/\(agent)",
            event: event)
    }

    @Test(
        "an agent the PBX says is logged out, paused or on a queue call is passed over for the next one at work; back in the queue, or the call over, they ring again",
        arguments: [
            (
                [Self.member("1002", .other(name: "REMOVEMEMBER"), at: 10)],
                "1002 is logged out of the queues (REMOVEMEMBER at"
            ),
            ([Self.member("1002", .other(name: "PAUSE"), at: 10)], "1002 is paused (PAUSE at"),
            (
                [Self.member("1002", .connected(holdSeconds: 3, memberUniqueID: "m"), at: 10)],
                "1002 is on a queue call (CONNECT at"
            ),
            (
                [
                    Self.member("1002", .other(name: "PAUSE"), at: 10),
                    Self.member("1002", .other(name: "UNPAUSE"), at: 20),
                ], nil
            ),
            (
                [
                    Self.member("1002", .connected(holdSeconds: 3, memberUniqueID: "m"), at: 10),
                    Self.member("1002", .completed, at: 900),
                ], nil
            ),
            ([Self.member("1001", .other(name: "REMOVEMEMBER"), at: 10)], nil),
            (
                [Self.member("1002", .other(name: "AGENT-STATUS:ON BREAK"), at: 10)],
                "1002 is paused (AGENT-STATUS:ON BREAK at"
            ),
            (
                [Self.member("1002", .other(name: "AGENT-STATUS:LOGGED OUT"), at: 10)],
                "1002 is logged out of the queues"
            ),
        ] as [([QueueRecord], String?)])
    func presence(records: [QueueRecord], passedOver: String?) {
        let directory = Self.directory()
        // Arrival order does not matter: the newest word about an agent stands.
        for order in [records, records.reversed()] {
            var presence = AgentPresence()
            for record in order { presence.note(record, directory: directory) }
            let decision = RouteDecision.decide(
                caller: Self.caller, openContact: Self.contact(owed: [(.callback, "1002", .pending)]),
                directory: directory, at: Self.open, presence: presence)
            if let passedOver {
                // 1002 owes the callback but is away: the first responder (1001) rings instead.
                #expect(decision.agent == AgentID("1001"))
                #expect(decision.reason.contains("passed over: \(passedOver)"), "\(decision.reason)")
            } else {
                #expect(decision.agent == AgentID("1002"), "\(decision.reason)")
            }
        }
    }

    @Test("a queue call connected more than four hours ago without an end seen no longer keeps the agent busy")
    func staleCall() {
        var presence = AgentPresence()
        presence.note(
            Self.member("1002", .connected(holdSeconds: 3, memberUniqueID: "m"), at: 0), directory: Self.directory())
        #expect(presence.unavailable(AgentID("1002"), at: Self.open - 3600 + 4 * 3600 - 1) != nil)
        #expect(presence.unavailable(AgentID("1002"), at: Self.open - 3600 + 4 * 3600) == nil)
    }

    @Test("a device prefix picks the PBX's kind of device; an agent without one is passed over")
    func devicePrefix() {
        let directory = Self.directory { configuration in
            configuration.agents[0].devices = ["PJSIP/1001", "user/1001"]
        }
        let user = RouteDecision.decide(
            caller: Self.caller, devicePrefix: "USER/", openContact: Self.contact(), directory: directory,
            at: Self.open)
        #expect(user.device == "user/1001")
        let sip = RouteDecision.decide(
            caller: Self.caller, devicePrefix: "sip:", openContact: Self.contact(), directory: directory,
            at: Self.open)
        #expect(sip.route == .queue)
        #expect(sip.reason == "1001 has no device starting with sip:")
    }

    @Test("routing off, a withheld number, no open contact: the queue, with the department of the DID")
    func queue() {
        let off = RouteDecision.decide(
            caller: Self.caller, openContact: Self.contact(),
            directory: Self.directory { $0.routing.enabled = false }, at: Self.open)
        #expect(off.route == .queue)
        let withheld = RouteDecision.decide(
            caller: .withheld, did: "96116", openContact: Self.contact(), directory: Self.directory(), at: Self.open)
        #expect(withheld.route == .queue)
        #expect(withheld.department == ScenarioKit.service)
        #expect(withheld.contact == nil)
        let none = RouteDecision.decide(
            caller: Self.caller, openContact: nil, directory: Self.directory(), at: Self.open)
        #expect(none.text.split(separator: "\n").first == "route=queue")
        #expect(none.text.split(separator: "\n").last == "reason=the caller has no open contact")
    }
}
