import FirstContactCore

/// Writes simulated calls the way a FreeSWITCH hotline does: one mod_xml_cdr document per leg
/// (`<uuid>.cdr.xml`, variables URL-encoded, `*_epoch`/`*_uepoch`/`*_stamp` times, callflow with
/// caller profile and originator/originatee profiles) and the `callcenter::info` events of
/// queue calls as `event xml` documents (FORMATS §4, §5).
///
/// How the stories map (the same stories as ``AsteriskWriter``, so the same outcome):
/// * queue calls: the caller's inbound A-leg runs `callcenter <queue>@default` (answered by the
///   IVR a second after it arrived; `cc_agent`, `cc_queue_answered_epoch` and the bridge once an
///   agent answers; `cc_cause=cancel` when the last queue stay ended unanswered); every agent
///   rung is an agent leg mod_callcenter originated (`cc_side=agent`,
///   `cc_member_session_uuid` = the A-leg), ringing (NO_ANSWER) or answered and bridged; a
///   transfer is a blind transfer of the A-leg (`transfer_history`, a second callflow) into the
///   other queue;
/// * IVR hang-ups: an answered A-leg that never left `play_and_get_digits`;
/// * direct dials, outbound and internal calls: an A-leg that `bridge`s, and the B-leg it
///   originated (`originator`, `<originator_caller_profile>`; the A-leg lists it as originatee).
struct FreeSWITCHWriter {
    let directory: Directory
    /// The FreeSWITCH host's zone (the local `*_stamp` variables).
    let zone: ZoneRules
    let coreUUID: String
    private var sequence = 0

    /// One leg's document: the file name and its bytes.
    struct Document {
        var name: String
        var xml: String
    }

    init(directory: Directory, zone: ZoneRules, seed: UInt64) {
        self.directory = directory
        self.zone = zone
        self.coreUUID = Self.uuid("core-\(seed)")
    }

    static let gateway = "203.0.113.5"
    static let domain = "default"

    /// The documents and events of one call.
    mutating func records(of call: SimCall) -> (documents: [Document], events: [String]) {
        var legs: [Leg] = []
        var events: [String] = []
        let aLeg = Self.uuid("\(call.key)/a")
        var counter = 0
        func nextUUID() -> String {
            counter += 1
            return Self.uuid("\(call.key)/\(counter)")
        }
        let hotline = self.directory.configuration.hotlineNumbers.first ?? "hotline"
        let callerChannel = "sofia/external/\(call.customerRaw)@\(Self.gateway)"
        func agentChannel(_ agent: AgentID) -> String { "sofia/internal/\(agent.rawValue)@10.20.0.\(Self.host(agent))" }
        func agentExtension(_ agent: AgentID) -> String {
            self.directory.agent(agent)?.extensions.first ?? agent.rawValue
        }
        func agentName(_ agent: AgentID) -> String { self.directory.agent(agent)?.name ?? agent.rawValue }
        let caller = Profile(
            uuid: aLeg, channel: callerChannel, number: call.customerRaw, name: call.callerName, destination: hotline,
            context: "public")

        switch call.shape {
        case .queue:
            guard let queue = call.queue, let entered = call.enteredAt else { break }
            var a = Leg(uuid: aLeg, direction: "inbound", profile: caller, start: call.start, end: call.end)
            a.answer = call.start + 1
            a.cause = "NORMAL_CLEARING"
            a.app = ("callcenter", "\(queue)@\(Self.domain)")
            let member = Self.uuid("\(call.key)/member")
            a.variables += [("cc_member_uuid", member), ("cc_member_pre_answer_uuid", member)]

            // One stay in a queue: its agent legs and events; returns the answering agent's leg.
            func stay(
                _ queue: String, entered: Timestamp, rung: [SimRing], answer: SimAnswer?, leaves: Timestamp
            ) -> (agentLeg: String, answer: SimAnswer)? {
                let ccQueue = "\(queue)@\(Self.domain)"
                events.append(
                    self.callcenterEvent(
                        at: entered, member: aLeg, caller: call, queue: ccQueue, action: "member-queue-start",
                        [
                            ("CC-Member-UUID", member), ("CC-Member-CID-Name", call.callerName),
                            ("CC-Member-CID-Number", call.customerRaw),
                        ]))
                events.append(
                    self.callcenterEvent(
                        at: entered, member: aLeg, caller: call, queue: ccQueue, action: "members-count",
                        [("CC-Count", "1"), ("CC-Selection", "Single-Queue")]))
                func agentLeg(_ agent: AgentID, from: Timestamp, answer: Timestamp?, until: Timestamp) -> String {
                    let uuid = nextUUID()
                    let own = Profile(
                        uuid: uuid, channel: agentChannel(agent), number: call.customerRaw, name: call.callerName,
                        destination: agentExtension(agent), context: Self.domain)
                    var leg = Leg(uuid: uuid, direction: "outbound", profile: own, start: from, end: until)
                    leg.answer = answer
                    leg.bridge = answer
                    leg.cause = answer == nil ? "NO_ANSWER" : "NORMAL_CLEARING"
                    leg.variables += [
                        ("cc_side", "agent"), ("cc_queue", ccQueue), ("cc_agent", "\(agent.rawValue)@\(Self.domain)"),
                        ("cc_agent_type", "callback"), ("cc_member_uuid", member), ("cc_member_session_uuid", aLeg),
                        ("origination_caller_id_number", call.customerRaw),
                    ]
                    if answer != nil {
                        leg.variables += [
                            ("bridge_channel", callerChannel), ("last_bridge_to", aLeg), ("bridge_uuid", aLeg),
                        ]
                    }
                    legs.append(leg)
                    return uuid
                }
                for ring in rung {
                    let uuid = agentLeg(ring.agent, from: ring.from, answer: nil, until: ring.to)
                    events.append(
                        self.callcenterEvent(
                            at: ring.from, member: aLeg, caller: call, queue: ccQueue, action: "agent-offering",
                            [("CC-Agent", "\(ring.agent.rawValue)@\(Self.domain)"), ("CC-Member-UUID", member)]))
                    events.append(
                        self.callcenterEvent(
                            at: ring.to, member: aLeg, caller: call, queue: ccQueue, action: "bridge-agent-fail",
                            [
                                ("CC-Hangup-Cause", "NO_ANSWER"), ("CC-Agent", "\(ring.agent.rawValue)@\(Self.domain)"),
                                ("CC-Agent-UUID", uuid), ("CC-Agent-Called-Time", "\(ring.from.seconds)"),
                                ("CC-Agent-Aborted-Time", "\(ring.to.seconds)"), ("CC-Member-UUID", member),
                            ]))
                }
                guard let answer else {
                    events.append(
                        self.callcenterEvent(
                            at: leaves, member: aLeg, caller: call, queue: ccQueue, action: "member-queue-end",
                            [
                                ("CC-Cause", "Cancel"), ("CC-Cancel-Reason", "NONE"),
                                ("CC-Member-Joined-Time", "\(entered.seconds)"),
                                ("CC-Member-Leaving-Time", "\(leaves.seconds)"),
                                ("CC-Member-UUID", member),
                            ]))
                    return nil
                }
                let agentName = "\(answer.agent.rawValue)@\(Self.domain)"
                let uuid = agentLeg(answer.agent, from: answer.ringFrom, answer: answer.at, until: answer.until)
                events.append(
                    self.callcenterEvent(
                        at: answer.ringFrom, member: aLeg, caller: call, queue: ccQueue, action: "agent-offering",
                        [("CC-Agent", agentName), ("CC-Member-UUID", member)]))
                let agentTimes = [
                    ("CC-Agent", agentName), ("CC-Agent-System", "single_box"), ("CC-Agent-UUID", uuid),
                    ("CC-Agent-Called-Time", "\(answer.ringFrom.seconds)"),
                    ("CC-Agent-Answered-Time", "\(answer.at.seconds)"),
                    ("CC-Member-Joined-Time", "\(entered.seconds)"), ("CC-Member-UUID", member),
                ]
                events.append(
                    self.callcenterEvent(
                        at: answer.at, member: aLeg, caller: call, queue: ccQueue, action: "bridge-agent-start",
                        agentTimes + [("CC-Member-DNIS", hotline)]))
                events.append(
                    self.callcenterEvent(
                        at: answer.until, member: aLeg, caller: call, queue: ccQueue, action: "bridge-agent-end",
                        agentTimes + [
                            ("CC-Hangup-Cause", "NORMAL_CLEARING"), ("CC-Agent-Bridged", "true"),
                            ("CC-Bridge-Terminated-Time", "\(answer.until.seconds)"),
                        ]))
                events.append(
                    self.callcenterEvent(
                        at: answer.until, member: aLeg, caller: call, queue: ccQueue, action: "member-queue-end",
                        agentTimes + [
                            ("CC-Cause", "Terminated"), ("CC-Member-Leaving-Time", "\(answer.until.seconds)"),
                            ("CC-Hangup-Cause", "NORMAL_CLEARING"),
                        ]))
                return (uuid, answer)
            }

            var lastQueue = queue
            var lastEntered = entered
            var bridged = stay(
                queue, entered: entered, rung: call.rung, answer: call.answer,
                leaves: call.transfer == nil ? call.end : (call.answer?.until ?? call.end))
            var cancelled = bridged == nil
            if let transfer = call.transfer, let first = bridged {
                // The agent blind-transfers the caller to the other queue: a second callflow.
                a.variables.append(
                    (
                        "transfer_history",
                        "\(transfer.at.seconds):\(first.agentLeg):bl_xfer:\(transfer.queue)/\(Self.domain)/XML"
                    ))
                a.newerProfiles.append(
                    Profile(
                        uuid: aLeg, channel: callerChannel, number: call.customerRaw, name: call.callerName,
                        destination: transfer.queue, context: Self.domain))
                lastQueue = transfer.queue
                lastEntered = transfer.enteredAt
                let second = stay(
                    transfer.queue, entered: transfer.enteredAt, rung: transfer.rung, answer: transfer.answer,
                    leaves: call.end)
                cancelled = second == nil
                bridged = second ?? first
            }
            a.app = ("callcenter", "\(lastQueue)@\(Self.domain)")
            a.variables += [
                ("cc_queue", "\(lastQueue)@\(Self.domain)"), ("cc_queue_joined_epoch", "\(lastEntered.seconds)"),
            ]
            if let (agentLeg, answer) = bridged {
                a.bridge = answer.at
                a.variables += [
                    ("cc_agent", "\(answer.agent.rawValue)@\(Self.domain)"),
                    ("cc_queue_answered_epoch", "\(answer.at.seconds)"),
                    ("bridge_channel", agentChannel(answer.agent)), ("last_bridge_to", agentLeg),
                    ("bridge_uuid", agentLeg),
                ]
            }
            if cancelled {
                a.variables += [
                    ("cc_cause", "cancel"), ("cc_cancel_reason", "NONE"),
                    ("cc_queue_canceled_epoch", "\(call.end.seconds)"),
                ]
            } else {
                a.variables += [("cc_cause", "terminated"), ("cc_queue_terminated_epoch", "\(call.end.seconds)")]
            }
            legs.insert(a, at: 0)
        case .ivrHangup:
            var a = Leg(uuid: aLeg, direction: "inbound", profile: caller, start: call.start, end: call.end)
            a.answer = call.start
            a.cause = "NORMAL_CLEARING"
            a.app = ("play_and_get_digits", "1 1 3 7000 # ivr/welcome-menu.wav ivr/invalid.wav menu_choice \\d 3000")
            a.variables += [("read_result", "timeout"), ("menu_choice", "")]
            legs.append(a)
        case .directNoAnswer:
            guard let agent = call.agent else { break }
            var profile = caller
            profile.destination = call.target
            let b = nextUUID()
            let bProfile = Profile(
                uuid: b, channel: agentChannel(agent), number: call.customerRaw, name: call.callerName,
                destination: call.target, context: Self.domain)
            var a = Leg(uuid: aLeg, direction: "inbound", profile: profile, start: call.start, end: call.end)
            a.cause = "ORIGINATOR_CANCEL"
            a.app = ("bridge", "user/\(call.target)@\(Self.domain)")
            a.originatees = [bProfile]
            a.variables += [
                ("originate_disposition", "NO_ANSWER"), ("originated_legs", "\(b);Outbound Call;\(call.target)"),
            ]
            var leg = Leg(uuid: b, direction: "outbound", profile: bProfile, start: call.start, end: call.end)
            leg.cause = "ORIGINATOR_CANCEL"
            leg.originator = profile
            leg.variables += [("originator", aLeg), ("originating_leg_uuid", aLeg)]
            legs += [a, leg]
        case .outbound, .internal:
            guard let agent = call.agent else { break }
            let answer = call.answer
            let b = nextUUID()
            let agentProfile = Profile(
                uuid: aLeg, channel: agentChannel(agent), number: agentExtension(agent), name: agentName(agent),
                destination: call.target, context: Self.domain)
            let calleeChannel: String
            if call.shape == .internal, let callee = answer?.agent {
                calleeChannel = agentChannel(callee)
            } else {
                calleeChannel = "sofia/external/\(call.target)@\(Self.gateway)"
            }
            let bProfile = Profile(
                uuid: b, channel: calleeChannel, number: agentExtension(agent), name: agentName(agent),
                destination: call.target, context: Self.domain)
            var a = Leg(uuid: aLeg, direction: "inbound", profile: agentProfile, start: call.start, end: call.end)
            a.answer = answer?.at
            a.bridge = answer?.at
            a.cause = "NORMAL_CLEARING"
            a.app =
                call.shape == .internal
                ? ("bridge", "user/\(call.target)@\(Self.domain)") : ("bridge", "sofia/gateway/trunk/\(call.target)")
            a.originatees = [bProfile]
            a.variables += [("originate_disposition", answer == nil ? "NO_ANSWER" : "SUCCESS")]
            if answer != nil {
                a.variables += [("bridge_channel", calleeChannel), ("last_bridge_to", b), ("bridge_uuid", b)]
            }
            var leg = Leg(uuid: b, direction: "outbound", profile: bProfile, start: call.start, end: call.end)
            leg.answer = answer?.at
            leg.bridge = answer?.at
            leg.cause = answer == nil ? "NO_ANSWER" : "NORMAL_CLEARING"
            leg.originator = agentProfile
            leg.variables += [("originator", aLeg), ("originating_leg_uuid", aLeg)]
            if answer != nil {
                leg.variables += [
                    ("bridge_channel", agentProfile.channel), ("last_bridge_to", aLeg), ("bridge_uuid", aLeg),
                ]
            }
            legs += [a, leg]
        }
        return (legs.map { Document(name: "\($0.uuid).cdr.xml", xml: self.document($0)) }, events)
    }

    // MARK: - Legs

    struct Profile {
        var uuid: String
        var channel: String
        var number: String
        var name: String
        var destination: String
        var context: String
    }

    struct Leg {
        var uuid: String
        var direction: String
        /// The first caller profile (oldest callflow).
        var profile: Profile
        /// Profiles added later (transfers), oldest first.
        var newerProfiles: [Profile] = []
        var start: Timestamp
        var answer: Timestamp?
        var bridge: Timestamp?
        var end: Timestamp
        var cause = "NORMAL_CLEARING"
        var app: (name: String, data: String) = ("", "")
        var originator: Profile?
        var originatees: [Profile] = []
        /// Further channel variables, not yet encoded.
        var variables: [(String, String)] = []

        init(uuid: String, direction: String, profile: Profile, start: Timestamp, end: Timestamp) {
            self.uuid = uuid
            self.direction = direction
            self.profile = profile
            self.start = start
            self.end = end
        }
    }

    private func document(_ leg: Leg) -> String {
        let channelName = leg.profile.channel
        var variables: [(String, String)] = [
            ("direction", leg.direction), ("is_outbound", leg.direction == "outbound" ? "true" : "false"),
            ("uuid", leg.uuid), ("session_id", String(Self.host(leg.uuid) * 37)),
            ("sip_profile_name", channelName.hasPrefix("sofia/external") ? "external" : "internal"),
            ("channel_name", channelName), ("caller_id_number", leg.profile.number),
            ("caller_id_name", leg.profile.name),
            ("destination_number", leg.profile.destination), ("context", leg.profile.context),
        ]
        if !leg.app.name.isEmpty {
            variables += [
                ("current_application", leg.app.name), ("current_application_data", leg.app.data),
                ("last_app", leg.app.name), ("last_arg", leg.app.data),
            ]
        }
        variables += leg.variables
        func moment(_ name: String, _ time: Timestamp?) {
            let stamp = time.map { self.zone.local($0).asteriskText } ?? ""
            variables += [
                ("\(name)_stamp", stamp), ("\(name)_epoch", "\(time?.seconds ?? 0)"),
                ("\(name)_uepoch", time.map { "\($0.seconds)\(Self.micros(leg.uuid, name))" } ?? "0"),
            ]
        }
        moment("start", leg.start)
        moment("profile_start", leg.start)
        moment("answer", leg.answer)
        moment("bridge", leg.bridge)
        moment("end", leg.end)
        let billsec = leg.answer.map { max(0, leg.end - $0) } ?? 0
        variables += [
            ("duration", "\(leg.end - leg.start)"), ("billsec", "\(billsec)"),
            ("waitsec", "\(leg.answer.map { $0 - leg.start } ?? 0)"),
            ("hangup_cause", leg.cause), ("hangup_cause_q850", Self.q850(leg.cause)),
            ("sip_hangup_disposition", leg.direction == "inbound" ? "recv_bye" : "send_bye"),
            ("digits_dialed", "none"),
        ]
        var xml = "<?xml version=\"1.0\"?>\n<cdr core-uuid=\"\(self.coreUUID)\" switchname=\"fs-hotline-01\">\n"
        xml += "  <channel_data>\n    <state>CS_REPORTING</state>\n    <direction>\(leg.direction)</direction>\n"
        xml +=
            "    <state_number>11</state_number>\n    <flags>0=1;1=1;3=1;37=1;38=1;40=1;43=1;48=1;53=1;105=1;111=1;112=1</flags>\n"
        xml += "    <caps>1=1;2=1;3=1;4=1;5=1;6=1</caps>\n  </channel_data>\n  <variables>\n"
        for (name, value) in variables {
            xml += "    <\(name)>\(Self.urlEncode(value))</\(name)>\n"
        }
        xml += "  </variables>\n"
        if !leg.app.name.isEmpty {
            xml +=
                "  <app_log>\n    <application app_name=\"\(Self.escape(leg.app.name))\" app_data=\"\(Self.escape(leg.app.data))\" app_stamp=\"\(leg.start.seconds)\(Self.micros(leg.uuid, "app"))\"></application>\n  </app_log>\n"
        }
        // Callflows newest first; the profile index counts up from the oldest.
        let profiles = [leg.profile] + leg.newerProfiles
        for (index, profile) in profiles.enumerated().reversed() {
            let newest = index == profiles.count - 1
            xml +=
                "  <callflow dialplan=\"XML\" unique-id=\"\(Self.uuid("\(leg.uuid)/cf\(index)"))\" profile_index=\"\(index + 1)\">\n"
            xml +=
                "    <extension name=\"\(Self.escape(profile.destination))\" number=\"\(Self.escape(profile.destination))\">\n"
            if newest, !leg.app.name.isEmpty {
                xml +=
                    "      <application app_name=\"\(Self.escape(leg.app.name))\" app_data=\"\(Self.escape(leg.app.data))\"></application>\n"
            }
            xml += "    </extension>\n    <caller_profile>\n"
            xml += self.profileFields(profile, indent: "      ")
            if newest, let originator = leg.originator {
                xml += "      <originator>\n        <originator_caller_profile>\n"
                xml += self.profileFields(originator, indent: "          ")
                xml += "        </originator_caller_profile>\n      </originator>\n"
            }
            if newest, !leg.originatees.isEmpty {
                xml += "      <originatee>\n"
                for originatee in leg.originatees {
                    xml += "        <originatee_caller_profile>\n"
                    xml += self.profileFields(originatee, indent: "          ")
                    xml += "        </originatee_caller_profile>\n"
                }
                xml += "      </originatee>\n"
            }
            xml += "    </caller_profile>\n    <times>\n"
            func micros(_ time: Timestamp?, _ name: String) -> String {
                time.map { "\($0.seconds)\(Self.micros(leg.uuid, name))" } ?? "0"
            }
            let times: [(String, String)] = [
                ("created_time", micros(leg.start, "start")), ("profile_created_time", micros(leg.start, "start")),
                ("progress_time", "0"), ("progress_media_time", "0"), ("answered_time", micros(leg.answer, "answer")),
                ("bridged_time", micros(leg.bridge, "bridge")), ("last_hold_time", "0"), ("hold_accum_time", "0"),
                ("hangup_time", micros(leg.end, "end")), ("resurrect_time", "0"), ("transfer_time", "0"),
            ]
            for (name, value) in times { xml += "      <\(name)>\(value)</\(name)>\n" }
            xml += "    </times>\n  </callflow>\n"
        }
        xml += "</cdr>\n"
        return xml
    }

    private func profileFields(_ profile: Profile, indent: String) -> String {
        let username = profile.channel.hasPrefix("sofia/internal/") ? profile.number : ""
        let fields: [(String, String)] = [
            ("username", username), ("dialplan", "XML"), ("caller_id_name", profile.name),
            ("caller_id_number", profile.number), ("callee_id_name", ""), ("callee_id_number", ""),
            ("ani", profile.number), ("aniii", ""),
            ("network_addr", profile.channel.hasPrefix("sofia/external") ? Self.gateway : "10.20.0.1"),
            ("rdnis", ""), ("destination_number", profile.destination), ("uuid", profile.uuid), ("source", "mod_sofia"),
            ("context", profile.context), ("chan_name", profile.channel),
        ]
        return fields.map { "\(indent)<\($0.0)>\(Self.escape($0.1))</\($0.0)>\n" }.joined()
    }

    // MARK: - Events

    /// One `CUSTOM callcenter::info` event about the member (caller) channel, as `event xml`.
    private mutating func callcenterEvent(
        at time: Timestamp, member: String, caller call: SimCall, queue: String, action: String,
        _ extra: [(String, String)]
    ) -> String {
        self.sequence += 1
        let headers: [(String, String)] =
            [
                ("Event-Name", "CUSTOM"), ("Core-UUID", self.coreUUID), ("FreeSWITCH-Hostname", "fs-hotline-01"),
                ("FreeSWITCH-Switchname", "fs-hotline-01"), ("FreeSWITCH-IPv4", "10.20.0.1"),
                ("Event-Date-Local", self.zone.local(time).asteriskText),
                ("Event-Date-Timestamp", "\(time.seconds)\(Self.micros(member, "\(self.sequence)"))"),
                ("Event-Calling-File", "mod_callcenter.c"), ("Event-Sequence", "\(self.sequence)"),
                ("Event-Subclass", "callcenter::info"), ("Unique-ID", member),
                ("Caller-Caller-ID-Number", call.customerRaw), ("Caller-Caller-ID-Name", call.callerName),
                ("CC-Queue", queue), ("CC-Action", action), ("CC-Member-Session-UUID", member),
            ] + extra
        var xml = "<event>\n  <headers>\n"
        for (name, value) in headers { xml += "    <\(name)>\(Self.urlEncode(value))</\(name)>\n" }
        xml += "  </headers>\n</event>\n"
        return xml
    }

    // MARK: - Encoding

    /// FreeSWITCH's `switch_url_encode`: everything but unreserved ASCII becomes `%XX`.
    static func urlEncode(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%"
                out.unicodeScalars.append(UnicodeScalar(Self.hexDigits[Int(byte >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(Self.hexDigits[Int(byte & 0xF)]))
            }
        }
        return out
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// XML text escaping for caller-profile fields and attributes (not URL-encoded).
    static func escape(_ text: String) -> String {
        guard text.contains(where: { $0 == "<" || $0 == ">" || $0 == "&" || $0 == "\"" }) else { return text }
        return text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A version-4-shaped UUID derived from `seed` (deterministic: the same story, the same uuid).
    static func uuid(_ seed: String) -> String {
        let high = StableHash.hex(StableHash.fnv1a64(Array("\(seed)#1".utf8)))
        let low = StableHash.hex(StableHash.fnv1a64(Array("\(seed)#2".utf8)))
        let hex = Array(high + low)
        func part(_ range: Range<Int>) -> String { String(hex[range]) }
        return "\(part(0..<8))-\(part(8..<12))-4\(part(13..<16))-a\(part(17..<20))-\(part(20..<32))"
    }

    /// Six digits of sub-second microseconds, stable per leg and moment.
    private static func micros(_ seed: String, _ moment: String) -> String {
        let value = StableHash.fnv1a64(Array("\(seed)@\(moment)".utf8)) % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: 6 - text.count) + text
    }

    /// A small host number for an agent's phone address.
    private static func host(_ agent: AgentID) -> Int { self.host(agent.rawValue) }
    private static func host(_ text: String) -> Int { Int(StableHash.fnv1a64(Array(text.utf8)) % 200) + 20 }

    private static func q850(_ cause: String) -> String {
        switch cause {
        case "NORMAL_CLEARING": "16"
        case "USER_BUSY": "17"
        case "NO_ANSWER": "19"
        case "ORIGINATOR_CANCEL": "487"
        default: "31"
        }
    }
}
