import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

private let utcDecoder = FreeSWITCHCDRDecoder(zone: .utc)

private func corpusBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestFiles.corpus("freeswitch-xml-cdr/\(name)"))))
}

/// What one corpus document must decode to, read off the file by hand.
struct CorpusLeg: CustomTestStringConvertible, Sendable {
    var file: String
    var uniqueID: String
    var call: String
    var source: String
    var callerName: String
    var destination: String
    var context: String
    var channel: String
    var peerChannel: String
    var application: String
    var applicationData: String
    var start: Int64
    var answer: Int64?
    var end: Int64
    var billsec: Int
    var disposition: LegDisposition
    var testDescription: String { self.file }
}

@Suite("FreeSWITCHCDRDecoder: the public corpus")
struct FreeSWITCHCDRCorpusTests {
    static let expected: [CorpusLeg] = [
        // A-leg whose bridge to a gateway was rejected (sip:403) after early media.
        CorpusLeg(
            file: "ccm_cdr-with-origination.xml",
            uniqueID: "f26e6ecb-6328-4889-9c01-76e5ebd8afad", call: "f26e6ecb-6328-4889-9c01-76e5ebd8afad",
            source: "IMSI510555550000884", callerName: "IMSI510555550000884", destination: "6285342628278",
            context: "default", channel: "sofia/openbts/IMSI510555550000884@127.0.0.1:5062",
            peerChannel: "sofia/external/6285342628278", application: "bridge",
            applicationData: "sofia/gateway/freeswitch-2/6285342628278",
            start: 1_418_250_885, answer: nil, end: 1_418_250_943, billsec: 0, disposition: .failed
        ),
        // A-leg timed out towards the BTS; billsec 10 without an answer is the file's inconsistency.
        CorpusLeg(
            file: "ccm_cloud_to_bts.cdr.xml",
            uniqueID: "45ac097f-8a2f-4cb3-91fb-f6aed397b748", call: "45ac097f-8a2f-4cb3-91fb-f6aed397b748",
            source: "+6285603097357", callerName: "6285603097357", destination: "6285574719464", context: "public",
            channel: "sofia/nexmo/6285603097357@119.81.44.12:5060",
            peerChannel: "sofia/bts/6285574719464@10.64.0.38:5080", application: "bridge",
            applicationData: "sofia/bts/6285574719464@10.64.0.38:5080",
            start: 1_419_333_033, answer: nil, end: 1_419_333_046, billsec: 0, disposition: .failed
        ),
        // NORMAL_CLEARING yet never answered: cause is not outcome.
        CorpusLeg(
            file: "ccm_free-call-cdr.xml",
            uniqueID: "44999f0d-e76b-4bd3-bfdf-3239d487e45b", call: "44999f0d-e76b-4bd3-bfdf-3239d487e45b",
            source: "IMSI510555550000996", callerName: "IMSI510555550000996", destination: "888", context: "default",
            channel: "sofia/openbts/IMSI510555550000996@127.0.0.1:5062", peerChannel: "", application: "set",
            applicationData: "res=",
            start: 1_423_750_149, answer: nil, end: 1_423_750_149, billsec: 0, disposition: .noAnswer
        ),
        // Answered B-leg: keyed by its originator; the caller is the originator's channel.
        CorpusLeg(
            file: "ccm_incoming-call-cdr.xml",
            uniqueID: "26444af2-5f94-40b5-9578-824ce7c75ab8", call: "7c1088a5-ce12-4417-9b57-9d649ae984ec",
            source: "18657194461", callerName: "18657194461", destination: "12529178659", context: "public",
            channel: "sofia/external/18657194461@172.31.34.170",
            peerChannel: "sofia/openbts/IMSI901550000000072@127.0.0.1:5062", application: "", applicationData: "",
            start: 1_425_880_687, answer: 1_425_880_692, end: 1_425_880_716, billsec: 24, disposition: .answered
        ),
        // B-leg refused with 407: CALL_REJECTED.
        CorpusLeg(
            file: "ccm_local-call-msisdn-cdr.xml",
            uniqueID: "d0d42f4b-d5ef-4f30-a306-57980804f1be", call: "9c5e6779-3dd1-46c0-abe5-05f089fcd353",
            source: "IMSI123451234512342", callerName: "", destination: "639360100755", context: "default",
            channel: "sofia/openbts/IMSI123451234512342@127.0.0.1", peerChannel: "sofia/external/639360100755",
            application: "", applicationData: "",
            start: 1_473_394_428, answer: nil, end: 1_473_394_429, billsec: 0, disposition: .failed
        ),
        // Answered B-leg to an external gateway.
        CorpusLeg(
            file: "ccm_outside-call-cdr.xml",
            uniqueID: "2811f8a7-0bf4-4574-ba7a-fb21417e7dde", call: "96787eeb-2661-4c11-a719-8eab89d498d7",
            source: "IMSI510555550000071", callerName: "IMSI510555550000071", destination: "7892395268385",
            context: "default", channel: "sofia/openbts/IMSI510555550000071@127.0.0.1:5062",
            peerChannel: "sofia/external/7892395268385", application: "", applicationData: "",
            start: 1_423_742_215, answer: 1_423_742_240, end: 1_423_742_282, billsec: 42, disposition: .answered
        ),
    ]

    @Test("every corpus file has an expectation")
    func coverage() {
        #expect(TestFiles.corpusFiles(in: "freeswitch-xml-cdr") == Self.expected.map(\.file).sorted())
    }

    @Test("each document decodes to the leg read off the file", arguments: Self.expected)
    func decodes(_ expected: CorpusLeg) throws {
        let bytes = try corpusBytes(expected.file)
        let position = SourcePosition(source: expected.file, line: 1, offset: 0)
        let record = utcDecoder.decode(bytes, position: position)
        let leg = try #require(record.leg, "\(record.reject?.reason ?? "not a leg")")
        #expect(leg.uniqueID == expected.uniqueID)
        #expect(leg.call == CallKey(expected.call))
        #expect(leg.source == expected.source)
        #expect(leg.callerName == expected.callerName)
        #expect(leg.destination == expected.destination)
        #expect(leg.context == expected.context)
        #expect(leg.channel == expected.channel)
        #expect(leg.peerChannel == expected.peerChannel)
        #expect(leg.application == expected.application)
        #expect(leg.applicationData == expected.applicationData)
        #expect(leg.start == Timestamp(seconds: expected.start))
        #expect(leg.answer == expected.answer.map { Timestamp(seconds: $0) })
        #expect(leg.end == Timestamp(seconds: expected.end))
        #expect(leg.billsec == expected.billsec)
        #expect(leg.disposition == expected.disposition)
        #expect(leg.sequence == nil)
        #expect(leg.position == position)
        #expect(leg.key == EventKey(rawValue: "fsleg:\(leg.uniqueID)"))
    }

    @Test("decoders run concurrently on many threads give the same legs (libxml2 is set up once, no shared state)")
    func concurrent() async throws {
        let documents = try Self.expected.map { try corpusBytes($0.file) }
        let reference = documents.map { utcDecoder.decode($0, position: testPosition()) }
        let results = await withTaskGroup(of: [IngestRecord].self) { group in
            for _ in 0..<16 {
                group.addTask {
                    (0..<20).flatMap { _ in documents.map { utcDecoder.decode($0, position: testPosition()) } }
                }
            }
            return await group.reduce(into: [[IngestRecord]]()) { $0.append($1) }
        }
        for result in results {
            #expect(result == Array((0..<20).map { _ in reference }.joined()))
        }
    }

    @Test("the same document read twice has the same key; different documents differ")
    func keys() throws {
        let keys = try Self.expected.map {
            try #require(utcDecoder.decode(try corpusBytes($0.file), position: testPosition()).leg?.key)
        }
        #expect(Set(keys).count == keys.count)
        let again = try #require(
            utcDecoder.decode(try corpusBytes(Self.expected[0].file), position: testPosition(9)).leg)
        #expect(again.key == keys[0])
    }
}

@Suite("FreeSWITCHCDRDecoder: mod_xml_cdr HTTP bodies")
struct FreeSWITCHCDRBodyTests {
    /// `application/x-www-form-urlencoded` the way mod_xml_cdr writes it (everything but
    /// letters and digits escaped).
    static func formEncoded(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test(
        "cdr= bodies decode to the same leg and key as the file",
        arguments: ["ccm_incoming-call-cdr.xml", "ccm_free-call-cdr.xml"]
    )
    func forms(_ file: String) throws {
        let bytes = try corpusBytes(file)
        let direct = try #require(utcDecoder.decode(bytes, position: testPosition()).leg)
        let encoded = Self.formEncoded(bytes)
        let bodies = [
            "cdr=\(encoded)",  // encode=true
            "uuid=a_\(direct.uniqueID)&cdr=\(encoded)&x=1",  // with other fields around it
            "cdr=" + String(decoding: bytes, as: UTF8.self),  // encode=false (raw XML after cdr=)
            "uuid=\(direct.uniqueID)&cdr=" + String(decoding: bytes, as: UTF8.self),
        ]
        for body in bodies {
            let leg = try #require(
                utcDecoder.decode(Array(body.utf8), position: testPosition()).leg, "\(body.prefix(60))")
            #expect(leg == direct)
        }
    }

    @Test("a form-encoded variable is decoded exactly once: %2540 in the body is %40 in the XML, then @")
    func layersDecodedOnce() throws {
        let xml = SyntheticCDR(variables: [
            ("last_arg", "hotline%2540default"), ("last_app", "callcenter"), ("start_epoch", "10"), ("end_epoch", "20"),
        ]).xml
        let direct = try #require(utcDecoder.decode(Array(xml.utf8), position: testPosition()).leg)
        #expect(direct.applicationData == "hotline%40default")
        let viaForm = try #require(
            utcDecoder.decode(Array("cdr=\(Self.formEncoded(Array(xml.utf8)))".utf8), position: testPosition()).leg)
        #expect(viaForm.applicationData == "hotline%40default")
    }

    @Test("bodies that hold no XML are one reject with a reason")
    func unreadableBodies() throws {
        let base64 = "cdr=" + Data(try corpusBytes("ccm_free-call-cdr.xml")).base64EncodedString()
        let cases: [(String, String)] = [
            (base64, "base64"),
            ("uuid=1234&other=x", "no cdr= field"),
            ("", "empty"),
        ]
        for (body, words) in cases {
            let reject = try #require(utcDecoder.decode(Array(body.utf8), position: testPosition()).reject)
            #expect(reject.reason.contains(words), "\(reject.reason)")
            #expect(reject.raw == Array(body.utf8.prefix(FreeSWITCHCDRDecoder.keptRejectBytes)))
        }
    }
}

/// A small mod_xml_cdr document with chosen variables and callflows (values as written, so
/// variables must be given URL-encoded).
struct SyntheticCDR {
    var variables: [(String, String)]
    var direction = "inbound"
    /// Newest first, like mod_xml_cdr.
    var callflows: [SyntheticCallflow] = [SyntheticCallflow()]

    var xml: String {
        var lines = ["<?xml version=\"1.0\"?>", "<cdr core-uuid=\"core\" switchname=\"pbx\">"]
        lines.append(
            "  <channel_data><state>CS_REPORTING</state><direction>\(self.direction)</direction></channel_data>")
        lines.append("  <variables>")
        var variables = self.variables
        if !variables.contains(where: { $0.0 == "uuid" }) { variables.insert(("uuid", "leg-1"), at: 0) }
        for (name, value) in variables { lines.append("    <\(name)>\(value)</\(name)>") }
        lines.append("  </variables>")
        for (index, callflow) in self.callflows.enumerated() {
            lines.append(callflow.xml(index: self.callflows.count - index))
        }
        lines.append("</cdr>")
        return lines.joined(separator: "\n")
    }
}

struct SyntheticCallflow {
    var profile: [(String, String)] = []
    var originator: [(String, String)]?
    var originatees: [[(String, String)]] = []
    var times: [(String, String)] = []

    func xml(index: Int) -> String {
        func fields(_ pairs: [(String, String)], indent: String) -> String {
            pairs.map { "\(indent)<\($0.0)>\($0.1)</\($0.0)>" }.joined(separator: "\n")
        }
        var lines = ["  <callflow dialplan=\"XML\" profile_index=\"\(index)\">", "    <caller_profile>"]
        lines.append(fields(self.profile, indent: "      "))
        if let originator {
            lines.append("      <originator><originator_caller_profile>")
            lines.append(fields(originator, indent: "        "))
            lines.append("      </originator_caller_profile></originator>")
        }
        if !self.originatees.isEmpty {
            lines.append("      <originatee>")
            for originatee in self.originatees {
                lines.append("        <originatee_caller_profile>")
                lines.append(fields(originatee, indent: "          "))
                lines.append("        </originatee_caller_profile>")
            }
            lines.append("      </originatee>")
        }
        lines.append("    </caller_profile>")
        lines.append("    <times>")
        lines.append(fields(self.times, indent: "      "))
        lines.append("    </times>")
        lines.append("  </callflow>")
        return lines.joined(separator: "\n")
    }
}

/// 2026-11-27 09:00:00 Beijing time, in Unix seconds.
private let nine: Int64 = 1_795_741_200

/// A hotline call: the customer dials 96116, the IVR answers at once, the caller is queued.
private func memberLeg(_ extra: [(String, String)], answerOffset: Int64 = 2, billsec: Int = 178) -> SyntheticCDR {
    SyntheticCDR(
        variables: [
            ("uuid", "member-1"), ("direction", "inbound"),
            ("channel_name", "sofia/external/13800138000%40203.0.113.5"),
            ("start_uepoch", "\(nine)123456"), ("answer_uepoch", "\(nine + answerOffset)000001"),
            ("end_uepoch", "\(nine + 180)999999"), ("billsec", "\(billsec)"),
            ("last_app", "callcenter"), ("last_arg", "hotline%40default"),
        ] + extra,
        callflows: [
            // Newest: transferred into the queue extension.
            SyntheticCallflow(
                profile: [
                    ("caller_id_name", "Customer"), ("caller_id_number", "13800138000"),
                    ("destination_number", "hotline"), ("context", "default"), ("uuid", "member-1"),
                    ("chan_name", "sofia/external/13800138000@203.0.113.5"),
                ]),
            // Oldest: what the customer dialled.
            SyntheticCallflow(
                profile: [
                    ("caller_id_name", "Customer"), ("caller_id_number", "13800138000"),
                    ("destination_number", "96116"), ("context", "public"), ("uuid", "member-1"),
                    ("chan_name", "sofia/external/13800138000@203.0.113.5"),
                ]),
        ]
    )
}

@Suite("FreeSWITCHCDRDecoder: mapping rules")
struct FreeSWITCHCDRMappingTests {
    private func leg(_ cdr: SyntheticCDR, zone: ZoneRules = .utc) throws -> LegRecord {
        let record = FreeSWITCHCDRDecoder(zone: zone).decode(Array(cdr.xml.utf8), position: testPosition())
        return try #require(record.leg, "\(record.reject?.reason ?? "")")
    }

    @Test("callcenter member leg: the agent is cc_agent, answered when the bridge came up, not at the IVR answer")
    func callcenterMember() throws {
        let leg = try self.leg(
            memberLeg([
                ("cc_agent", "1001%40default"), ("cc_queue_answered_epoch", "\(nine + 40)"),
                ("bridge_uepoch", "\(nine + 40)500000"), ("bridge_channel", "sofia/internal/1001%40pbx.example"),
                ("hangup_cause", "NORMAL_CLEARING"),
            ]))
        #expect(leg.call == CallKey("member-1"))
        #expect(leg.peerChannel == "user/1001@default")
        #expect(leg.answer == Timestamp(seconds: nine + 40))
        #expect(leg.disposition == .answered)
        #expect(leg.billsec == 178)
        // The caller fields come from the oldest callflow: what the customer dialled.
        #expect(leg.destination == "96116")
        #expect(leg.context == "public")
        #expect(leg.source == "13800138000")
        #expect(leg.channel == "sofia/external/13800138000@203.0.113.5")
        #expect(leg.application == "callcenter")
        #expect(leg.applicationData == "hotline@default")
        #expect(leg.start == Timestamp(seconds: nine))
        #expect(leg.end == Timestamp(seconds: nine + 180))
    }

    @Test("callcenter agent leg (no originator): keyed by cc_member_session_uuid, caller = bridged member channel")
    func callcenterAgent() throws {
        let cdr = SyntheticCDR(
            variables: [
                ("uuid", "agent-leg-1"), ("direction", "outbound"), ("cc_side", "agent"),
                ("cc_member_session_uuid", "member-1"), ("cc_agent", "1001%40default"),
                ("channel_name", "sofia/internal/1001%40pbx.example"),
                ("bridge_channel", "sofia/external/13800138000%40203.0.113.5"),
                ("start_uepoch", "\(nine + 30)000000"), ("answer_uepoch", "\(nine + 40)000000"),
                ("end_uepoch", "\(nine + 180)000000"), ("billsec", "140"), ("hangup_cause", "NORMAL_CLEARING"),
            ],
            direction: "outbound",
            callflows: [
                SyntheticCallflow(profile: [
                    ("caller_id_number", "13800138000"), ("destination_number", "1001"), ("context", "default"),
                    ("uuid", "agent-leg-1"), ("chan_name", "sofia/internal/1001@pbx.example"),
                ])
            ]
        )
        let leg = try self.leg(cdr)
        #expect(leg.call == CallKey("member-1"))
        #expect(leg.uniqueID == "agent-leg-1")
        #expect(leg.channel == "sofia/external/13800138000@203.0.113.5")
        #expect(leg.peerChannel == "sofia/internal/1001@pbx.example")
        #expect(leg.disposition == .answered)
        #expect(leg.answer == Timestamp(seconds: nine + 40))
    }

    struct Outcome: CustomTestStringConvertible, Sendable {
        var name: String
        var variables: [String]
        var answerOffset: Int64 = 2
        var billsec = 178
        var disposition: LegDisposition
        var peer: String
        var testDescription: String { self.name }
    }

    @Test(
        "the outcome is the real one, never the cause alone",
        arguments: [
            Outcome(
                name: "IVR answered, agent rang out: NO ANSWER although the leg was answered and billed",
                variables: [
                    "originate_disposition=NO_ANSWER", "hangup_cause=NORMAL_CLEARING",
                    "bridge_channel=sofia/internal/1002%40pbx",
                ],
                disposition: .noAnswer, peer: "sofia/internal/1002@pbx"
            ),
            Outcome(
                name: "IVR answered, agent busy: BUSY from the B-leg's cause",
                variables: [
                    "last_bridge_hangup_cause=USER_BUSY", "originate_disposition=USER_BUSY",
                    "hangup_cause=NORMAL_CLEARING", "last_bridge_to=b-1",
                ],
                disposition: .busy, peer: "sofia/internal/1003@pbx"
            ),
            Outcome(
                name: "caller gave up while ringing: ORIGINATOR_CANCEL is NO ANSWER",
                variables: ["hangup_cause=ORIGINATOR_CANCEL"], answerOffset: -1, billsec: 0,
                disposition: .noAnswer, peer: ""
            ),
            Outcome(
                name: "USER_BUSY without an answer is BUSY",
                variables: ["hangup_cause=USER_BUSY"], answerOffset: -1, billsec: 0, disposition: .busy, peer: ""
            ),
            Outcome(
                name: "NO_ROUTE_DESTINATION is FAILED",
                variables: ["hangup_cause=NO_ROUTE_DESTINATION"], answerOffset: -1, billsec: 0,
                disposition: .failed, peer: ""
            ),
            Outcome(
                name: "answered with billsec 0 is not ANSWERED",
                variables: ["hangup_cause=NORMAL_CLEARING"], billsec: 0, disposition: .noAnswer, peer: ""
            ),
            Outcome(
                name: "no cause name: the Q.850 number decides",
                variables: ["hangup_cause_q850=17"], answerOffset: -1, billsec: 0, disposition: .busy, peer: ""
            ),
            Outcome(
                name: "no bridge variables, but a successful originate on an answered leg: ANSWERED",
                variables: [
                    "originate_disposition=SUCCESS", "hangup_cause=NORMAL_CLEARING",
                    "bridge_channel=sofia/internal/1004%40pbx",
                ],
                disposition: .answered, peer: "sofia/internal/1004@pbx"
            ),
            Outcome(
                name: "IVR only (no B-leg), answered and billed: ANSWERED by the PBX",
                variables: ["hangup_cause=NORMAL_CLEARING"], disposition: .answered, peer: ""
            ),
        ]
    )
    func outcomes(_ outcome: Outcome) throws {
        var extra = outcome.variables.map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return (parts[0], parts.count > 1 ? parts[1] : "")
        }
        // answerOffset < 0: never answered.
        var cdr = memberLeg([], answerOffset: outcome.answerOffset, billsec: outcome.billsec)
        if outcome.answerOffset < 0 {
            cdr.variables = cdr.variables.map { $0.0 == "answer_uepoch" ? ("answer_uepoch", "0") : $0 }
        }
        if extra.contains(where: { $0.0 == "last_bridge_to" }) {
            cdr.callflows[0].originatees = [
                [("uuid", "b-0"), ("chan_name", "sofia/internal/1009@pbx")],
                [("uuid", "b-1"), ("chan_name", "sofia/internal/1003@pbx")],
            ]
        }
        extra.removeAll { $0.0.isEmpty }
        cdr.variables += extra
        let leg = try self.leg(cdr)
        #expect(leg.disposition == outcome.disposition)
        #expect(leg.peerChannel == outcome.peer)
        if leg.disposition != .answered { #expect(leg.answer == nil || leg.answer == Timestamp(seconds: nine + 2)) }
    }

    @Test("B-leg via the <originator> profile alone; caller fields from it")
    func originatorProfileOnly() throws {
        let cdr = SyntheticCDR(
            variables: [
                ("uuid", "b-leg"), ("start_epoch", "\(nine)"), ("answer_epoch", "\(nine + 5)"),
                ("end_epoch", "\(nine + 65)"), ("billsec", "60"), ("hangup_cause", "NORMAL_CLEARING"),
                ("channel_name", "sofia/internal/1001%40pbx"),
            ],
            direction: "outbound",
            callflows: [
                SyntheticCallflow(
                    profile: [("caller_id_number", "13800138000"), ("destination_number", "1001"), ("uuid", "b-leg")],
                    originator: [
                        ("caller_id_number", "13800138000"), ("caller_id_name", "Customer"),
                        ("destination_number", "96116"), ("context", "public"), ("uuid", "a-leg"),
                        ("chan_name", "sofia/external/13800138000@203.0.113.5"),
                    ]
                )
            ]
        )
        let leg = try self.leg(cdr)
        #expect(leg.call == CallKey("a-leg"))
        #expect(leg.channel == "sofia/external/13800138000@203.0.113.5")
        #expect(leg.peerChannel == "sofia/internal/1001@pbx")
        #expect(leg.destination == "96116")
        #expect(leg.context == "public")
        #expect(leg.callerName == "Customer")
        #expect(leg.answer == Timestamp(seconds: nine + 5))
        #expect(leg.disposition == .answered)
    }

    @Test("an inbound leg is an A-leg even if it carries originator-like variables")
    func inboundIsALeg() throws {
        let leg = try self.leg(memberLeg([("originator", "someone-else"), ("hangup_cause", "NORMAL_CLEARING")]))
        #expect(leg.call == CallKey("member-1"))
    }

    @Test("without epochs, local *_stamp times are read in the PBX's zone; <times> is the last resort")
    func stampFallback() throws {
        let shanghai = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)
        let cdr = SyntheticCDR(
            variables: [
                ("start_stamp", "2026-11-27%2009%3A00%3A00"), ("answer_stamp", ""),
                ("billsec", "0"), ("hangup_cause", "NO_ANSWER"),
            ],
            callflows: [SyntheticCallflow(times: [("created_time", "1"), ("hangup_time", "\(nine + 30)000000")])]
        )
        let leg = try self.leg(cdr, zone: shanghai)
        #expect(leg.start == Timestamp(seconds: nine))
        #expect(leg.answer == nil)
        #expect(leg.end == Timestamp(seconds: nine + 30))
        #expect(leg.disposition == .noAnswer)
    }

    struct Broken: CustomTestStringConvertible, Sendable {
        var name: String
        var xml: String
        var reason: String
        var testDescription: String { self.name }
    }

    @Test(
        "documents that cannot be a leg are one reject naming the problem",
        arguments: [
            Broken(name: "wrong root", xml: "<event><uuid>x</uuid></event>", reason: "root element is <event>"),
            Broken(
                name: "no uuid", xml: SyntheticCDR(variables: [("uuid", "")]).xml, reason: "no uuid"
            ),
            Broken(
                name: "no start time", xml: SyntheticCDR(variables: [("end_epoch", "5")]).xml, reason: "no start time"
            ),
            Broken(
                name: "garbage epoch",
                xml: SyntheticCDR(variables: [("start_uepoch", "12abc"), ("end_epoch", "5")]).xml,
                reason: "start_uepoch is \"12abc\""
            ),
            Broken(
                name: "garbage stamp",
                xml: SyntheticCDR(variables: [("start_stamp", "yesterday"), ("end_epoch", "5")]).xml,
                reason: "start_stamp is \"yesterday\""
            ),
        ]
    )
    func broken(_ broken: Broken) throws {
        let record = utcDecoder.decode(Array(broken.xml.utf8), position: testPosition())
        let reject = try #require(record.reject)
        #expect(reject.reason.contains(broken.reason), "\(reject.reason)")
        #expect(reject.raw == Array(broken.xml.utf8))
    }

    @Test("a hostile document through the decoder is exactly one reject, its kept bytes capped")
    func hostileThroughDecoder() throws {
        let huge = Array("<cdr><variables><caller_id_name>".utf8) + [UInt8](repeating: 0x41, count: 5_000_000)
        let reject = try #require(utcDecoder.decode(huge, position: testPosition()).reject)
        #expect(reject.reason.contains("document-too-large"))
        #expect(reject.raw.count == FreeSWITCHCDRDecoder.keptRejectBytes)
    }
}

/// Throughput is measured by scripts/xml-decoder-benchmark.sh, not here.
@Suite("FreeSWITCHCDRDecoder: repeated decoding")
struct FreeSWITCHCDRRepeatedDecoding {
    /// One decoder over and over: nothing it keeps between documents changes a later leg.
    @Test("decoding the corpus documents repeatedly gives the same legs every time")
    func repeated() throws {
        let documents = try FreeSWITCHCDRCorpusTests.expected.map { try corpusBytes($0.file) }
        let first = documents.map { utcDecoder.decode($0, position: testPosition()).leg }
        #expect(first.allSatisfy { $0 != nil })
        for _ in 0..<20 {
            #expect(documents.map { utcDecoder.decode($0, position: testPosition()).leg } == first)
        }
    }
}
