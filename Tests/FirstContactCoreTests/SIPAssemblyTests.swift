import Testing

@testable import FirstContactCore

/// Kamailio accounting rows of one scenario, written the way the recipe's kamailio.cfg writes them
/// (acc / missed_calls transactions with the db_extra columns, acc_cdrs dialogs).
private final class Proxy {
    private(set) var records: [CallRecord] = []
    private var line = 0

    @discardableResult
    func transaction(
        _ call: String, _ method: String, _ code: Int, from caller: String, to dialled: String, target: String? = nil,
        agent: String = "", toTag: String = "tt", at time: Timestamp
    ) -> CallRecord {
        self.add(
            SIPRecord(
                key: EventKey(rawValue: "kam:\(self.line)"), position: self.position(), call: CallKey(call),
                kind: .transaction,
                method: method, code: code, reason: "r\(code)", fromTag: "ft", toTag: toTag, caller: caller,
                dialled: dialled,
                target: target ?? dialled, agent: agent, time: time, start: nil, answer: nil))
    }

    @discardableResult
    func dialog(
        _ call: String, from caller: String, to dialled: String, agent: String = "", code: Int?, start: Timestamp,
        answer: Timestamp? = nil, end: Timestamp
    ) -> CallRecord {
        self.add(
            SIPRecord(
                key: EventKey(rawValue: "kam:\(self.line)"), position: self.position(), call: CallKey(call),
                kind: .dialog,
                method: "", code: code, reason: "", fromTag: "", toTag: "", caller: caller, dialled: dialled,
                target: "",
                agent: agent, time: end, start: start, answer: answer))
    }

    private func position() -> SourcePosition {
        self.line += 1
        return SourcePosition(source: "/var/lib/kamailio/db/acc", line: self.line, offset: Int64(self.line * 100))
    }

    private func add(_ record: SIPRecord) -> CallRecord {
        self.records.append(.sip(record))
        return .sip(record)
    }
}

private func call(_ records: [CallRecord], directory: Directory = ScenarioKit.directory) throws -> Call {
    try #require(ScenarioKit.calls(from: records, directory: directory).first)
}

@Suite("CallAssembler: SIP proxy rows (Kamailio acc) become calls")
struct SIPAssemblyTests {
    let customer = ScenarioKit.customer

    @Test("an answered direct dial: INVITE 200 + BYE + CDR → inbound, answered by the dialled agent")
    func answered() throws {
        let kam = Proxy()
        kam.transaction(
            "c1", "INVITE", 200, from: customer, to: "1001", agent: "sip:10.0.0.5:5060", at: at("2026-11-26 09:00:05"))
        kam.transaction("c1", "BYE", 200, from: customer, to: "1001", target: "agent", at: at("2026-11-26 09:03:00"))
        kam.dialog(
            "c1", from: customer, to: "1001", agent: "sip:10.0.0.5:5060", code: 200, start: at("2026-11-26 09:00:01"),
            answer: at("2026-11-26 09:00:05"), end: at("2026-11-26 09:03:00"))
        let c = try call(kam.records)
        #expect(c.direction == .inbound)
        #expect(c.customer.text == ScenarioKit.customerKey)
        #expect(c.customerRaw == customer)
        #expect(c.outcome == .answered)
        #expect(c.directDialAgent == AgentID("1001"))
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.answers.first?.at == at("2026-11-26 09:00:05"))
        #expect(c.answers.first?.until == at("2026-11-26 09:03:00"))
        #expect(c.start == at("2026-11-26 09:00:01"))
        #expect(c.end == at("2026-11-26 09:03:00"))
        #expect(c.evidence.map(\.line) == [1, 2, 3])
        #expect(c.transfers.isEmpty)
        #expect(c.ringNoAnswer.isEmpty)

        // The same call from the transaction rows alone (no dialog module): same answer, start unknown.
        let accOnly = try call(Array(kam.records.prefix(2)).reversed())
        #expect(accOnly.answers.map(\.agent) == [AgentID("1001")])
        #expect(accOnly.answers.first?.until == at("2026-11-26 09:03:00"))
        #expect(accOnly.start == at("2026-11-26 09:00:05"))
        // … and from the CDR alone.
        let cdrOnly = try call([kam.records[2]])
        #expect(cdrOnly.answers.map(\.agent) == [AgentID("1001")])
        #expect(cdrOnly.answers.first?.at == at("2026-11-26 09:00:05"))
        // A BYE alone says nothing about who called: no call until its INVITE arrives.
        #expect(
            CallAssembler(directory: ScenarioKit.directory).assemble(CallKey("c1"), records: [kam.records[1]]) == nil)
    }

    @Test("the agent hanging up (BYE from the agent) does not turn the call around")
    func agentHangsUp() throws {
        let kam = Proxy()
        kam.transaction("c2", "INVITE", 200, from: customer, to: "1002", at: at("2026-11-26 09:00:05"))
        kam.transaction("c2", "BYE", 200, from: "1002", to: customer, at: at("2026-11-26 09:01:00"))
        let c = try call(kam.records)
        #expect(c.direction == .inbound)
        #expect(c.callingAgent == nil)
        #expect(c.customerRaw == customer)
        #expect(c.answers.map(\.agent) == [AgentID("1002")])
    }

    struct MissCase: CustomTestStringConvertible, Sendable {
        var code: Int
        var outcome: CallOutcome
        var testDescription: String { "\(self.code) → \(self.outcome.rawValue)" }
    }

    @Test(
        "SIP codes map to outcomes; a direct dial is owed by the dialled agent",
        arguments: [
            MissCase(code: 486, outcome: .busy), MissCase(code: 600, outcome: .busy),
            MissCase(code: 487, outcome: .abandoned), MissCase(code: 408, outcome: .noAnswer),
            MissCase(code: 480, outcome: .noAnswer), MissCase(code: 404, outcome: .failed),
            MissCase(code: 503, outcome: .failed),
        ])
    func missedDirectDial(_ example: MissCase) throws {
        let kam = Proxy()
        kam.dialog(
            "m1", from: customer, to: "1001", code: example.code, start: at("2026-11-26 09:00:00"),
            end: at("2026-11-26 09:00:00"))
        kam.transaction("m1", "INVITE", example.code, from: customer, to: "1001", at: at("2026-11-26 09:00:12"))
        let c = try call(kam.records)
        #expect(c.direction == .inbound)
        #expect(c.outcome == example.outcome)
        #expect(c.answers.isEmpty)
        #expect(c.directDialAgent == AgentID("1001"))
        #expect(c.ringNoAnswer == [AgentID("1001")])
        // The ring time: the failure minus the INVITE's arrival from the CDR.
        #expect(c.waitSeconds == 12)
        #expect(c.end == at("2026-11-26 09:00:12"))
    }

    @Test("the hotline number routed to an agent: department call, the routed agent rang")
    func hotline() throws {
        let kam = Proxy()
        kam.dialog(
            "h1", from: customer, to: "96116", agent: "sip:10.0.0.9", code: 408, start: at("2026-11-26 09:00:00"),
            end: at("2026-11-26 09:00:00"))
        kam.transaction(
            "h1", "INVITE", 408, from: customer, to: "96116", target: "1002", agent: "sip:10.0.0.9",
            at: at("2026-11-26 09:00:30"))
        let c = try call(kam.records)
        #expect(c.direction == .inbound)
        #expect(c.outcome == .noAnswer)
        #expect(c.directDialAgent == nil)
        #expect(c.department == ScenarioKit.service)
        #expect(c.ringNoAnswer == [AgentID("1002")])
        let derivation = ScenarioKit.derive(kam.records, clock: at("2026-11-26 09:05:00"))
        let obligation = try #require(derivation.contacts.first?.obligations.first)
        #expect(obligation.owner == Owner(department: ScenarioKit.service, agent: nil))
        #expect(obligation.state == .pending)
    }

    @Test("a cancel under the abandon grace is a quick hang-up; without a CDR the wait is unknown and it counts")
    func cancelAndGrace() throws {
        let quick = Proxy()
        quick.dialog(
            "q1", from: customer, to: "1001", code: 487, start: at("2026-11-26 09:00:00"),
            end: at("2026-11-26 09:00:00"))
        quick.transaction("q1", "INVITE", 487, from: customer, to: "1001", at: at("2026-11-26 09:00:02"))
        #expect(try call(quick.records).waitSeconds == 2)
        let quickDerivation = ScenarioKit.derive(quick.records, clock: at("2026-11-26 09:05:00"))
        #expect(quickDerivation.contacts.isEmpty)

        let accOnly = Proxy()
        accOnly.transaction("q2", "INVITE", 487, from: customer, to: "1001", at: at("2026-11-26 09:00:02"))
        let c = try call(accOnly.records)
        #expect(c.outcome == .abandoned)
        #expect(c.waitSeconds == ScenarioKit.directory.policy.abandonGrace)
        let derivation = ScenarioKit.derive(accOnly.records, clock: at("2026-11-26 09:05:00"))
        #expect(
            derivation.contacts.first?.obligations.map(\.owner) == [
                Owner(department: ScenarioKit.service, agent: AgentID("1001"))
            ])
    }

    @Test(
        "serial forking: a branch that timed out rang, the branch that answered serves; duplicate failure rows are one branch"
    )
    func forking() throws {
        let kam = Proxy()
        kam.transaction(
            "f1", "INVITE", 408, from: customer, to: "96116", target: "1001", toTag: "a", at: at("2026-11-26 09:00:20"))
        // The same failed branch in acc (failed_transaction_flag) and in missed_calls.
        kam.transaction(
            "f1", "INVITE", 408, from: customer, to: "96116", target: "1001", toTag: "a", at: at("2026-11-26 09:00:20"))
        kam.transaction(
            "f1", "INVITE", 200, from: customer, to: "96116", target: "1002", toTag: "b", at: at("2026-11-26 09:00:25"))
        kam.transaction("f1", "BYE", 200, from: customer, to: "96116", target: "x", at: at("2026-11-26 09:02:00"))
        let c = try call(kam.records)
        #expect(c.outcome == .answered)
        #expect(c.answers.map(\.agent) == [AgentID("1002")])
        #expect(c.ringNoAnswer == [AgentID("1001")])
        #expect(c.department == ScenarioKit.service)
        #expect(c.transfers.isEmpty)
    }

    @Test("an agent calling a missed customer back through the proxy satisfies the callback")
    func callback() throws {
        let kam = Proxy()
        kam.dialog(
            "m", from: customer, to: "1002", code: 486, start: at("2026-11-26 09:00:00"), end: at("2026-11-26 09:00:00")
        )
        kam.transaction("m", "INVITE", 486, from: customer, to: "1002", at: at("2026-11-26 09:00:01"))
        kam.transaction(
            "cb", "INVITE", 200, from: "1002", to: customer, agent: "sip:gw.example", at: at("2026-11-26 09:10:05"))
        kam.transaction("cb", "BYE", 200, from: "1002", to: customer, at: at("2026-11-26 09:12:00"))
        let calls = ScenarioKit.calls(from: kam.records)
        let outbound = try #require(calls.first { $0.key == CallKey("cb") })
        #expect(outbound.direction == .outbound)
        #expect(outbound.callingAgent == AgentID("1002"))
        #expect(outbound.customer.text == ScenarioKit.customerKey)
        #expect(outbound.answers.map(\.agent) == [AgentID("1002")])

        let derivation = ScenarioKit.derive(kam.records, clock: at("2026-11-26 09:20:00"))
        let contact = try #require(derivation.contacts.first)
        #expect(contact.obligations.map(\.state) == [.satisfied])
        #expect(contact.obligations.first?.satisfiedVia == .callback)
        #expect(contact.obligations.first?.satisfiedBy == AgentID("1002"))
        #expect(contact.firstResponder?.agent == AgentID("1002"))
        #expect(contact.firstResponder?.via == .callback)
    }

    @Test("an agent calling another agent through the proxy is internal")
    func internalCall() throws {
        let kam = Proxy()
        kam.transaction("i1", "INVITE", 200, from: "1001", to: "1002", at: at("2026-11-26 09:00:05"))
        kam.transaction("i1", "BYE", 200, from: "1001", to: "1002", at: at("2026-11-26 09:01:00"))
        #expect(try call(kam.records).direction == .internal)
    }

    @Test("SIP URIs name agents by a sip:USER device or by extension")
    func sipURIs() {
        let configuration = FirstContactConfiguration(agents: [
            Agent(
                id: AgentID("7"), name: "by device", department: ScenarioKit.service, devices: ["sip:alice"],
                extensions: []),
            Agent(id: AgentID("8"), name: "by extension", department: ScenarioKit.service, extensions: ["1008"]),
            Agent(
                id: AgentID("9"), name: "by address", department: ScenarioKit.service, devices: ["sip:10.0.0.9:5060"]),
        ])
        let directory = Directory(configuration: configuration)
        #expect(directory.agent(forChannel: "sip:alice@pbx.example:5060;transport=udp") == AgentID("7"))
        #expect(directory.agent(forChannel: "SIP:Alice@pbx") == AgentID("7"))
        #expect(directory.agent(forChannel: "sip:1008@10.0.0.1") == AgentID("8"))
        #expect(directory.agent(forChannel: "sips:1008:secret@10.0.0.1") == AgentID("8"))
        #expect(directory.agent(forChannel: "sip:1008") == AgentID("8"))
        #expect(directory.agent(forChannel: "sip:1008;user=phone") == AgentID("8"))
        #expect(directory.agent(forChannel: "sip:10.0.0.9:5060") == AgentID("9"))
        // A host without a user names nobody; neither does a customer's number.
        #expect(directory.agent(forChannel: "sip:10.0.0.8:5060") == nil)
        #expect(directory.agent(forChannel: "sip:13812345678@gw") == nil)
        #expect(Directory.sipUser("sip:1008@h") == "1008")
        #expect(Directory.sipUser("sip:pbx.example") == nil)
        #expect(Directory.sipUser("SIP/1008-0000002a") == nil)
        #expect(Directory.sipUser("PJSIP/1008") == nil)
    }
}
