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
/// * `uniqueID` = `uuid`; the record's idempotency key is `fsleg:<uuid>` (the same leg from a
///   re-POST, an err-log re-import or a `CHANNEL_HANGUP_COMPLETE` event is stored once). The call key is the A-leg's uuid: a B-leg names it in `originator`,
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
/// * Application: `last_app`/`last_arg`; an agent leg mod_callcenter originated has none and
///   reads as `callcenter <cc_queue>` (the queue it served).
/// * `<variables>` values are URL-decoded exactly once; caller-profile and `<times>` values are
///   not encoded and are read as they are.
package struct FreeSWITCHCDRDecoder: Sendable {
    /// The PBX's zone, used only for the `*_stamp` fallbacks (local time).
    package let zone: ZoneRules
    /// What the XML layer accepts (document size, depth, text size…).
    package let limits: XMLLimits
    /// How many bytes of a rejected input are kept in the ``Reject``.
    package static let keptRejectBytes = Reject.maxKeptRawBytes

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
        switch self.leg(from: content, position: position) {
        case .success(let leg): return .record(.leg(leg))
        case .failure(let refusal): return self.reject(refusal, input: input, position: position)
        }
    }

    private func reject(_ refusal: XMLRefusal, input: [UInt8], position: SourcePosition) -> IngestRecord {
        .reject(
            Reject(
                position: position,
                reason: "FreeSWITCH XML CDR refused (\(refusal.kind.rawValue)): \(refusal.message)",
                raw: input
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
        from content: CDRContent, position: SourcePosition
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
            return .success(try FreeSWITCHLegMapping(zone: self.zone).leg(content.channel, position: position))
        } catch {
            return .failure(error)
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
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
        "bridge_hangup_cause", "last_app", "last_arg", "cc_queue", "transfer_history",
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
    /// Variables (raw, the first of repeated ones), direction and callflows (newest first).
    @exclusivity(unchecked) var channel = FreeSWITCHChannel()

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
                self.channel.callflows.append(FreeSWITCHCallflow())
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
            if Self.wantedVariables.contains(name), self.channel.variables[name] == nil {
                self.channel.variables[name] = text
            }
        case 3 where self.section == .channelData && name == "direction":
            self.channel.channelDirection = String(decoding: text, as: UTF8.self)
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
    private static func setLast(_ profiles: inout [FreeSWITCHProfile], _ name: String, _ value: String) {
        guard !profiles.isEmpty else { return }
        profiles[profiles.count - 1][name] = value
    }

    private func updateLastCallflow(_ change: (inout FreeSWITCHCallflow) -> Void) {
        guard !self.channel.callflows.isEmpty else { return }
        change(&self.channel.callflows[self.channel.callflows.count - 1])
    }
}
