import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

private let decoder = FreeSWITCHEventDecoder(zone: .utc)

private func decode(_ text: String, source: String = "events") -> [IngestRecord] {
    decoder.decode(Array(text.utf8), position: SourcePosition(source: source, line: 1, offset: 0))
}

/// One event as FreeSWITCH holds it (values not yet encoded), written in either encoding.
struct ESLEvent: Sendable {
    var headers: [(String, String)]

    /// FreeSWITCH's URL encoding of header values (everything but unreserved characters).
    static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `text/event-plain`: `Name: value` lines and the blank line ending them.
    var plain: String { self.headers.map { "\($0.0): \(Self.encode($0.1))\n" }.joined() + "\n" }

    /// `event xml`: `<event><headers>…</headers></event>`.
    var xml: String {
        "<event>\n  <headers>\n" + self.headers.map { "    <\($0.0)>\(Self.encode($0.1))</\($0.0)>\n" }.joined()
            + "  </headers>\n</event>"
    }

    /// The socket frame carrying the event.
    func framed(xml: Bool) -> String {
        let body = xml ? self.xml : self.plain
        return "Content-Length: \(body.utf8.count)\nContent-Type: text/event-\(xml ? "xml" : "plain")\n\n\(body)"
    }
}

/// A queue call through mod_callcenter: the caller (a-leg `caller`) joins `hotline@default` at
/// 1000, 1002 is rung and does not answer (1005–1020), 1001 answers at 1030, the call ends at 1100.
enum CallcenterStory {
    static let caller = "8d8b3a1c-0000-4000-8000-000000000001"
    static let agentLeg = "8d8b3a1c-0000-4000-8000-000000000002"
    static let core = "c0c0c0c0-1111-2222-3333-444444444444"

    static func base(_ sequence: Int, _ micros: Int64, name: String = "CUSTOM") -> [(String, String)] {
        var headers = [
            ("Event-Name", name), ("Core-UUID", core), ("FreeSWITCH-Hostname", "pbx"),
            ("Event-Date-Local", "1970-01-01 00:16:40"), ("Event-Date-Timestamp", String(micros)),
            ("Event-Sequence", String(sequence)),
        ]
        if name == "CUSTOM" { headers.append(("Event-Subclass", "callcenter::info")) }
        return headers
    }

    static let events: [ESLEvent] = [
        ESLEvent(
            headers: base(1, 1_000_000_000) + [
                ("CC-Queue", "hotline@default"), ("CC-Action", "member-queue-start"), ("CC-Member-UUID", "m-1"),
                ("CC-Member-Session-UUID", caller), ("CC-Member-CID-Name", "Zhang Wei"),
                ("CC-Member-CID-Number", "+8613800138000"),
            ]),
        ESLEvent(
            headers: base(2, 1_001_000_000) + [
                ("CC-Queue", "hotline@default"), ("CC-Action", "members-count"), ("CC-Count", "1"),
                ("CC-Selection", "Single-Queue"),
            ]),
        ESLEvent(
            headers: base(3, 1_020_000_000) + [
                ("CC-Queue", "hotline@default"), ("CC-Action", "bridge-agent-fail"), ("CC-Hangup-Cause", "NO_ANSWER"),
                ("CC-Agent", "1002@default"), ("CC-Agent-Called-Time", "1005"), ("CC-Agent-Aborted-Time", "1020"),
                ("CC-Member-UUID", "m-1"), ("CC-Member-Session-UUID", caller),
            ]),
        ESLEvent(
            headers: base(4, 1_030_000_000) + [
                ("CC-Queue", "hotline@default"), ("CC-Action", "bridge-agent-start"), ("CC-Agent", "1001@default"),
                ("CC-Agent-UUID", agentLeg), ("CC-Agent-Called-Time", "1022"), ("CC-Agent-Answered-Time", "1030"),
                ("CC-Member-Joined-Time", "1000"), ("CC-Member-UUID", "m-1"), ("CC-Member-Session-UUID", caller),
            ]),
        ESLEvent(
            headers: base(5, 1_100_000_000) + [
                ("CC-Queue", "hotline@default"), ("CC-Action", "member-queue-end"), ("CC-Cause", "Terminated"),
                ("CC-Agent", "1001@default"), ("CC-Agent-Answered-Time", "1030"), ("CC-Member-Joined-Time", "1000"),
                ("CC-Member-Leaving-Time", "1100"), ("CC-Hangup-Cause", "NORMAL_CLEARING"), ("CC-Member-UUID", "m-1"),
                ("CC-Member-Session-UUID", caller),
            ]),
        ESLEvent(
            headers: base(6, 1_100_100_000, name: "CHANNEL_HANGUP_COMPLETE") + [
                ("Unique-ID", caller), ("Call-Direction", "inbound"), ("Hangup-Cause", "NORMAL_CLEARING"),
                ("Caller-Caller-ID-Name", "Zhang Wei"), ("Caller-Caller-ID-Number", "+8613800138000"),
                ("Caller-Destination-Number", "4008001234"), ("Caller-Unique-ID", caller), ("Caller-Context", "public"),
                ("Caller-Channel-Name", "sofia/external/+8613800138000@gw.example"),
                ("Caller-Channel-Created-Time", "990000000"), ("Caller-Channel-Answered-Time", "991000000"),
                ("Caller-Channel-Hangup-Time", "1100000000"),
                ("variable_uuid", caller), ("variable_direction", "inbound"),
                ("variable_channel_name", "sofia/external/+8613800138000@gw.example"),
                ("variable_start_epoch", "990"), ("variable_answer_epoch", "991"), ("variable_bridge_epoch", "1030"),
                ("variable_end_epoch", "1100"), ("variable_billsec", "109"),
                ("variable_hangup_cause", "NORMAL_CLEARING"),
                ("variable_cc_queue", "hotline@default"), ("variable_cc_agent", "1001@default"),
                ("variable_cc_queue_answered_epoch", "1030"), ("variable_last_app", "callcenter"),
                ("variable_last_arg", "hotline@default"),
            ]),
        ESLEvent(
            headers: base(7, 1_100_200_000, name: "CHANNEL_HANGUP_COMPLETE") + [
                ("Unique-ID", agentLeg), ("Call-Direction", "outbound"), ("Hangup-Cause", "NORMAL_CLEARING"),
                ("Caller-Caller-ID-Name", "Zhang Wei"), ("Caller-Caller-ID-Number", "+8613800138000"),
                ("Caller-Destination-Number", "1001"), ("Caller-Unique-ID", agentLeg), ("Caller-Context", "default"),
                ("Caller-Channel-Name", "sofia/internal/1001@pbx.example"),
                ("Other-Type", "originator"), ("Other-Leg-Unique-ID", caller),
                ("Other-Leg-Caller-ID-Number", "+8613800138000"), ("Other-Leg-Caller-ID-Name", "Zhang Wei"),
                ("Other-Leg-Destination-Number", "4008001234"), ("Other-Leg-Context", "public"),
                ("Other-Leg-Channel-Name", "sofia/external/+8613800138000@gw.example"),
                ("variable_uuid", agentLeg), ("variable_direction", "outbound"),
                ("variable_start_epoch", "1022"), ("variable_answer_epoch", "1030"), ("variable_end_epoch", "1100"),
                ("variable_billsec", "70"), ("variable_hangup_cause", "NORMAL_CLEARING"),
                ("variable_cc_side", "agent"), ("variable_cc_member_session_uuid", caller),
            ]),
    ]
}

/// A record without where it was read (to compare encodings of the same events).
private func located(_ records: [IngestRecord]) -> [IngestRecord] {
    let nowhere = SourcePosition(source: "", line: 0, offset: 0)
    return records.map { record in
        switch record {
        case .record(.leg(var leg)):
            leg.position = nowhere
            return .record(.leg(leg))
        case .record(.queue(var entry)):
            entry.position = nowhere
            return .record(.queue(entry))
        case .ignored:
            return .ignored(nowhere)
        default:
            return record
        }
    }
}

/// Where a record, reject or ignored event was read.
private func position(_ record: IngestRecord) -> SourcePosition {
    switch record {
    case .record(let record): record.position
    case .reject(let reject): reject.position
    case .ignored(let position): position
    case .presence(let member): member.position
    }
}

private func rejects(_ records: [IngestRecord]) -> [Reject] {
    records.compactMap { if case .reject(let reject) = $0 { reject } else { nil } }
}

private func queueEvents(_ records: [IngestRecord]) -> [QueueRecord] {
    records.compactMap { if case .record(.queue(let entry)) = $0 { entry } else { nil } }
}

private func legs(_ records: [IngestRecord]) -> [LegRecord] {
    records.compactMap { if case .record(.leg(let leg)) = $0 { leg } else { nil } }
}

@Suite("FreeSWITCHEventDecoder: event-socket captures and events")
struct FreeSWITCHEventDecoderTests {
    /// Frames per capture, counted by hand (`grep -c '^Content-Type'`): every frame is read,
    /// none is a call record (the captures hold IVR and bridge events, no hang-up complete).
    static let corpusFrames = [
        "neventsocket_Example1.txt": 27, "neventsocket_Example3.txt": 22, "neventsocket_Example4.txt": 59,
        "neventsocket_Example6.txt": 114,
    ]

    @Test("each wire capture of the corpus reads frame by frame, with no reject", arguments: corpusFrames.keys.sorted())
    func corpusCapture(_ name: String) throws {
        let path = TestFiles.corpus("freeswitch-esl-plain/\(name)")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let records = decoder.decode(bytes, position: SourcePosition(source: path, line: 1, offset: 0))
        #expect(rejects(records).isEmpty)
        #expect(records.count == Self.corpusFrames[name])
        #expect(records.allSatisfy { if case .ignored = $0 { true } else { false } })
        // Positions follow the stream: strictly increasing offsets, lines from 1.
        let offsets = records.map { position($0).offset }
        #expect(offsets == offsets.sorted() && Set(offsets).count == offsets.count)
        #expect(records.first.map { position($0).line } == 1)
    }

    @Test("plain frames, XML frames, bare plain and bare XML events give equal records")
    func encodingsAgree() {
        let events = CallcenterStory.events
        let plainFramed = decode(events.map { $0.framed(xml: false) }.joined())
        let xmlFramed = decode(events.map { $0.framed(xml: true) }.joined())
        let bareXML = decode(events.map { "<?xml version=\"1.0\"?>\n" + $0.xml + "\n" }.joined())
        let barePlain = decode(events.map(\.plain).joined())
        #expect(rejects(plainFramed).isEmpty)
        #expect(plainFramed.count == events.count)
        #expect(located(plainFramed) == located(xmlFramed))
        #expect(located(plainFramed) == located(bareXML))
        #expect(located(plainFramed) == located(barePlain))
        // Positions point at each event: the third frame starts on the line after two frames.
        let lines = plainFramed.map { position($0).line }
        #expect(lines == lines.sorted() && lines[0] == 1 && lines[1] > 1)
    }

    @Test(
        "mod_callcenter's agent-status-change is read for routing (presence): logged out, on break, available",
        arguments: [
            ("Logged Out", "AGENT-STATUS:LOGGED OUT"), ("On Break", "AGENT-STATUS:ON BREAK"),
            ("Available", "AGENT-STATUS:AVAILABLE"), ("Available (On Demand)", "AGENT-STATUS:AVAILABLE (ON DEMAND)"),
        ])
    func agentStatus(status: String, name: String) throws {
        let event = ESLEvent(
            headers: CallcenterStory.base(7, 1_200_000_000) + [
                ("CC-Action", "agent-status-change"), ("CC-Agent", "1002@default"), ("CC-Agent-Status", status),
            ])
        for encoded in [event.framed(xml: false), event.framed(xml: true)] {
            let records = decode(encoded)
            guard records.count == 1, case .presence(let member) = records[0] else {
                Issue.record("\(status): \(records)")
                continue
            }
            #expect(member.agent == "1002@default")
            #expect(member.event == .other(name: name))
            #expect(member.time == Timestamp(seconds: 1200))
        }
        // An agent-state-change (Waiting, In a queue call…) says nothing routing reads.
        let state = ESLEvent(
            headers: CallcenterStory.base(8, 1_200_000_000) + [
                ("CC-Action", "agent-state-change"), ("CC-Agent", "1002@default"), ("CC-Agent-State", "Waiting"),
            ])
        #expect(decode(state.framed(xml: false)).allSatisfy { if case .ignored = $0 { true } else { false } })
    }

    @Test(
        "join → agent fail → agent answers → end gives entered, ring-no-answer, connected (first responder), completed")
    func callcenterSequence() throws {
        let queue = queueEvents(decode(CallcenterStory.events.map { $0.framed(xml: false) }.joined()))
        let caller = CallKey(CallcenterStory.caller)
        #expect(queue.map(\.call) == Array(repeating: caller, count: 4))
        #expect(queue.map(\.queue) == Array(repeating: "hotline@default", count: 4))
        #expect(
            queue.map(\.event) == [
                .entered(callerNumber: "+8613800138000"), .ringNoAnswer,
                .connected(holdSeconds: 30, memberUniqueID: CallcenterStory.agentLeg), .completed,
            ])
        #expect(queue.map(\.agent) == ["", "1002@default", "1001@default", "1001@default"])
        #expect(queue.map(\.time.seconds) == [1000, 1020, 1030, 1100])
        #expect(queue.map(\.key.rawValue) == [1, 3, 4, 5].map { "fsev:\(CallcenterStory.core):\($0)" })
    }

    @Test("CHANNEL_HANGUP_COMPLETE gives the legs mod_xml_cdr documents of the same channels give")
    func hangupComplete() throws {
        let found = legs(decode(CallcenterStory.events.map { $0.framed(xml: true) }.joined()))
        try #require(found.count == 2)
        let aLeg = found[0]
        #expect(aLeg.key == EventKey(rawValue: "fsleg:\(CallcenterStory.caller)"))
        #expect(aLeg.call == CallKey(CallcenterStory.caller))
        #expect(aLeg.source == "+8613800138000")
        #expect(aLeg.callerName == "Zhang Wei")
        #expect(aLeg.destination == "4008001234")
        #expect(aLeg.channel == "sofia/external/+8613800138000@gw.example")
        #expect(aLeg.peerChannel == "user/1001@default")
        #expect(aLeg.application == "callcenter")
        #expect(aLeg.applicationData == "hotline@default")
        #expect(aLeg.start.seconds == 990)
        #expect(aLeg.answer?.seconds == 1030)  // connected to the agent, not the IVR's answer
        #expect(aLeg.end.seconds == 1100)
        #expect(aLeg.disposition == .answered)
        // The agent leg names the caller's leg as its call: both assemble into one call.
        let bLeg = found[1]
        #expect(bLeg.key == EventKey(rawValue: "fsleg:\(CallcenterStory.agentLeg)"))
        #expect(bLeg.call == CallKey(CallcenterStory.caller))
        #expect(bLeg.channel == "sofia/external/+8613800138000@gw.example")
        #expect(bLeg.peerChannel == "sofia/internal/1001@pbx.example")
        #expect(bLeg.disposition == .answered)
        #expect(bLeg.answer?.seconds == 1030)
    }

    @Test("member-queue-end with CC-Cause Cancel: NONE is an abandon with the member's wait, TIMEOUT an exit")
    func abandon() {
        func end(_ reason: String) -> ESLEvent {
            ESLEvent(
                headers: CallcenterStory.base(9, 1_045_000_000) + [
                    ("CC-Queue", "hotline@default"), ("CC-Action", "member-queue-end"), ("CC-Cause", "Cancel"),
                    ("CC-Cancel-Reason", reason), ("CC-Member-Joined-Time", "1000"), ("CC-Member-Leaving-Time", "1045"),
                    ("CC-Member-Session-UUID", CallcenterStory.caller),
                ])
        }
        let abandoned = queueEvents(decode(end("NONE").framed(xml: false)))
        #expect(abandoned.map(\.event) == [.abandoned(waitSeconds: 45)])
        #expect(abandoned.first?.time.seconds == 1045)
        let timedOut = queueEvents(decode(end("TIMEOUT").framed(xml: true)))
        #expect(timedOut.map(\.event) == [.exited(reason: "TIMEOUT", waitSeconds: 45)])
    }

    @Test("other events and frames (channel events, DTMF, heartbeat, replies) are read and ignored, never rejected")
    func othersIgnored() {
        let text =
            ESLEvent(headers: CallcenterStory.base(10, 1, name: "DTMF") + [("DTMF-Digit", "#")]).framed(xml: false)
            + ESLEvent(headers: CallcenterStory.base(11, 1, name: "HEARTBEAT") + [("Up-Time", "0 years")]).framed(
                xml: true)
            + "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
            + "Content-Type: api/response\nContent-Length: 3\n\n+OK"
            + "Content-Type: text/disconnect-notice\nContent-Length: 9\n\nbye bye!\n"
        let records = decode(text)
        #expect(records.count == 5)
        #expect(records.allSatisfy { if case .ignored = $0 { true } else { false } })
    }

    @Test("broken framing, a bad %-escape, a header line without ':' each reject one frame; the next frames still read")
    func malformedFraming() throws {
        let good = CallcenterStory.events[0].framed(xml: false)
        let badEscape = CallcenterStory.events[0].framed(xml: false).replacingOccurrences(
            of: "CC-Member-CID-Name: Zhang%20Wei", with: "CC-Member-CID-Name: Zhang%2GWei")
        let noColon = "Content-Type: command/reply\nthis is not a header\n\n"
        let records = decode(badEscape + noColon + good)
        let found = rejects(records)
        try #require(found.count == 2)
        #expect(found[0].reason.contains("CC-Member-CID-Name: undecodable %-escape"))
        #expect(found[0].position.line == 1)
        #expect(found[1].reason.contains("header line 2 \"this is not a header\" is not `Name: value`"))
        #expect(found[1].position.offset == Int64(badEscape.utf8.count))
        #expect(queueEvents(records).count == 1)

        // A Content-Length past the end: the rest of the input is the reject, nothing is lost.
        let truncated = good + "Content-Length: 5000\nContent-Type: text/event-plain\n\nEvent-Name: CUSTOM\n"
        let cut = decode(truncated)
        #expect(queueEvents(cut).count == 1)
        let past = try #require(rejects(cut).first)
        #expect(past.reason.contains("Content-Length 5000 runs past the end of the input"))
        #expect(past.position.offset == Int64(good.utf8.count))
        #expect(past.raw == Array("Content-Length: 5000\nContent-Type: text/event-plain\n\nEvent-Name: CUSTOM\n".utf8))
        // An inner Content-Length past its frame, and an event without Event-Name.
        let inner = "Event-Name: CHANNEL_EXECUTE\nContent-Length: 99\n\nshort"
        let frame = "Content-Length: \(inner.utf8.count)\nContent-Type: text/event-plain\n\n\(inner)"
        let nameless = "Content-Length: 13\nContent-Type: text/event-plain\n\nUnique-ID: x\n"
        let both = rejects(decode(frame + nameless + good))
        #expect(
            both.map(\.reason) == [
                "FreeSWITCH event refused: event Content-Length 99 runs past the end of its frame (only 5 bytes follow)",
                "FreeSWITCH event refused: an event without an Event-Name header",
            ])
    }

    @Test(
        "hostile XML events (entities, DOCTYPE, truncation, wrong root) are refused by the XML reader; the rest reads")
    func hostileXML() throws {
        let laughs = """
            <?xml version="1.0"?>
            <!DOCTYPE event [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
            <event><headers><Event-Name>&lol2;</Event-Name></headers></event>
            """
        let external =
            "<event><headers><Event-Name>CUSTOM</Event-Name>"
            + "<!DOCTYPE x SYSTEM \"file:///etc/passwd\"></headers></event>"
        let wrongRoot = "Content-Length: 15\nContent-Type: text/event-xml\n\n<cdr><a/></cdr>"
        let good = CallcenterStory.events[0].xml
        let framedLaughs = "Content-Length: \(laughs.utf8.count)\nContent-Type: text/event-xml\n\n\(laughs)"
        let records = decode(
            laughs + "\n" + external + "\n" + wrongRoot + "\n" + framedLaughs + good + "\n<event><headers>")
        let found = rejects(records)
        try #require(found.count == 5)
        #expect(found[0].reason.hasPrefix("FreeSWITCH event refused: XML event refused (doctype)"))
        #expect(found[1].reason.hasPrefix("FreeSWITCH event refused: XML event refused ("))
        #expect(
            found[2].reason
                == "FreeSWITCH event refused: XML event refused: the root element is <cdr>, an event is <event>")
        #expect(found[3].reason.hasPrefix("FreeSWITCH event refused: XML event refused (doctype)"))
        #expect(
            found[4].reason
                == "FreeSWITCH event refused: XML event refused (truncated): no </event> before the end of the input")
        #expect(queueEvents(records).map(\.event) == [.entered(callerNumber: "+8613800138000")])
    }

    @Test("a stream cut anywhere decodes, piece by piece, to the same records at the same positions as whole")
    func pieces() throws {
        let events = CallcenterStory.events
        let text =
            events.map { $0.framed(xml: false) }.joined() + events.map { $0.xml + "\n" }.joined()
            + events.map { $0.framed(xml: true) }.joined() + "Content-Type: command/reply\nReply-Text: +OK\n\n"
            + events.map(\.plain).joined()
        let bytes = Array(text.utf8)
        let start = SourcePosition(source: "events", line: 1, offset: 0)
        let whole = decoder.decode(bytes, position: start)
        #expect(rejects(whole).isEmpty)
        #expect(whole.count == events.count * 4 + 1)
        for cut in stride(from: 1, to: bytes.count, by: 97) {
            let first = decoder.decode(Array(bytes[..<cut]), position: start, final: false)
            #expect(rejects(first.records).isEmpty, "cut at \(cut)")
            let lines = bytes[..<first.consumed].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            let rest = decoder.decode(
                Array(bytes[first.consumed...]),
                position: SourcePosition(source: "events", line: 1 + lines, offset: Int64(first.consumed)), final: true)
            #expect(first.records + rest.records == whole, "cut at \(cut)")
        }
    }

    @Test("the detector recognises framed plain, framed XML and bare XML event streams")
    func detected() {
        let events = CallcenterStory.events
        for text in [events[0].framed(xml: false), events[0].framed(xml: true), events[0].xml, events[0].plain] {
            #expect(InputFormatDetector.detect(path: "events.log", head: Array(text.utf8)) == .freeswitchEvents)
        }
    }
}
