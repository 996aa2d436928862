import FirstContactCore

/// Decodes one FreeSWITCH `mod_xml_cdr` document (one channel = one leg, FORMATS §4) into a
/// ``LegRecord``, or a ``Reject`` naming what is wrong.
///
/// Accepted input: the XML as written to `<log-dir>/<uuid>.cdr.xml` or POSTed with
/// `encode=textxml`, and the form bodies mod_xml_cdr POSTs — `cdr=<url-encoded XML>`
/// (`encode=true`, possibly with other `&`-separated fields) and `cdr=<raw XML>`
/// (`encode=false`). Base64 bodies (`encode=base64`) are rejected with a reason saying so.
///
/// Mapping (FORMATS §4.2–4.3, §7.1):
/// * `uniqueID` = `uuid`. The call key is the A-leg's uuid: a B-leg names it in `originator`,
///   `originating_leg_uuid` or its `<originator_caller_profile>`; a mod_callcenter agent leg
///   (`cc_side=agent`, originated with no A-leg) in `cc_member_session_uuid`. An inbound leg
///   is always an A-leg. `bridge_uuid` is never a call key: on an A-leg it names the B-leg.
/// * A-leg: `channel` = its own channel, `peerChannel` = the agent that answered
///   (`user/<cc_agent>` when mod_callcenter names one, else the bridged or attempted B-leg's
///   channel: `bridge_channel`, the `<originatee>` or `<origination>` profile). B-leg:
///   `channel` = the caller's (A-leg's) channel, `peerChannel` = its own, and the caller
///   fields come from the originator profile — so either leg alone reads like an Asterisk CDR
///   row with party A = the caller and party B = the agent.
/// * Times: `*_uepoch` (µs, truncated to seconds; 0 = never), else `*_epoch`, else the local
///   `*_stamp` read in the PBX's zone, else the callflow `<times>`. For an A-leg whose B-leg was
///   bridged, `answer` is when the caller was connected to it (the later of answer and bridge),
///   because an IVR answers the caller long before an agent does.
/// * Disposition: ANSWERED only with an answer time, `billsec > 0` and — for an A-leg with a
///   peer — a bridge (or mod_callcenter's answered epoch, or `originate_disposition=SUCCESS`
///   when no bridge time is written). Otherwise the hang-up cause decides,
///   never alone: NORMAL_CLEARING / ORIGINATOR_CANCEL / NO_ANSWER → NO ANSWER, USER_BUSY → BUSY,
///   other causes → FAILED; for an A-leg whose B-leg never connected, the B-leg's outcome
///   (`originate_disposition`, `last_bridge_hangup_cause`) is preferred over its own cause.
/// * `<variables>` values are URL-decoded exactly once; caller-profile and `<times>` values are
///   not encoded and are read as they are.
package struct FreeSWITCHCDRDecoder: Sendable {
    /// The PBX's zone, used only for the `*_stamp` fallbacks (local time).
    package let zone: ZoneRules
    /// What the XML layer accepts (document size, depth, text size…).
    package let limits: XMLLimits
    /// How many bytes of a rejected input are kept in the ``Reject``.
    package static let keptRejectBytes = 64 * 1024

    package init(zone: ZoneRules, limits: XMLLimits = XMLLimits()) {
        self.zone = zone
        self.limits = limits
    }

    /// Decodes one document or POST body.
    /// - Returns: `.record(.leg)` or `.reject` (reason + the first ``keptRejectBytes`` of `input`); never throws.
    package func decode(_ input: [UInt8], position: SourcePosition) -> IngestRecord {
        let document: [UInt8]
        switch Self.unwrap(input) {
        case .success(let bytes): document = bytes
        case .failure(let refusal): return self.reject(refusal, input: input, position: position)
        }
        let content = CDRContent()
        do {
            try XMLReader.read(document, limits: self.limits, into: content)
        } catch {
            return self.reject(error, input: input, position: position)
        }
        switch self.leg(from: content, document: document, position: position) {
        case .success(let leg): return .record(.leg(leg))
        case .failure(let refusal): return self.reject(refusal, input: input, position: position)
        }
    }

    private func reject(_ refusal: XMLRefusal, input: [UInt8], position: SourcePosition) -> IngestRecord {
        .reject(
            Reject(
                position: position,
                reason: "FreeSWITCH XML CDR refused (\(refusal.kind.rawValue)): \(refusal.message)",
                raw: Array(input.prefix(Self.keptRejectBytes))
            )
        )
    }

    // MARK: - Body

    /// The XML inside `input`: `input` itself when it starts with `<`, else the `cdr` field of
    /// a form body (raw after `cdr=<`, otherwise form-decoded once).
    static func unwrap(_ input: [UInt8]) -> Result<[UInt8], XMLRefusal> {
        var start = input.startIndex
        if input.starts(with: [0xEF, 0xBB, 0xBF]) { start += 3 }
        while start < input.endIndex, Self.isBlank(input[start]) { start += 1 }
        guard start < input.endIndex else { return .failure(XMLRefusal(.notXML, "not XML: the document is empty")) }
        if input[start] == UInt8(ascii: "<") { return .success(input) }

        let body = input[...]
        // encode=false posts `cdr=<raw XML>`: the XML may hold `&` and `+`, so it is taken verbatim.
        let rawMarker = Array("cdr=<".utf8)
        if body.starts(with: rawMarker) {
            return .success(Array(body.dropFirst(4)))
        }
        if let marker = Self.find([UInt8(ascii: "&")] + rawMarker, in: body) {
            return .success(Array(body[(marker + 5)...]))
        }
        guard let field = PercentDecoding.formField("cdr", in: body) else {
            return .failure(
                XMLRefusal(.notXML, "not XML, and not a mod_xml_cdr form body either (no cdr= field)")
            )
        }
        let xml = PercentDecoding.decode(field, plusIsSpace: true)
        guard let first = xml.first(where: { !Self.isBlank($0) }), first == UInt8(ascii: "<") else {
            return .failure(
                XMLRefusal(
                    .notXML,
                    "the cdr= field does not hold XML (base64 bodies, mod_xml_cdr encode=base64, are not read)"
                )
            )
        }
        return .success(xml)
    }

    // MARK: - Mapping

    private func leg(
        from content: CDRContent, document: [UInt8], position: SourcePosition
    ) -> Result<LegRecord, XMLRefusal> {
        guard content.root == "cdr" else {
            return .failure(
                XMLRefusal(
                    .unexpectedContent,
                    "the root element is <\(content.root ?? "")>; a mod_xml_cdr document has <cdr>"
                )
            )
        }
        do {
            return .success(try self.leg(content, document: document, position: position))
        } catch {
            return .failure(error)
        }
    }

    private func leg(
        _ content: CDRContent, document: [UInt8], position: SourcePosition
    ) throws(XMLRefusal) -> LegRecord {
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
        let callerProfile: Profile?
        let connected: Bool
        var answer = answerTime
        if aLeg != nil {
            channel = Self.nonEmpty(originatorProfile?["chan_name"]) ?? content.decodedVariable("bridge_channel") ?? ""
            peer = Self.nonEmpty(content.decodedVariable("channel_name")) ?? ownProfile?["chan_name"] ?? ""
            callerProfile = originatorProfile ?? oldest?.profile
            connected = true
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

        return LegRecord(
            key: EventKey.hashing("fsxml", document),
            position: position,
            call: CallKey(aLeg ?? uuid),
            uniqueID: uuid,
            source: field("caller_id_number", "caller_id_number"),
            callerName: field("caller_id_name", "caller_id_name"),
            destination: field("destination_number", "destination_number"),
            context: field("context", "context"),
            channel: channel,
            peerChannel: peer,
            application: content.decodedVariable("last_app") ?? "",
            applicationData: content.decodedVariable("last_arg") ?? "",
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
    private static func bridgedChannel(_ content: CDRContent) -> String {
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

    /// The outcome of a leg that was not answered, from its hang-up cause (FORMATS §7.1).
    private static func disposition(_ content: CDRContent, peerNeverConnected: Bool) -> LegDisposition {
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

    private static func disposition(cause: String) -> LegDisposition {
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
    private func moment(_ name: String, content: CDRContent, times: String) throws(XMLRefusal) -> Timestamp? {
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
    private func epochSeconds(_ name: String, content: CDRContent) throws(XMLRefusal) -> Timestamp? {
        guard let seconds = try self.number(name, content: content), seconds > 0 else { return nil }
        return Timestamp(seconds: seconds)
    }

    private func integer(_ name: String, content: CDRContent) throws(XMLRefusal) -> Int? {
        try self.number(name, content: content).map { Int($0) }
    }

    /// A variable holding a whole number; nil when absent or empty.
    private func number(_ name: String, content: CDRContent) throws(XMLRefusal) -> Int64? {
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
    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var bytes = bytes
        while let first = bytes.first, Self.isBlank(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, Self.isBlank(last) { bytes = bytes.dropLast() }
        return bytes
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func shown(_ text: String) -> String {
        text.count > 40 ? "\(text.prefix(40))…" : text
    }

    private static func find(_ needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = bytes.startIndex
        while index <= bytes.endIndex - needle.count {
            if bytes[index] == first, bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

// MARK: - Document content

/// A caller profile's fields (not URL-encoded), by element name.
private typealias Profile = [String: String]

/// What one `<callflow>` holds that the mapping uses.
private struct Callflow {
    var profile: Profile = [:]
    var originators: [Profile] = []
    var originatees: [Profile] = []
    var originations: [Profile] = []
    var times: [String: String] = [:]
}

/// Collects the parts of a `<cdr>` the mapping reads; everything else is skipped unread.
private final class CDRContent: XMLContentHandler {
    /// Variables the mapping reads; others (200-odd per document) are not kept.
    static let wantedVariables: Set<String> = [
        "uuid", "direction", "originator", "originating_leg_uuid", "cc_side", "cc_member_session_uuid", "cc_agent",
        "cc_queue_answered_epoch", "channel_name", "bridge_channel", "last_bridge_to", "bridge_uuid",
        "caller_id_number", "caller_id_name", "destination_number", "context",
        "start_uepoch", "start_epoch", "start_stamp", "answer_uepoch", "answer_epoch", "answer_stamp",
        "bridge_uepoch", "bridge_epoch", "bridge_stamp", "end_uepoch", "end_epoch", "end_stamp",
        "billsec", "hangup_cause", "hangup_cause_q850", "originate_disposition", "last_bridge_hangup_cause",
        "bridge_hangup_cause", "last_app", "last_arg",
    ]
    static let wantedProfileFields: Set<String> = [
        "caller_id_name", "caller_id_number", "destination_number", "uuid", "context", "chan_name",
    ]
    static let wantedTimes: Set<String> = ["created_time", "answered_time", "bridged_time", "hangup_time"]

    // `@exclusivity(unchecked)` (see `ParseState` in XMLReader.swift for the cost): safe because
    // the reader calls this handler synchronously, one callback at a time, and no access to a
    // property here outlives the statement it is in (`updateLastCallflow` mutates one element
    // of `callflows` and calls nothing else of this class while it does).
    @exclusivity(unchecked) var root: String?
    /// Raw (still URL-encoded) values; the first of repeated (array) variables is kept.
    @exclusivity(unchecked) var variables: [String: [UInt8]] = [:]
    @exclusivity(unchecked) var channelDirection: String?
    /// Newest first, as written.
    @exclusivity(unchecked) var callflows: [Callflow] = []

    /// Where the parse is, one level per depth from 2 to 5 (set when an element at that depth
    /// opens; an element at a depth only opens inside the current one above it).
    private enum Section { case variables, channelData, callflow, other }
    private enum Part { case callerProfile, times, other }
    private enum Related { case originator, originatee, origination, other }
    @exclusivity(unchecked) private var section = Section.other
    @exclusivity(unchecked) private var part = Part.other
    @exclusivity(unchecked) private var related = Related.other
    /// Inside `<originator_caller_profile>` (etc.) under the related profile element.
    @exclusivity(unchecked) private var inRelatedProfile = false

    /// The variable URL-decoded once, as text; nil when absent.
    func decodedVariable(_ name: String) -> String? {
        self.variables[name].map { PercentDecoding.string($0[...]) }
    }

    /// A variable whose values are never encoded in practice (uuids, numbers, cause names),
    /// decoded anyway so that an encoded one reads the same.
    func variable(_ name: String) -> String? { self.decodedVariable(name) }

    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) {
        switch depth {
        case 1:
            self.root = name
        case 2:
            switch name {
            case "variables": self.section = .variables
            case "channel_data": self.section = .channelData
            case "callflow":
                self.section = .callflow
                self.callflows.append(Callflow())
            default: self.section = .other
            }
        case 3 where self.section == .callflow:
            self.part = name == "caller_profile" ? .callerProfile : name == "times" ? .times : .other
        case 4 where self.section == .callflow && self.part == .callerProfile:
            switch name {
            case "originator": self.related = .originator
            case "originatee": self.related = .originatee
            case "origination": self.related = .origination
            default: self.related = .other
            }
        case 5 where self.section == .callflow && self.part == .callerProfile:
            self.inRelatedProfile = true
            switch (self.related, name) {
            case (.originator, "originator_caller_profile"): self.updateLastCallflow { $0.originators.append([:]) }
            case (.originatee, "originatee_caller_profile"): self.updateLastCallflow { $0.originatees.append([:]) }
            case (.origination, "origination_caller_profile"): self.updateLastCallflow { $0.originations.append([:]) }
            default: self.inRelatedProfile = false
            }
        default:
            break
        }
    }

    func endElement(_ name: String, text: [UInt8], depth: Int) {
        switch depth {
        case 3 where self.section == .variables:
            if Self.wantedVariables.contains(name), self.variables[name] == nil { self.variables[name] = text }
        case 3 where self.section == .channelData && name == "direction":
            self.channelDirection = String(decoding: text, as: UTF8.self)
        case 4 where self.section == .callflow && self.part == .callerProfile:
            if Self.wantedProfileFields.contains(name) {
                self.updateLastCallflow { $0.profile[name] = String(decoding: text, as: UTF8.self) }
            }
        case 4 where self.section == .callflow && self.part == .times:
            if Self.wantedTimes.contains(name) {
                self.updateLastCallflow { $0.times[name] = String(decoding: text, as: UTF8.self) }
            }
        case 5 where self.section == .callflow && self.part == .callerProfile:
            self.inRelatedProfile = false
        case 6 where self.section == .callflow && self.part == .callerProfile && self.inRelatedProfile:
            guard Self.wantedProfileFields.contains(name) else { return }
            let value = String(decoding: text, as: UTF8.self)
            switch self.related {
            case .originator: self.updateLastCallflow { Self.setLast(&$0.originators, name, value) }
            case .originatee: self.updateLastCallflow { Self.setLast(&$0.originatees, name, value) }
            case .origination: self.updateLastCallflow { Self.setLast(&$0.originations, name, value) }
            case .other: break
            }
        default:
            break
        }
    }

    /// Sets a field of the profile opened last (opened at depth 5 before any depth-6 field ends).
    private static func setLast(_ profiles: inout [Profile], _ name: String, _ value: String) {
        guard !profiles.isEmpty else { return }
        profiles[profiles.count - 1][name] = value
    }

    private func updateLastCallflow(_ change: (inout Callflow) -> Void) {
        guard !self.callflows.isEmpty else { return }
        change(&self.callflows[self.callflows.count - 1])
    }
}
