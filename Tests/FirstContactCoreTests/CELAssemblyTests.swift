import Testing

@testable import FirstContactCore

/// Asterisk CEL rows of one scenario, written as `cel_custom` writes them (Asterisk 12+ JSON
/// extra), in the order they are logged.
private final class CEL {
    private(set) var records: [CallRecord] = []
    private var line = 0
    let date = "2026-11-26"

    /// A channel as it appears on its rows.
    struct Channel {
        var name: String
        var uniqueID: String
        var number: String
        var exten: String
        var context: String
    }

    func caller(_ uniqueID: String, number: String = ScenarioKit.customer, dialled: String = "96116") -> Channel {
        Channel(
            name: "PJSIP/trunk-\(uniqueID)", uniqueID: uniqueID, number: number, exten: dialled, context: "from-trunk")
    }

    func phone(_ agent: String, _ uniqueID: String) -> Channel {
        Channel(
            // Asterisk's suffix is hex: the uniqueid's digits stand in for it.
            name: "PJSIP/\(agent)-\(String(uniqueID.filter(\.isNumber).suffix(8)))", uniqueID: uniqueID, number: agent,
            exten: agent,
            context: "from-internal")
    }

    func add(
        _ event: String, _ time: String, _ channel: Channel, linkedID: String, app: String = "", data: String = "",
        peer: String = "", extra: CELRecord.Extra = CELRecord.Extra()
    ) {
        self.line += 1
        self.records.append(
            .cel(
                CELRecord(
                    key: EventKey(rawValue: "cel:\(self.line)"),
                    position: SourcePosition(
                        source: "/var/log/asterisk/cel-custom/Master.csv", line: self.line,
                        offset: Int64(self.line * 200)),
                    call: CallKey(linkedID), event: CELRecord.Event(name: event), time: at("\(self.date) \(time)"),
                    microseconds: self.line, callerName: "", callerNumber: channel.number, exten: channel.exten,
                    context: channel.context, channel: channel.name, application: app, applicationData: data,
                    uniqueID: channel.uniqueID, peer: peer, extra: extra)))
    }

    /// `a` and `b` in bridge `id` from `from` until `until`.
    func bridge(_ a: Channel, _ b: Channel, _ id: String, from: String, until: String, linkedID: String) {
        self.add("BRIDGE_ENTER", from, a, linkedID: linkedID, peer: b.name, extra: .init(bridgeID: id))
        self.add("BRIDGE_ENTER", from, b, linkedID: linkedID, peer: a.name, extra: .init(bridgeID: id))
        self.add("BRIDGE_EXIT", until, b, linkedID: linkedID, peer: a.name, extra: .init(bridgeID: id))
        self.add("BRIDGE_EXIT", until, a, linkedID: linkedID, extra: .init(bridgeID: id))
    }

    func ends(_ channel: Channel, _ time: String, cause: Int = 16, linkedID: String) {
        self.add("HANGUP", time, channel, linkedID: linkedID, extra: .init(hangupCause: cause))
        self.add("CHAN_END", time, channel, linkedID: linkedID)
    }

    /// The caller's start, IVR answer and entry into queue `queue`.
    func queued(_ caller: Channel, start: String, queue: String = "hotline", at entered: String) {
        let id = caller.uniqueID
        self.add("CHAN_START", start, caller, linkedID: id)
        self.add("ANSWER", start, caller, linkedID: id, app: "Answer")
        self.add("APP_START", entered, caller, linkedID: id, app: "Queue", data: "\(queue),t,,,300")
    }

    /// A member rung for the caller who did not answer (`cause` 19 no answer, 26 answered elsewhere).
    func rings(_ phone: Channel, for caller: Channel, from: String, until: String, cause: Int = 19) {
        self.add("CHAN_START", from, phone, linkedID: caller.uniqueID)
        self.ends(phone, until, cause: cause, linkedID: caller.uniqueID)
    }

    /// A member rung at `from` who answered at `answer` and talked with the caller until `until`.
    func answers(_ phone: Channel, for caller: Channel, from: String, answer: String, until: String, bridge: String) {
        self.add("CHAN_START", from, phone, linkedID: caller.uniqueID)
        self.add("ANSWER", answer, phone, linkedID: caller.uniqueID, app: "AppQueue")
        self.bridge(caller, phone, bridge, from: answer, until: until, linkedID: caller.uniqueID)
        self.ends(phone, until, linkedID: caller.uniqueID)
    }
}

private func call(_ records: [CallRecord], key: String) throws -> Call {
    try #require(ScenarioKit.calls(from: records).first { $0.key == CallKey(key) })
}

@Suite("CallAssembler: Asterisk CEL rows of one linkedid become a call")
struct CELAssemblyTests {
    @Test("answered via queue: the member that shared a bridge with the caller answered, at the bridge time")
    func answeredViaQueue() throws {
        let cel = CEL()
        let caller = cel.caller("1764120000.1")
        cel.queued(caller, start: "10:29:58", at: "10:30:00")
        cel.rings(cel.phone("1002", "1764120000.2"), for: caller, from: "10:30:00", until: "10:30:15")
        cel.answers(
            cel.phone("1001", "1764120000.3"), for: caller, from: "10:30:15", answer: "10:30:21", until: "10:34:00",
            bridge: "b1")
        cel.ends(caller, "10:34:00", linkedID: caller.uniqueID)
        cel.add("LINKEDID_END", "10:34:00", caller, linkedID: caller.uniqueID)

        let c = try call(cel.records, key: "1764120000.1")
        #expect(c.direction == .inbound)
        #expect(c.customer.text == ScenarioKit.customerKey)
        #expect(c.outcome == .answered)
        #expect(c.department == ScenarioKit.service)
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.answers.first?.at == at("2026-11-26 10:30:21"))
        #expect(c.answers.first?.until == at("2026-11-26 10:34:00"))
        #expect(c.answers.first?.queue == "hotline")
        #expect(c.ringNoAnswer == [AgentID("1002")])
        #expect(c.start == at("2026-11-26 10:29:58"))
        #expect(c.evidence.count == cel.records.count)
    }

    @Test("abandoned in queue: the caller hung up while queued, nobody answered → abandoned, with the queue's wait")
    func abandonedInQueue() throws {
        let cel = CEL()
        let caller = cel.caller("1764120100.1")
        cel.queued(caller, start: "11:00:00", at: "11:00:10")
        cel.rings(cel.phone("1001", "1764120100.2"), for: caller, from: "11:00:10", until: "11:00:25")
        cel.ends(caller, "11:00:52", linkedID: caller.uniqueID)
        cel.add("LINKEDID_END", "11:00:52", caller, linkedID: caller.uniqueID)

        let c = try call(cel.records, key: "1764120100.1")
        #expect(c.outcome == .abandoned)
        #expect(c.answers.isEmpty)
        #expect(c.waitSeconds == 42)
        #expect(c.department == ScenarioKit.service)
        #expect(c.ringNoAnswer == [AgentID("1001")])
    }

    @Test("abandoned in the queue with nobody rung: one party-A-only leg in the Queue application")
    func abandonedNobodyRung() throws {
        let cel = CEL()
        let caller = cel.caller("1764120150.1")
        cel.queued(caller, start: "11:10:00", queue: "repairs", at: "11:10:10")
        cel.ends(caller, "11:11:00", linkedID: caller.uniqueID)

        let c = try call(cel.records, key: "1764120150.1")
        #expect(c.outcome == .abandoned)
        #expect(c.department == ScenarioKit.repairs)
        #expect(c.waitSeconds == 50)
    }

    @Test(
        "ring-all loser: a member hung up with cause 26 (answered elsewhere) is no miss; with cause 19 it is",
        arguments: [(26, [AgentID]()), (19, [AgentID("1002")])])
    func ringAllLoser(cause: Int, missed: [AgentID]) throws {
        let cel = CEL()
        let caller = cel.caller("1764120200.1")
        cel.queued(caller, start: "12:00:00", at: "12:00:05")
        cel.rings(cel.phone("1002", "1764120200.2"), for: caller, from: "12:00:05", until: "12:00:09", cause: cause)
        cel.answers(
            cel.phone("1001", "1764120200.3"), for: caller, from: "12:00:05", answer: "12:00:09", until: "12:03:00",
            bridge: "b1")
        cel.ends(caller, "12:03:00", linkedID: caller.uniqueID)

        let c = try call(cel.records, key: "1764120200.1")
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.ringNoAnswer == missed)
    }

    @Test(
        "blind transfer: BLINDTRANSFER by the answering agent is a transferred fact; the next queue's answer receives it"
    )
    func blindTransfer() throws {
        let cel = CEL()
        let caller = cel.caller("1764120300.1")
        let first = cel.phone("1001", "1764120300.2")
        cel.queued(caller, start: "14:00:00", at: "14:00:05")
        cel.add("CHAN_START", "14:00:05", first, linkedID: caller.uniqueID)
        cel.add("ANSWER", "14:00:09", first, linkedID: caller.uniqueID)
        cel.add(
            "BRIDGE_ENTER", "14:00:09", caller, linkedID: caller.uniqueID, peer: first.name,
            extra: .init(bridgeID: "b1"))
        cel.add(
            "BRIDGE_ENTER", "14:00:09", first, linkedID: caller.uniqueID, peer: caller.name,
            extra: .init(bridgeID: "b1"))
        cel.add(
            "BLINDTRANSFER", "14:02:00", first, linkedID: caller.uniqueID,
            extra: .init(
                bridgeID: "b1", transferExtension: "billing", transferContext: "from-internal",
                transfereeChannel: caller.name))
        cel.add("BRIDGE_EXIT", "14:02:00", first, linkedID: caller.uniqueID, extra: .init(bridgeID: "b1"))
        cel.add("BRIDGE_EXIT", "14:02:00", caller, linkedID: caller.uniqueID, extra: .init(bridgeID: "b1"))
        cel.ends(first, "14:02:00", linkedID: caller.uniqueID)
        cel.add("APP_START", "14:02:01", caller, linkedID: caller.uniqueID, app: "Queue", data: "billing,t,,,300")
        cel.answers(
            cel.phone("1021", "1764120300.3"), for: caller, from: "14:02:01", answer: "14:02:07", until: "14:05:00",
            bridge: "b2")
        cel.ends(caller, "14:05:00", linkedID: caller.uniqueID)

        let folded = CallAssembler(directory: ScenarioKit.directory).celCall(
            CallKey(caller.uniqueID), cel.records.compactMap { if case .cel(let row) = $0 { row } else { nil } })
        let fact = try #require(folded.queue.first)
        #expect(fact.event == .transferred(extension: "billing", context: "from-internal"))
        #expect(fact.agent == first.name)
        #expect(fact.queue == "hotline")
        #expect(fact.time == at("2026-11-26 14:02:00"))

        let c = try call(cel.records, key: caller.uniqueID)
        #expect(c.answers.map(\.agent) == [AgentID("1001"), AgentID("1021")])
        #expect(c.answers.map(\.queue) == ["hotline", "billing"])
        let transfer = try #require(c.transfers.first)
        #expect(transfer.from == AgentID("1001"))
        #expect(transfer.to.department == ScenarioKit.billing)
        #expect(transfer.answeredBy == AgentID("1021"))
    }

    /// Agent 1001 answers the caller (linkedid L1), consults 1021 on a second line (its own
    /// linkedid L2), then completes the transfer: the caller moves into the consultation bridge
    /// and 1021's channel adopts L1 (FORMATS §3.3).
    private func attendedTransfer() -> (CEL, CEL.Channel) {
        let cel = CEL()
        let l1 = "1764120400.1"
        let l2 = "1764120400.4"
        let caller = cel.caller(l1)
        let agentLine = cel.phone("1001", "1764120400.2")
        var consult = cel.phone("1001", l2)
        consult.exten = "1021"
        let target = cel.phone("1021", "1764120400.5")
        cel.queued(caller, start: "15:00:00", at: "15:00:05")
        cel.add("CHAN_START", "15:00:05", agentLine, linkedID: l1)
        cel.add("ANSWER", "15:00:08", agentLine, linkedID: l1)
        cel.add("BRIDGE_ENTER", "15:00:08", caller, linkedID: l1, peer: agentLine.name, extra: .init(bridgeID: "b1"))
        cel.add("BRIDGE_ENTER", "15:00:08", agentLine, linkedID: l1, peer: caller.name, extra: .init(bridgeID: "b1"))
        // The consultation, under its own linkedid.
        cel.add("CHAN_START", "15:02:00", consult, linkedID: l2)
        cel.add("APP_START", "15:02:00", consult, linkedID: l2, app: "Dial", data: "PJSIP/1021,30")
        cel.add("CHAN_START", "15:02:00", target, linkedID: l2)
        cel.add("ANSWER", "15:02:04", target, linkedID: l2)
        cel.add("BRIDGE_ENTER", "15:02:04", consult, linkedID: l2, peer: target.name, extra: .init(bridgeID: "b2"))
        cel.add("BRIDGE_ENTER", "15:02:04", target, linkedID: l2, peer: consult.name, extra: .init(bridgeID: "b2"))
        cel.add("BRIDGE_EXIT", "15:03:00", consult, linkedID: l2, extra: .init(bridgeID: "b2"))
        cel.ends(consult, "15:03:00", linkedID: l2)
        cel.add("LINKEDID_END", "15:03:00", consult, linkedID: l2)
        // The transfer completes: the caller leaves b1 for b2, where 1021 is.
        cel.add(
            "ATTENDEDTRANSFER", "15:03:00", agentLine, linkedID: l1,
            extra: .init(bridgeID: "b1", transfereeChannel: caller.name, transferTargetChannel: target.name))
        cel.add("BRIDGE_EXIT", "15:03:00", agentLine, linkedID: l1, extra: .init(bridgeID: "b1"))
        cel.ends(agentLine, "15:03:00", linkedID: l1)
        cel.add("BRIDGE_EXIT", "15:03:00", caller, linkedID: l1, extra: .init(bridgeID: "b1"))
        cel.add("BRIDGE_ENTER", "15:03:00", caller, linkedID: l1, peer: target.name, extra: .init(bridgeID: "b2"))
        cel.add("BRIDGE_EXIT", "15:06:00", target, linkedID: l1, extra: .init(bridgeID: "b2"))
        cel.ends(target, "15:06:00", linkedID: l1)
        cel.add("BRIDGE_EXIT", "15:06:00", caller, linkedID: l1, extra: .init(bridgeID: "b2"))
        cel.ends(caller, "15:06:00", linkedID: l1)
        cel.add("LINKEDID_END", "15:06:00", caller, linkedID: l1)
        return (cel, caller)
    }

    @Test(
        "attended transfer: ATTENDEDTRANSFER names the target's extension; the target, adopted into the caller's linkedid, answered the caller when the bridges joined"
    )
    func attendedTransferToAnotherDepartment() throws {
        let (cel, caller) = self.attendedTransfer()
        let rows = cel.records.compactMap {
            if case .cel(let row) = $0, row.call == CallKey(caller.uniqueID) { row } else { nil }
        }
        let folded = CallAssembler(directory: ScenarioKit.directory).celCall(CallKey(caller.uniqueID), rows)
        let fact = try #require(folded.queue.first)
        #expect(fact.event == .transferred(extension: "1021", context: ""))
        #expect(fact.agent == "PJSIP/1001-41204002")

        let c = try call(cel.records, key: caller.uniqueID)
        #expect(c.answers.map(\.agent) == [AgentID("1001"), AgentID("1021")])
        #expect(c.answers.last?.at == at("2026-11-26 15:03:00"))
        #expect(c.answers.last?.until == at("2026-11-26 15:06:00"))
        let transfer = try #require(c.transfers.first)
        #expect(transfer.from == AgentID("1001"))
        #expect(transfer.to == Owner(department: ScenarioKit.billing, agent: AgentID("1021")))
        #expect(transfer.answeredBy == AgentID("1021"))
    }

    @Test("linkedid change: the consultation's own linkedid, which the target left, is no customer call")
    func consultationIsNotACustomerCall() throws {
        let (cel, _) = self.attendedTransfer()
        let consultation = ScenarioKit.calls(from: cel.records).first { $0.key == CallKey("1764120400.4") }
        #expect(consultation.map { $0.customerKey == nil } ?? true)
        #expect(consultation?.direction != .inbound)
    }

    @Test(
        "linkedid change: an operator channel begun as its own call and bridged into the older call serves that call; its abandoned linkedid assembles to nothing"
    )
    func adoptedChannelJoinsTheOlderCall() throws {
        let cel = CEL()
        let caller = cel.caller("1764120500.1")
        let own = "1764120509.9"
        let operatorPhone = cel.phone("1001", own)
        cel.queued(caller, start: "16:00:00", at: "16:00:02")
        // Originated on its own (no requestor): its linkedid is its uniqueid until it is bridged.
        cel.add("CHAN_START", "16:00:09", operatorPhone, linkedID: own)
        cel.add("ANSWER", "16:00:10", operatorPhone, linkedID: own)
        cel.add("BRIDGE_ENTER", "16:00:11", caller, linkedID: caller.uniqueID, extra: .init(bridgeID: "sw"))
        cel.add("LINKEDID_END", "16:00:11", operatorPhone, linkedID: own)
        cel.add(
            "BRIDGE_ENTER", "16:00:11", operatorPhone, linkedID: caller.uniqueID, peer: caller.name,
            extra: .init(bridgeID: "sw"))
        cel.add("BRIDGE_EXIT", "16:02:00", operatorPhone, linkedID: caller.uniqueID, extra: .init(bridgeID: "sw"))
        cel.ends(operatorPhone, "16:02:00", linkedID: caller.uniqueID)
        cel.add("BRIDGE_EXIT", "16:02:00", caller, linkedID: caller.uniqueID, extra: .init(bridgeID: "sw"))
        cel.ends(caller, "16:02:00", linkedID: caller.uniqueID)
        cel.add("LINKEDID_END", "16:02:00", caller, linkedID: caller.uniqueID)

        let calls = ScenarioKit.calls(from: cel.records)
        #expect(calls.map(\.key) == [CallKey(caller.uniqueID)])
        let c = try call(cel.records, key: caller.uniqueID)
        #expect(c.outcome == .answered)
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.answers.first?.at == at("2026-11-26 16:00:11"))
    }

    @Test("a Local channel member: the phone bridged with the ;2 half answered the caller bridged with the ;1 half")
    func localChannelMember() throws {
        let cel = CEL()
        let caller = cel.caller("1764120600.1")
        let id = caller.uniqueID
        let half1 = CEL.Channel(
            name: "Local/1001@agents-00a1;1", uniqueID: "1764120600.2", number: "", exten: "1001", context: "agents")
        let half2 = CEL.Channel(
            name: "Local/1001@agents-00a1;2", uniqueID: "1764120600.3", number: "", exten: "1001", context: "agents")
        let phone = cel.phone("1001", "1764120600.4")
        cel.queued(caller, start: "17:00:00", at: "17:00:03")
        cel.add("CHAN_START", "17:00:03", half1, linkedID: id)
        cel.add("CHAN_START", "17:00:03", half2, linkedID: id)
        cel.add("CHAN_START", "17:00:03", phone, linkedID: id)
        cel.add("ANSWER", "17:00:08", phone, linkedID: id)
        cel.bridge(half2, phone, "inner", from: "17:00:08", until: "17:04:00", linkedID: id)
        cel.bridge(caller, half1, "outer", from: "17:00:08", until: "17:04:00", linkedID: id)
        cel.ends(phone, "17:04:00", linkedID: id)
        cel.ends(half2, "17:04:00", linkedID: id)
        cel.ends(half1, "17:04:00", linkedID: id)
        cel.ends(caller, "17:04:00", linkedID: id)

        let c = try call(cel.records, key: id)
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.answers.first?.at == at("2026-11-26 17:00:08"))
        #expect(c.ringNoAnswer.isEmpty)
    }

    @Test(
        "a Local channel optimised away (Wazo agentcallback): the phone moves into the caller's bridge and serves until it leaves"
    )
    func localChannelOptimisedAway() throws {
        let cel = CEL()
        let caller = cel.caller("1764120700.1")
        let id = caller.uniqueID
        let half1 = CEL.Channel(
            name: "Local/id-9@agentcallback-0003;1", uniqueID: "1764120700.2", number: "", exten: "id-9",
            context: "agentcallback")
        let half2 = CEL.Channel(
            name: "Local/id-9@agentcallback-0003;2", uniqueID: "1764120700.3", number: "", exten: "id-9",
            context: "agentcallback")
        let phone = cel.phone("1001", "1764120700.4")
        cel.queued(caller, start: "18:00:00", at: "18:00:02")
        cel.add("CHAN_START", "18:00:02", half1, linkedID: id)
        cel.add("CHAN_START", "18:00:02", half2, linkedID: id)
        cel.add("CHAN_START", "18:00:02", phone, linkedID: id)
        cel.add("ANSWER", "18:00:05", phone, linkedID: id)
        cel.add("BRIDGE_ENTER", "18:00:05", phone, linkedID: id, extra: .init(bridgeID: "inner"))
        cel.add("BRIDGE_ENTER", "18:00:05", half2, linkedID: id, peer: phone.name, extra: .init(bridgeID: "inner"))
        cel.add("BRIDGE_ENTER", "18:00:06", half1, linkedID: id, extra: .init(bridgeID: "outer"))
        cel.add("BRIDGE_ENTER", "18:00:06", caller, linkedID: id, peer: half1.name, extra: .init(bridgeID: "outer"))
        // Optimisation: the pair leaves, the phone takes its place beside the caller.
        cel.add("BRIDGE_EXIT", "18:00:07", phone, linkedID: id, extra: .init(bridgeID: "inner"))
        cel.add("BRIDGE_EXIT", "18:00:07", half1, linkedID: id, extra: .init(bridgeID: "outer"))
        cel.add("BRIDGE_ENTER", "18:00:07", phone, linkedID: id, extra: .init(bridgeID: "outer"))
        cel.ends(half1, "18:00:07", linkedID: id)
        cel.add("BRIDGE_EXIT", "18:00:07", half2, linkedID: id, extra: .init(bridgeID: "inner"))
        cel.ends(half2, "18:00:07", linkedID: id)
        cel.add("BRIDGE_EXIT", "18:05:00", phone, linkedID: id, extra: .init(bridgeID: "outer"))
        cel.add("BRIDGE_EXIT", "18:05:00", caller, linkedID: id, extra: .init(bridgeID: "outer"))
        cel.ends(phone, "18:05:00", linkedID: id)
        cel.ends(caller, "18:05:00", linkedID: id)
        cel.add("LINKEDID_END", "18:05:00", caller, linkedID: id)

        let c = try call(cel.records, key: id)
        #expect(c.answers.map(\.agent) == [AgentID("1001")])
        #expect(c.answers.first?.at == at("2026-11-26 18:00:06"))
        #expect(c.answers.first?.until == at("2026-11-26 18:05:00"))
        #expect(c.outcome == .answered)
    }
}
