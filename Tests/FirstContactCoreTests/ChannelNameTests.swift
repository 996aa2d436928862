import Testing

@testable import FirstContactCore

// SPEC "Agents from channel names": a channel names its device once the PBX's own suffixes are
// cut — Asterisk's `-XXXXXXXX` channel counter and a Local channel's `;1`/`;2` half.

@Suite("Channel names to devices")
struct ChannelNameTests {
    @Test(
        "The PBX's suffixes are cut, the device's own name kept",
        arguments: [
            ("PJSIP/1001-0000002a", "PJSIP/1001"),
            ("SIP/trunk-provider-00000a1F", "SIP/trunk-provider"),
            ("Local/1001@agents-00000003;2", "Local/1001@agents"),
            ("Local/1001@agents-00000003;1", "Local/1001@agents"),
            ("Local/1001@agents;2", "Local/1001@agents"),
            ("DAHDI/1-1", "DAHDI/1"),
            ("sofia/internal/1001@pbx.example", "sofia/internal/1001@pbx.example"),
            // A dash before the technology's slash is part of the technology, not a counter.
            ("my-tech/1001", "my-tech/1001"),
            // The text after the last dash is not a hexadecimal counter.
            ("PJSIP/front-desk", "PJSIP/front-desk"),
            ("PJSIP/1001-", "PJSIP/1001-"),
            ("PJSIP/1001-0000002g", "PJSIP/1001-0000002g"),
            // `;3` is no Local half.
            ("Local/1001@agents-00000003;3", "Local/1001@agents-00000003;3"),
            ("PJSIP/坐席-00000001", "PJSIP/坐席"),
            ("PJSIP/坐席-é", "PJSIP/坐席-é"),
            ("1001", "1001"),
            (";1", ""),
            ("", ""),
        ])
    func withoutSuffix(channel: String, device: String) {
        #expect(Directory.withoutSuffix(channel) == device)
    }

    @Test(
        "A channel finds its agent whatever the case and suffix",
        arguments: [
            ("PJSIP/1001-0000002a", "1001"),
            ("pjsip/1001-0000002A", "1001"),
            ("Local/1001@agents-00000003;2", "1001"),
            ("PJSIP/trunk-0000000b", nil),
        ] as [(String, String?)])
    func agentForChannel(channel: String, agent: String?) {
        var configuration = ScenarioKit.configuration()
        configuration.agents = configuration.agents.map { entry in
            var entry = entry
            entry.devices = ["PJSIP/\(entry.id.rawValue)", "Local/\(entry.id.rawValue)@agents"]
            return entry
        }
        let directory = Directory(configuration: configuration)
        #expect(directory.agent(forChannel: channel) == agent.map { AgentID($0) })
    }
}
