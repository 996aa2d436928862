import FirstContactCore

// MARK: - Channel content

/// A caller profile's fields (not URL-encoded), by mod_xml_cdr element name
/// (`caller_id_number`, `destination_number`, `uuid`, `context`, `chan_name`…).
typealias FreeSWITCHProfile = [String: String]

/// One caller profile of a channel and what hangs off it (mod_xml_cdr's `<callflow>`; an
/// event's `Caller-*` / `Other-Leg-*` headers).
struct FreeSWITCHCallflow: Sendable {
    var profile: FreeSWITCHProfile = [:]
    var originators: [FreeSWITCHProfile] = []
    var originatees: [FreeSWITCHProfile] = []
    var originations: [FreeSWITCHProfile] = []
    /// `created_time`, `answered_time`, `bridged_time`, `hangup_time`: µs, not encoded.
    var times: [String: String] = [:]
}

/// What FreeSWITCH says about one channel when it hangs up, whichever way it said it: a
/// mod_xml_cdr document or a `CHANNEL_HANGUP_COMPLETE` event. Both decoders fill one of these
/// and ``FreeSWITCHLegMapping`` turns it into a ``LegRecord``, so a leg reads the same from
/// either source.
struct FreeSWITCHChannel: Sendable {
    /// Channel variables, raw (still URL-encoded); the first of repeated (array) variables.
    var variables: [String: [UInt8]] = [:]
    /// `<channel_data><direction>` / the event's `Call-Direction`.
    var channelDirection: String?
    /// Newest first, as mod_xml_cdr writes them.
    var callflows: [FreeSWITCHCallflow] = []

    /// The variable URL-decoded once, as text; nil when absent.
    func decodedVariable(_ name: String) -> String? {
        self.variables[name].map { PercentDecoding.string($0[...]) }
    }

    /// A variable whose values are never encoded in practice (uuids, numbers, cause names),
    /// decoded anyway so that an encoded one reads the same.
    func variable(_ name: String) -> String? { self.decodedVariable(name) }
}

// MARK: - Mapping

/// Channel → ``LegRecord`` (the rules are documented on ``FreeSWITCHCDRDecoder``).
struct FreeSWITCHLegMapping: Sendable {
    /// The PBX's zone, used only for the `*_stamp` fallbacks (local time).
    let zone: ZoneRules

    /// The idempotency key of a FreeSWITCH leg: its channel uuid, so the same leg read from a
    /// CDR file, a re-POSTed CDR and a `CHANNEL_HANGUP_COMPLETE` event is stored once.
    static func legKey(uuid: String) -> EventKey { EventKey(rawValue: "fsleg:\(uuid)") }

    /// The leg `content` describes, keyed by its channel's uuid (``legKey(uuid:)``).
    /// - Throws: when the uuid or a start/end time is missing or a number is unreadable.
    func leg(_ content: FreeSWITCHChannel, position: SourcePosition) throws(XMLRefusal) -> LegRecord {
        let newest = content.callflows.first
        let oldest = content.callflows.last
        let ownProfile = newest?.profile

        let uuid = content.variable("uuid") ?? ownProfile?["uuid"] ?? ""
        guard !uuid.isEmpty else {
            throw XMLRefusal(.unexpectedContent, "no uuid (neither a uuid variable nor a caller_profile uuid)")
        }
        let direction = (content.variable("direction") ?? content.channelDirection ?? "").lowercased()
        let originatorProfile = content.callflows.lazy.compactMap { $0.originators.first }.first

        // The A-leg this leg was originated from, if it is a B-leg.
        var aLeg: String?
        if direction != "inbound" {
            let candidates = [
                content.variable("originator"), content.variable("originating_leg_uuid"), originatorProfile?["uuid"],
                content.variable("cc_side") == "agent" ? content.variable("cc_member_session_uuid") : nil,
            ]
            aLeg = candidates.lazy.compactMap { $0 }.first { !$0.isEmpty && $0 != uuid }
        }
        // An attended transfer (`att_xfer`): the transferring agent's leg originated this one to
        // consult, and when the agent hung up `uuid_bridge` gave it the caller. It ends in the
        // caller's call, serving from that moment, whatever leg originated it.
        let rebridged = Self.uuidBridge(content)
        var joinedAt: Timestamp?
        if aLeg != nil, let rebridged, rebridged.to != uuid, rebridged.to != aLeg {
            aLeg = rebridged.to
            joinedAt = rebridged.at
        }

        let start = try self.moment("start", content: content, times: "created_time")
        let end = try self.moment("end", content: content, times: "hangup_time")
        let answerTime = try self.moment("answer", content: content, times: "answered_time")
        let bridgeTime = try self.moment("bridge", content: content, times: "bridged_time")
        guard let startTime = start else {
            throw XMLRefusal(
                .unexpectedContent, "no start time (start_uepoch, start_epoch, start_stamp or created_time)")
        }
        guard let endTime = end else {
            throw XMLRefusal(.unexpectedContent, "no end time (end_uepoch, end_epoch, end_stamp or hangup_time)")
        }
        let writtenBillsec = try self.integer("billsec", content: content)

        let channel: String
        let peer: String
        let callerProfile: FreeSWITCHProfile?
        let connected: Bool
        var answer = answerTime
        if aLeg != nil {
            let originator = Self.nonEmpty(originatorProfile?["chan_name"])
            let bridged = Self.nonEmpty(content.decodedVariable("bridge_channel"))
            // Joined by an attended transfer, the caller's channel is the one it was bridged to
            // last, and it served from that moment.
            channel = (joinedAt == nil ? originator ?? bridged : bridged ?? originator) ?? ""
            peer = Self.nonEmpty(content.decodedVariable("channel_name")) ?? ownProfile?["chan_name"] ?? ""
            callerProfile = originatorProfile ?? oldest?.profile
            connected = true
            if let joinedAt { answer = answer.map { max($0, joinedAt) } }
        } else {
            channel = Self.nonEmpty(content.decodedVariable("channel_name")) ?? ownProfile?["chan_name"] ?? ""
            callerProfile = oldest?.profile
            let ccAgent = content.decodedVariable("cc_agent") ?? ""
            let ccAnswered = try self.epochSeconds("cc_queue_answered_epoch", content: content)
            // The bridge moment, else mod_callcenter's answered epoch, else (no bridge variables,
            // as some versions write) a successful originate on a leg that was answered.
            let originated = content.variable("originate_disposition") == "SUCCESS" && answer != nil
            if !ccAgent.isEmpty {
                // mod_callcenter's agent name (`1001@default`): `user/1001@default` is a device
                // the Directory resolves (`user/1001`, domain dropped).
                peer = ccAgent.hasPrefix("user/") ? ccAgent : "user/\(ccAgent)"
            } else if rebridged != nil, let first = Self.firstBridged(content) {
                // After an attended transfer `bridge_channel` names the receiver; who answered the
                // caller is the leg bridged first (the receiver's own leg joins this call).
                peer = first
            } else {
                peer = Self.bridgedChannel(content)
            }
            connected = peer.isEmpty || bridgeTime != nil || ccAnswered != nil || originated
            if !peer.isEmpty, let answered = answer {
                // Connected to the agent when the bridge came up (an IVR may have answered earlier).
                answer = [answered, bridgeTime, ccAnswered].compactMap { $0 }.max()
            }
        }

        let billsec: Int
        if let answer {
            billsec = writtenBillsec ?? max(0, Int(endTime - answer))
        } else {
            // No answer time: a written billsec is inconsistent (corpus ccm_cloud_to_bts has 10);
            // 0 keeps "billsec > 0 means answered" true for every consumer.
            billsec = 0
        }
        let disposition: LegDisposition
        if answer != nil, billsec > 0, connected {
            disposition = .answered
        } else {
            disposition = Self.disposition(content, peerNeverConnected: aLeg == nil && !peer.isEmpty && !connected)
        }

        func field(_ profileKey: String, _ variable: String) -> String {
            if let value = callerProfile?[profileKey], !value.isEmpty { return value }
            return content.decodedVariable(variable) ?? ""
        }

        // An agent leg mod_callcenter originated runs no dialplan application (no last_app): it
        // serves the queue in cc_queue, as an Asterisk agent row reads `Queue(hotline,…)`.
        var application = (
            name: content.decodedVariable("last_app") ?? "", data: content.decodedVariable("last_arg") ?? ""
        )
        if application.name.isEmpty, content.variable("cc_side") == "agent",
            let queue = content.decodedVariable("cc_queue")
        {
            application = ("callcenter", queue)
        }

        return LegRecord(
            key: Self.legKey(uuid: uuid),
            position: position,
            call: CallKey(aLeg ?? uuid),
            uniqueID: uuid,
            source: field("caller_id_number", "caller_id_number"),
            callerName: field("caller_id_name", "caller_id_name"),
            destination: field("destination_number", "destination_number"),
            context: field("context", "context"),
            channel: channel,
            peerChannel: peer,
            application: application.name,
            applicationData: application.data,
            start: startTime,
            answer: disposition == .answered ? answer : answerTime,
            end: endTime,
            billsec: billsec,
            disposition: disposition,
            sequence: nil
        )
    }

    /// The B-leg an A-leg was bridged to or tried: `bridge_channel`, else the originatee (then
    /// origination) profile of the leg it was last bridged to, else the last one listed.
    static func bridgedChannel(_ content: FreeSWITCHChannel) -> String {
        if let channel = content.decodedVariable("bridge_channel"), !channel.isEmpty { return channel }
        let bridged = [content.variable("last_bridge_to"), content.variable("bridge_uuid")].compactMap { $0 }
        for profiles in [content.callflows.flatMap(\.originatees), content.callflows.flatMap(\.originations)] {
            if let match = profiles.first(where: { profile in bridged.contains { $0 == profile["uuid"] } }),
                let name = match["chan_name"], !name.isEmpty
            {
                return name
            }
            if let name = profiles.last?["chan_name"], !name.isEmpty { return name }
        }
        return ""
    }

    /// The channel of the first leg this one was bridged to: the oldest callflow's originatee.
    static func firstBridged(_ content: FreeSWITCHChannel) -> String? {
        content.callflows.reversed().lazy.compactMap { Self.nonEmpty($0.originatees.first?["chan_name"]) }.first
    }

    /// The newest `uuid_br` entry of `transfer_history` — `<epoch>:<own uuid>:uuid_br:<other uuid>`,
    /// written by `uuid_bridge`, which is how `att_xfer` hands the caller to the consulted leg.
    /// The variable is an array (`ARRAY::entry|:entry`), newest last.
    static func uuidBridge(_ content: FreeSWITCHChannel) -> (at: Timestamp, to: String)? {
        guard var history = content.decodedVariable("transfer_history"), history.contains(":uuid_br:") else {
            return nil
        }
        if history.hasPrefix("ARRAY::") { history.removeFirst(7) }
        for entry in history.components(separatedBy: "|:").reversed() {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[2] == "uuid_br", let epoch = Int64(parts[0]), epoch > 0, !parts[3].isEmpty
            else { continue }
            return (Timestamp(seconds: epoch), String(parts[3]))
        }
        return nil
    }

    /// The outcome of a leg that was not answered, from its hang-up cause (FORMATS §7.1).
    static func disposition(_ content: FreeSWITCHChannel, peerNeverConnected: Bool) -> LegDisposition {
        var causes: [String] = []
        if peerNeverConnected {
            // Why the B-leg failed is the A-leg's story (its own cause may be the caller's hang-up).
            if let originate = content.variable("originate_disposition"), originate != "SUCCESS" {
                causes.append(originate)
            }
            causes += ["last_bridge_hangup_cause", "bridge_hangup_cause"].compactMap { content.variable($0) }
        }
        if let cause = content.variable("hangup_cause") { causes.append(cause) }
        if let cause = causes.first(where: { !$0.isEmpty }) {
            return self.disposition(cause: cause.uppercased())
        }
        switch content.variable("hangup_cause_q850").flatMap({ Int($0) }) {
        case 16, 19, 31, 487: return .noAnswer
        case 17: return .busy
        case .some: return .failed
        case nil: return .unknown
        }
    }

    static func disposition(cause: String) -> LegDisposition {
        switch cause {
        case "NORMAL_CLEARING", "ORIGINATOR_CANCEL", "NO_ANSWER", "NORMAL_UNSPECIFIED", "LOSE_RACE", "PICKED_OFF",
            "BLIND_TRANSFER", "ATTENDED_TRANSFER", "ALLOTTED_TIMEOUT":
            return .noAnswer
        case "USER_BUSY":
            return .busy
        default:
            // CALL_REJECTED, NO_ROUTE_DESTINATION, UNALLOCATED_NUMBER, RECOVERY_ON_TIMER_EXPIRE,
            // NORMAL_TEMPORARY_FAILURE, congestion, SUBSCRIBER_ABSENT, USER_NOT_REGISTERED…
            return .failed
        }
    }

    // MARK: - Values

    /// A moment of the channel's life; nil when it never happened or nothing records it.
    /// - Throws: when a variable is present but unreadable (never silently replaced).
    func moment(_ name: String, content: FreeSWITCHChannel, times: String) throws(XMLRefusal) -> Timestamp? {
        if let micros = try self.number("\(name)_uepoch", content: content) {
            return micros > 0 ? Timestamp(seconds: micros / 1_000_000) : nil
        }
        if let seconds = try self.number("\(name)_epoch", content: content) {
            return seconds > 0 ? Timestamp(seconds: seconds) : nil
        }
        if let raw = content.variables["\(name)_stamp"] {
            let text = PercentDecoding.decode(raw[...])
            guard !text.isEmpty else { return nil }
            guard let local = LocalDateTime(bytes: text[...]) else {
                throw XMLRefusal(
                    .unexpectedContent,
                    "\(name)_stamp is \"\(Self.shown(String(decoding: text, as: UTF8.self)))\", not YYYY-MM-DD HH:MM:SS"
                )
            }
            return self.zone.instant(local)
        }
        for callflow in content.callflows {
            if let text = callflow.times[times], let micros = Int64(text) {
                return micros > 0 ? Timestamp(seconds: micros / 1_000_000) : nil
            }
        }
        return nil
    }

    /// `cc_queue_answered_epoch` and friends: whole seconds, 0 or absent = never.
    func epochSeconds(_ name: String, content: FreeSWITCHChannel) throws(XMLRefusal) -> Timestamp? {
        guard let seconds = try self.number(name, content: content), seconds > 0 else { return nil }
        return Timestamp(seconds: seconds)
    }

    func integer(_ name: String, content: FreeSWITCHChannel) throws(XMLRefusal) -> Int? {
        try self.number(name, content: content).map { Int($0) }
    }

    /// A variable holding a whole number; nil when absent or empty.
    func number(_ name: String, content: FreeSWITCHChannel) throws(XMLRefusal) -> Int64? {
        guard let raw = content.variables[name] else { return nil }
        let text = Self.trimmed(raw[...])
        guard !text.isEmpty else { return nil }
        guard let value = Digits.parse(text) else {
            throw XMLRefusal(
                .unexpectedContent,
                "\(name) is \"\(Self.shown(String(decoding: text, as: UTF8.self)))\", not a whole number"
            )
        }
        return Int64(value)
    }

    /// nil for nil or empty: an empty variable or profile field falls back to the next source.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var bytes = bytes
        while let first = bytes.first, Self.isBlank(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, Self.isBlank(last) { bytes = bytes.dropLast() }
        return bytes
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func shown(_ text: String) -> String {
        text.count > 40 ? "\(text.prefix(40))…" : text
    }
}
