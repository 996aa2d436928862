import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

// SPEC rule 5 on FreeSWITCH: an agent's `att_xfer`. The caller's A-leg (`caller`) is bridged to
// agent 1001's leg (`agent-1001`); 1001 runs att_xfer, which originates a consultation leg to
// billing agent 1006 (`consult-1006`, originator = 1001's leg); when 1001 hangs up, `uuid_bridge`
// bridges the consultation leg to the caller and writes `transfer_history` entries
// `<epoch>:<uuid>:uuid_br:<other uuid>` on both (mod_dptools att_thread_run,
// switch_ivr_uuid_bridge). The documents are written the way those functions fill them.

/// 2026-11-27 09:00:00 Beijing time, in Unix seconds.
private let nine: Int64 = 1_795_741_200
private let customerChannel = "sofia/external/13800138000@203.0.113.5"
private let encodedCustomerChannel = "sofia/external/13800138000%40203.0.113.5"

private func profile(_ uuid: String, _ channel: String, destination: String) -> [(String, String)] {
    [
        ("caller_id_name", "Customer"), ("caller_id_number", "13800138000"), ("destination_number", destination),
        ("context", "default"), ("uuid", uuid), ("chan_name", channel),
    ]
}

/// 09:00:00 the customer calls 96116; 09:00:10 bridged to 1001; 09:03:00 1001 hangs up and the
/// consultation leg (1006 answered it at 09:02:05) gets the caller; the call ends 09:08:00.
private let callerLeg = SyntheticCDR(
    variables: [
        ("uuid", "caller"), ("direction", "inbound"), ("channel_name", encodedCustomerChannel),
        ("start_uepoch", "\(nine)000000"), ("answer_uepoch", "\(nine)000000"),
        ("bridge_uepoch", "\(nine + 10)000000"), ("end_uepoch", "\(nine + 480)000000"), ("billsec", "480"),
        ("bridge_channel", "sofia/internal/1006%40pbx.example"), ("last_bridge_to", "consult-1006"),
        ("transfer_history", "ARRAY::\(nine + 180):caller:uuid_br:consult-1006"),
        ("last_app", "bridge"), ("last_arg", "user/1001"), ("hangup_cause", "NORMAL_CLEARING"),
    ],
    callflows: [
        SyntheticCallflow(
            profile: profile("caller", customerChannel, destination: "96116"),
            originatees: [profile("consult-1006", "sofia/internal/1006@pbx.example", destination: "1006")]),
        SyntheticCallflow(
            profile: profile("caller", customerChannel, destination: "96116"),
            originatees: [profile("agent-1001", "sofia/internal/1001@pbx.example", destination: "1001")]),
    ])

private let agentLeg = SyntheticCDR(
    variables: [
        ("uuid", "agent-1001"), ("direction", "outbound"), ("originator", "caller"),
        ("channel_name", "sofia/internal/1001%40pbx.example"), ("bridge_channel", encodedCustomerChannel),
        ("start_uepoch", "\(nine + 2)000000"), ("answer_uepoch", "\(nine + 10)000000"),
        ("bridge_uepoch", "\(nine + 10)000000"), ("end_uepoch", "\(nine + 180)000000"), ("billsec", "170"),
        ("last_app", "att_xfer"), ("last_arg", "user/1006"), ("hangup_cause", "NORMAL_CLEARING"),
    ],
    direction: "outbound",
    callflows: [
        SyntheticCallflow(
            profile: profile("agent-1001", "sofia/internal/1001@pbx.example", destination: "1001"),
            originator: profile("caller", customerChannel, destination: "96116"))
    ])

private let consultLeg = SyntheticCDR(
    variables: [
        ("uuid", "consult-1006"), ("direction", "outbound"), ("originator", "agent-1001"),
        ("channel_name", "sofia/internal/1006%40pbx.example"), ("bridge_channel", encodedCustomerChannel),
        ("last_bridge_to", "caller"), ("att_xfer_result", "success"),
        ("transfer_history", "ARRAY::\(nine + 180):consult-1006:uuid_br:caller"),
        ("start_uepoch", "\(nine + 120)000000"), ("answer_uepoch", "\(nine + 125)000000"),
        ("bridge_uepoch", "\(nine + 125)000000"), ("end_uepoch", "\(nine + 480)000000"), ("billsec", "355"),
        ("hangup_cause", "NORMAL_CLEARING"),
    ],
    direction: "outbound",
    callflows: [
        SyntheticCallflow(
            profile: profile("consult-1006", "sofia/internal/1006@pbx.example", destination: "1006"),
            originator: profile("agent-1001", "sofia/internal/1001@pbx.example", destination: "1006"))
    ])

@Suite("Rule 5 on FreeSWITCH — an att_xfer to an agent of another department is a hand-off")
struct FreeSWITCHAttendedTransferTests {
    private func leg(_ cdr: SyntheticCDR) throws -> LegRecord {
        let record = FreeSWITCHCDRDecoder(zone: .utc).decode(Array(cdr.xml.utf8), position: testPosition())
        return try #require(record.leg, "\(record.reject?.reason ?? "")")
    }

    @Test("the consultation leg joins the caller's call, serving from the uuid_bridge moment")
    func consultationLegJoinsTheCall() throws {
        let leg = try self.leg(consultLeg)
        #expect(leg.call == CallKey("caller"))
        #expect(leg.channel == customerChannel)
        #expect(leg.peerChannel == "sofia/internal/1006@pbx.example")
        #expect(leg.answer == Timestamp(seconds: nine + 180))
        #expect(leg.disposition == .answered)
    }

    @Test("the caller's leg names the agent it was bridged to first, not the transfer's receiver")
    func callerLegNamesTheFirstAgent() throws {
        let leg = try self.leg(callerLeg)
        #expect(leg.call == CallKey("caller"))
        #expect(leg.peerChannel == "sofia/internal/1001@pbx.example")
    }

    @Test("derived: a warm hand-off to billing satisfied by 1006 at the transfer, first responder 1001")
    func warmHandoff() throws {
        let configuration = try ConfigurationLoader.load(
            path: TestFiles.packageRoot.appendingPathComponent("samples/firstcontact.yaml").path)
        let directory = Directory(configuration: configuration)
        let legs = try [callerLeg, agentLeg, consultLeg].map { CallRecord.leg(try self.leg($0)) }
        var groups: [CallKey: [CallRecord]] = [:]
        for record in legs { groups[record.call, default: []].append(record) }
        #expect(groups.count == 1)
        let calls = CallAssembler(directory: directory).assembleCalls(
            groups.keys.sorted().map { ($0, groups[$0] ?? []) })
        let call = try #require(calls.first)
        let derivation = Correlator(directory: directory).derive(
            customerKey: try #require(call.customerKey), calls: calls, clock: Timestamp(seconds: nine + 3600))
        let contact = try #require(derivation.contacts.first)
        #expect(contact.firstResponder?.agent == AgentID("1001"))
        #expect(contact.firstResponder?.boundAt == Timestamp(seconds: nine + 10))
        let handoff = try #require(contact.obligations.first { $0.kind == .handoff })
        #expect(handoff.owner == Owner(department: DepartmentID("billing"), agent: AgentID("1006")))
        #expect(handoff.state == .satisfied)
        #expect(handoff.satisfiedVia == .warmTransfer)
        #expect(handoff.satisfiedAt == Timestamp(seconds: nine + 180))
    }
}
