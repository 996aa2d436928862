import Testing

@testable import FirstContactCore

// SPEC "Agents from channel names", FreeSWITCH: admins list an agent's phone the way FreeSWITCH
// dials it, `user/ID` (or `user/ID@domain`); the phone's own calls show up as
// `sofia/<profile>/ID@domain`.

/// The scenario configuration where each agent's only device is `user/ID`.
private let directory: Directory = {
    var configuration = ScenarioKit.configuration()
    configuration.agents = configuration.agents.map { agent in
        var agent = agent
        agent.devices = agent.id == AgentID("1002") ? ["user/1002@pbx.example"] : ["user/\(agent.id.rawValue)"]
        return agent
    }
    return Directory(configuration: configuration)
}()

private func leg(
    _ uuid: String, source: String, destination: String, context: String, channel: String, peer: String,
    application: String, data: String, start: String, answer: String?, end: String
) -> CallRecord {
    .leg(
        LegRecord(
            key: EventKey(rawValue: "fsleg:\(uuid)"),
            position: SourcePosition(source: "/var/log/freeswitch/xml_cdr/\(uuid).cdr.xml", line: 1, offset: 0),
            call: CallKey(uuid), uniqueID: uuid, source: source, callerName: "", destination: destination,
            context: context, channel: channel, peerChannel: peer, application: application, applicationData: data,
            start: at(start), answer: answer.map(at), end: at(end), billsec: answer.map { Int(at(end) - at($0)) } ?? 0,
            disposition: answer == nil ? .noAnswer : .answered, sequence: nil))
}

private func ccEvent(_ call: String, _ time: String, _ sequence: Int, _ event: QueueEvent) -> CallRecord {
    .queue(
        QueueRecord(
            key: EventKey(rawValue: "fsev:core:\(sequence)"),
            position: SourcePosition(source: "events.xml", line: sequence, offset: Int64(sequence)),
            call: CallKey(call), time: at(time), queue: "hotline@default", agent: "", event: event))
}

@Suite("FreeSWITCH `user/ID` devices match that user's phone")
struct FreeSWITCHUserDeviceScenarioTests {
    @Test(
        "`user/ID` matches the user's sofia channel on any profile and domain; `user/ID@domain` prefers its domain",
        arguments: [
            ("sofia/internal/1001@pbx.example", "1001"), ("sofia/external/1001@10.0.0.5:5060", "1001"),
            ("sofia/internal/1001", "1001"), ("SOFIA/Internal/1002@PBX.example", "1002"), ("user/1001@default", "1001"),
            ("sofia/internal/sip:1001@10.0.0.5:5060", "1001"),
        ])
    func sofiaChannelsOfADirectoryUser(_ channel: String, _ agent: String) {
        #expect(directory.agent(forChannel: channel) == AgentID(agent))
    }

    @Test(
        "a gateway channel or an unknown user is nobody's phone",
        arguments: [
            "sofia/gateway/trunk/1001", "sofia/internal/1077@pbx.example", "sofia/internal/@pbx.example",
            "loopback/1001-a",
        ])
    func notAnAgentsPhone(_ channel: String) {
        #expect(directory.agent(forChannel: channel) == nil)
    }

    @Test("the directory user from a leg's user_name and domain_name variables")
    func directoryUserVariables() {
        #expect(directory.agent(forDirectoryUser: "1001", domain: "pbx.example") == AgentID("1001"))
        #expect(directory.agent(forDirectoryUser: "1002", domain: "pbx.example") == AgentID("1002"))
        #expect(directory.agent(forDirectoryUser: "1077", domain: "pbx.example") == nil)
    }

    @Test(
        "an agent's callback from their own phone with only `user/1001` configured satisfies the callback and binds the first responder"
    )
    func callbackFromOwnPhoneWithUserDevice() throws {
        let records = [
            // The customer gives up in the hotline queue after 50 s: a callback is owed.
            leg(
                "fs-miss", source: ScenarioKit.customer, destination: "96116", context: "public",
                channel: "sofia/external/\(ScenarioKit.customer)@gw.example", peer: "", application: "callcenter",
                data: "hotline@default", start: "2026-11-26 10:00:00", answer: nil, end: "2026-11-26 10:00:50"),
            ccEvent("fs-miss", "2026-11-26 10:00:05", 1, .entered(callerNumber: ScenarioKit.customer)),
            ccEvent("fs-miss", "2026-11-26 10:00:50", 2, .abandoned(waitSeconds: 45)),
            // 张敏 calls back from her desk phone ten minutes later; the customer answers.
            leg(
                "fs-back", source: "1001", destination: ScenarioKit.customer, context: "default",
                channel: "sofia/internal/1001@pbx.example", peer: "sofia/gateway/trunk/\(ScenarioKit.customer)",
                application: "bridge", data: "sofia/gateway/trunk/\(ScenarioKit.customer)",
                start: "2026-11-26 10:10:00", answer: "2026-11-26 10:10:10", end: "2026-11-26 10:13:00"),
        ]
        let derivation = ScenarioKit.derive(records, clock: at("2026-11-26 11:00:00"), directory: directory)
        let contact = try #require(derivation.contacts.first)
        let callback = try #require(contact.obligations.first { $0.kind == .callback })
        #expect(callback.state == .satisfied)
        #expect(contact.firstResponder?.agent == AgentID("1001"))
        #expect(derivation.violations.isEmpty)
    }
}
