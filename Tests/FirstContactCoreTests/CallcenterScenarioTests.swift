import Testing

@testable import FirstContactCore

// FreeSWITCH mod_callcenter calls (SPEC "Agents from channel names": `ID@domain` agents,
// `hotline@default` queues), built from the records the FreeSWITCH decoders produce: legs
// whose application is `callcenter hotline@default` and whose peer is `user/<cc_agent>`, and
// callcenter::info queue events named `queue@domain` / `agent@domain`.

/// The scenario configuration with FreeSWITCH devices (`sofia/internal/ID`, `user/ID`) added.
private let directory: Directory = {
    var configuration = ScenarioKit.configuration()
    configuration.agents = configuration.agents.map { agent in
        var agent = agent
        agent.devices += ["sofia/internal/\(agent.id.rawValue)", "user/\(agent.id.rawValue)"]
        return agent
    }
    return Directory(configuration: configuration)
}()

private let file = "/var/log/freeswitch/xml_cdr"

/// The caller's A-leg as FreeSWITCHLegMapping builds it from a mod_xml_cdr document.
private func memberLeg(
    _ uuid: String, start: String, answer: String?, end: String, agent: String?, queue: String = "hotline@default"
) -> CallRecord {
    .leg(
        LegRecord(
            key: EventKey(rawValue: "fsleg:\(uuid)"),
            position: SourcePosition(source: "\(file)/\(uuid).cdr.xml", line: 1, offset: 0),
            call: CallKey(uuid), uniqueID: uuid, source: ScenarioKit.customer, callerName: "", destination: "96116",
            context: "public", channel: "sofia/external/\(ScenarioKit.customer)@gw.example",
            peerChannel: agent.map { "user/\($0)" } ?? "", application: "callcenter", applicationData: queue,
            start: at(start), answer: answer.map(at), end: at(end), billsec: answer.map { Int(at(end) - at($0)) } ?? 0,
            disposition: answer == nil ? .noAnswer : .answered, sequence: nil))
}

private func ccEvent(_ call: String, _ time: String, _ sequence: Int, agent: String = "", _ event: QueueEvent)
    -> CallRecord
{
    .queue(
        QueueRecord(
            key: EventKey(rawValue: "fsev:core:\(sequence)"),
            position: SourcePosition(source: "events.xml", line: sequence, offset: Int64(sequence)),
            call: CallKey(call), time: at(time), queue: "hotline@default", agent: agent, event: event))
}

@Suite("mod_callcenter calls: queue and agent names with @domain")
struct CallcenterScenarioTests {
    @Test(
        "a leg from `callcenter hotline@default` is in queue hotline: the call routes to service even without queue events"
    )
    func callcenterLegNamesTheQueue() throws {
        let leg = memberLeg(
            "fs-1", start: "2026-11-26 10:00:00", answer: "2026-11-26 10:00:30", end: "2026-11-26 10:05:00",
            agent: "1001@default")
        guard case .leg(let record) = leg else { return }
        #expect(CallAssembler.queueName(of: record) == "hotline")
        let call = try #require(ScenarioKit.calls(from: [leg], directory: directory).first)
        #expect(call.direction == .inbound)
        #expect(call.department == ScenarioKit.service)
        #expect(call.outcome == .answered)
        // `user/1001@default` (mod_callcenter's agent name as a device) is agent 1001.
        #expect(call.answers.map(\.agent) == [AgentID("1001")])
        #expect(call.answers.first?.queue == "hotline")
    }

    @Test(
        "the queue name decides the department: `repairs@default` goes to repairs",
        arguments: [
            ("repairs@default", ScenarioKit.repairs), ("hotline@default", ScenarioKit.service),
            ("billing", ScenarioKit.billing),
        ])
    func queueDomainDropped(_ queue: String, _ department: DepartmentID) throws {
        let leg = memberLeg(
            "fs-2", start: "2026-11-26 10:00:00", answer: nil, end: "2026-11-26 10:01:00", agent: nil, queue: queue)
        let call = try #require(ScenarioKit.calls(from: [leg], directory: directory).first)
        #expect(call.department == department)
        #expect(call.direction == .inbound)
    }

    @Test(
        "callcenter::info events alone: agent `1002@default` rang, `1001@default` answered and is the first responder")
    func queueEventsWithDomains() throws {
        let records = [
            ccEvent("fs-3", "2026-11-26 10:00:05", 1, .entered(callerNumber: ScenarioKit.customer)),
            ccEvent("fs-3", "2026-11-26 10:00:20", 2, agent: "1002@default", .ringNoAnswer),
            ccEvent(
                "fs-3", "2026-11-26 10:00:30", 3, agent: "1001@default",
                .connected(holdSeconds: 25, memberUniqueID: "b-leg")),
            ccEvent("fs-3", "2026-11-26 10:04:00", 4, agent: "1001@default", .completed),
        ]
        let derivation = ScenarioKit.derive(records, clock: at("2026-11-26 10:10:00"), directory: directory)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.department == ScenarioKit.service)
        #expect(contact.firstResponder?.agent == AgentID("1001"))
        #expect(contact.firstResponder?.boundAt == at("2026-11-26 10:00:30"))
        #expect(contact.obligations.isEmpty)
        let call = try #require(ScenarioKit.calls(from: records, directory: directory).first)
        #expect(call.ringNoAnswer == [AgentID("1002")])
    }

    @Test("a caller who cancels in a mod_callcenter queue after 45 s is owed a callback by the queue's department")
    func cancelledMemberOwedCallback() throws {
        let records = [
            memberLeg("fs-4", start: "2026-11-26 10:00:00", answer: nil, end: "2026-11-26 10:00:50", agent: nil),
            ccEvent("fs-4", "2026-11-26 10:00:05", 1, .entered(callerNumber: ScenarioKit.customer)),
            ccEvent("fs-4", "2026-11-26 10:00:50", 2, .abandoned(waitSeconds: 45)),
        ]
        let derivation = ScenarioKit.derive(records, clock: at("2026-11-26 10:10:00"), directory: directory)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.firstResponder == nil)
        let obligation = try #require(contact.obligations.first)
        #expect(obligation.kind == .callback)
        #expect(obligation.owner.department == ScenarioKit.service)
        #expect(obligation.dueAt == at("2026-11-26 10:30:50"))
    }
}
