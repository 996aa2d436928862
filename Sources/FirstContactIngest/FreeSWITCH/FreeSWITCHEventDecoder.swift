import FirstContactCore

/// Decodes a stream of FreeSWITCH event-socket events (FORMATS §5), format `freeswitch-events`.
///
/// Accepted input, in any mix:
/// * socket frames as captured on the wire: a header block (`Content-Length: n`,
///   `Content-Type: text/event-plain` or `text/event-xml`) then exactly n bytes of event. Frames of
///   other types (`command/reply`, `api/response`, `text/disconnect-notice`, `log/data`…) are
///   read past and counted as ignored;
/// * bare `text/event-plain` events: `Name: value` lines (values URL-encoded), a blank line, and
///   a body when the event has an inner `Content-Length`;
/// * bare `event xml` documents: `<event><headers>…</headers>[<body>…</body>]</event>`, one or
///   many after each other. XML is read only through ``XMLReader`` (DOCTYPEs, entities, depth and
///   size bombs are refused there).
///
/// Mapping:
/// * `CHANNEL_HANGUP_COMPLETE` → the ``LegRecord`` a mod_xml_cdr document of that channel gives
///   (``FreeSWITCHLegMapping``): `variable_*` headers are the channel variables, `Caller-*` the
///   caller profile, `Other-Leg-*` the originator (or originatee) profile, and the leg is keyed
///   by its uuid, so the same leg from a CDR file and from an event is stored once.
/// * `CUSTOM callcenter::info` (mod_callcenter, §5.4) → ``QueueRecord``s on the caller's call
///   (`CC-Member-Session-UUID`): `member-queue-start`/`-resume` → entered; `bridge-agent-start` →
///   connected (the first-responder event); `bridge-agent-fail` → ringNoAnswer;
///   `member-queue-end` → completed (`CC-Cause: Terminated`, it was bridged), abandoned
///   (`Cancel` with reason NONE: the caller hung up) or exited (`Cancel` for TIMEOUT,
///   NO_AGENT_TIMEOUT, BREAK_OUT, EXIT_WITH_KEY: the queue let the caller go). Waits come from
///   `CC-Member-Joined-Time`/`CC-Member-Leaving-Time` (epoch seconds). Queue records are keyed by
///   the event's identity (`Core-UUID` + `Event-Sequence`), the same in either encoding.
/// * Every other event (CHANNEL_CREATE/ANSWER/BRIDGE/EXECUTE, DTMF, HEARTBEAT, other CUSTOM
///   subclasses and callcenter actions) is checked and ignored.
///
/// Malformed input — a header line without `:`, a `Content-Length` that is not a number or
/// runs past the end, an undecodable `%`-escape (FreeSWITCH encodes every `%` it writes), XML
/// the reader refuses, an event without `Event-Name` — becomes one ``Reject`` with its position
/// and a precise reason; the stream goes on with the next frame or event where it can.
package struct FreeSWITCHEventDecoder: Sendable {
    package let zone: ZoneRules
    /// What one XML event may hold (each `<event>` is its own document).
    package let limits: XMLLimits
    /// How many bytes of a rejected event are kept in the ``Reject``.
    package static let keptRejectBytes = Reject.maxKeptRawBytes
    /// The largest stream read in one piece (a file is read whole).
    package static let maxStreamBytes = 1 << 30

    package init(zone: ZoneRules, limits: XMLLimits = XMLLimits()) {
        self.zone = zone
        self.limits = limits
    }

    /// Decodes every frame and event of `input`.
    /// - Parameter position: where `input` starts (its source, line and byte offset); each
    ///   record's position is that of its frame or event inside `input`.
    /// - Returns: records, rejects and ignored events in stream order; never throws.
    package func decode(_ input: [UInt8], position: SourcePosition) -> [IngestRecord] {
        self.decode(input, position: position, final: true).records
    }

    /// Decodes the complete frames and events at the start of `input`, one piece of a stream
    /// read in chunks.
    /// - Parameters:
    ///   - position: where `input` starts in the stream.
    ///   - final: whether the stream ends with `input`. When it does not, a frame or event cut
    ///     by the end of `input` is left for the next call (not consumed, not rejected).
    /// - Returns: the records and how many bytes of `input` they came from; the caller keeps
    ///   the rest and calls again with more bytes appended.
    package func decode(
        _ input: [UInt8], position: SourcePosition, final: Bool
    ) -> (records: [IngestRecord], consumed: Int) {
        var scanner = Scanner(input: input, base: position)
        var records: [IngestRecord] = []
        while let start = scanner.skipBlankLines() {
            let at = scanner.position(of: start)
            if input[start] == UInt8(ascii: "<") {
                if !final, Self.find(Self.eventEndTag, in: input[start...]) == nil { return (records, start) }
                records.append(self.unframedXML(&scanner, at: at))
                continue
            }
            let block = scanner.headerBlock()
            if !final, !block.terminated { return (records, start) }
            let frame = start..<block.end
            if let bad = block.badLine {
                records.append(self.reject(bad, bytes: input[frame], at: at))
                continue
            }
            var body = input[block.end..<block.end]
            if let length = block.value("Content-Length") {
                guard let count = Digits.parse(length), count <= Int.max / 2 else {
                    records.append(
                        self.reject(
                            "Content-Length \"\(Self.shown(length))\" is not a number", bytes: input[frame], at: at))
                    continue
                }
                let left = input.endIndex - block.end
                if !final, count > left { return (records, start) }
                guard count <= left else {
                    scanner.index = input.endIndex
                    records.append(
                        self.reject(
                            "Content-Length \(count) runs past the end of the input (only \(left) bytes follow the headers)",
                            bytes: input[start...], at: at))
                    break
                }
                body = input[block.end..<(block.end + count)]
                scanner.index = block.end + count
            }
            switch block.value("Content-Type").map({ String(decoding: $0, as: UTF8.self) }) {
            case nil:
                // A bare plain event: this block is its headers, `body` its body.
                guard block.value("Event-Name") != nil else {
                    records.append(
                        self.reject(
                            "a header block with neither Content-Type (a socket frame) nor Event-Name (an event)",
                            bytes: input[frame], at: at))
                    continue
                }
                records.append(self.event(block.headers, bytes: input[start..<scanner.index], at: at))
            case "text/event-plain":
                records.append(self.plainEvent(body, frame: input[start..<scanner.index], at: at))
            case "text/event-xml":
                records.append(self.xmlEvent(body, frame: input[start..<scanner.index], at: at))
            case "text/event-json":
                records.append(
                    self.reject(
                        "text/event-json events are not read (subscribe with `event plain` or `event xml`)",
                        bytes: input[start..<scanner.index], at: at))
            default:
                // command/reply, api/response, text/disconnect-notice, log/data, auth/request…
                records.append(.ignored(at))
            }
        }
        return (records, input.endIndex)
    }

    private static let eventEndTag = Array("</event>".utf8)

    // MARK: - Encodings

    /// The body of a `text/event-plain` frame: headers, blank line, optional inner body.
    private func plainEvent(_ body: ArraySlice<UInt8>, frame: ArraySlice<UInt8>, at: SourcePosition) -> IngestRecord {
        var inner = Scanner(input: Array(body), base: at)
        guard inner.skipBlankLines() != nil else {
            return self.reject("a text/event-plain frame with an empty body", bytes: frame, at: at)
        }
        let block = inner.headerBlock()
        if let bad = block.badLine { return self.reject(bad, bytes: frame, at: at) }
        if let length = block.value("Content-Length") {
            guard let count = Digits.parse(length) else {
                return self.reject(
                    "event Content-Length \"\(Self.shown(length))\" is not a number", bytes: frame, at: at)
            }
            let left = inner.input.endIndex - block.end
            guard count <= left else {
                return self.reject(
                    "event Content-Length \(count) runs past the end of its frame (only \(left) bytes follow)",
                    bytes: frame, at: at)
            }
        }
        return self.event(block.headers, bytes: frame, at: at)
    }

    /// One `<event>` document (a `text/event-xml` frame's body or a bare one).
    private func xmlEvent(_ document: ArraySlice<UInt8>, frame: ArraySlice<UInt8>, at: SourcePosition) -> IngestRecord {
        let content = EventXMLContent()
        do {
            try XMLReader.read(Array(document), limits: self.limits, into: content)
        } catch {
            return self.reject("XML event refused (\(error.kind.rawValue)): \(error.message)", bytes: frame, at: at)
        }
        guard content.root == "event" else {
            return self.reject(
                "XML event refused: the root element is <\(content.root ?? "")>, an event is <event>",
                bytes: frame, at: at)
        }
        return self.event(content.headers, bytes: frame, at: at)
    }

    /// A bare `<event>…</event>` starting at the scanner: up to and including its end tag.
    private func unframedXML(_ scanner: inout Scanner, at: SourcePosition) -> IngestRecord {
        let input = scanner.input
        let start = scanner.index
        let endTag = Self.eventEndTag
        guard let close = Self.find(endTag, in: input[start...]) else {
            scanner.index = input.endIndex
            return self.reject(
                "XML event refused (truncated): no </event> before the end of the input", bytes: input[start...], at: at
            )
        }
        scanner.index = close + endTag.count
        let document = input[start..<scanner.index]
        return self.xmlEvent(document, frame: document, at: at)
    }

    // MARK: - Events

    /// Maps one event's headers (values still URL-encoded) to a record.
    private func event(_ raw: [(String, ArraySlice<UInt8>)], bytes: ArraySlice<UInt8>, at: SourcePosition)
        -> IngestRecord
    {
        var headers: [String: String] = [:]
        var channel = FreeSWITCHChannel()
        for (name, value) in raw {
            guard let decoded = Self.strictDecode(value) else {
                return self.reject(
                    "header \(name): undecodable %-escape in \"\(Self.shown(value))\"", bytes: bytes, at: at)
            }
            if name.hasPrefix("variable_") {
                let variable = String(name.dropFirst("variable_".count))
                if channel.variables[variable] == nil { channel.variables[variable] = Array(value) }
            } else if headers[name] == nil {
                headers[name] = String(decoding: decoded, as: UTF8.self)
            }
        }
        guard let name = headers["Event-Name"], !name.isEmpty else {
            return self.reject("an event without an Event-Name header", bytes: bytes, at: at)
        }
        do {
            switch name {
            case "CHANNEL_HANGUP_COMPLETE":
                return .record(.leg(try self.leg(headers, channel: channel, at: at)))
            case "CUSTOM" where headers["Event-Subclass"] == "callcenter::info":
                if let status = try self.agentStatus(headers, bytes: bytes, at: at) { return .presence(status) }
                guard let record = try self.queueRecord(headers, bytes: bytes, at: at) else { return .ignored(at) }
                return .record(.queue(record))
            default:
                return .ignored(at)
            }
        } catch {
            return self.reject("\(Self.shown(name)): \(error.message)", bytes: bytes, at: at)
        }
    }

    /// `CHANNEL_HANGUP_COMPLETE` → the channel mod_xml_cdr would have written → its leg.
    private func leg(_ headers: [String: String], channel: FreeSWITCHChannel, at: SourcePosition) throws(XMLRefusal)
        -> LegRecord
    {
        var channel = channel
        if channel.variables["uuid"] == nil, let uuid = headers["Unique-ID"] {
            channel.variables["uuid"] = Array(uuid.utf8)
        }
        channel.channelDirection = headers["Call-Direction"] ?? headers["Caller-Direction"]
        func profile(_ prefix: String) -> FreeSWITCHProfile {
            var profile: FreeSWITCHProfile = [:]
            for (field, header) in Self.profileHeaders {
                if let value = headers[prefix + header] { profile[field] = value }
            }
            return profile
        }
        var callflow = FreeSWITCHCallflow(profile: profile("Caller-"))
        for (field, header) in Self.timeHeaders {
            if let value = headers["Caller-" + header] { callflow.times[field] = value }
        }
        let other = profile("Other-Leg-")
        if !other.isEmpty {
            switch headers["Other-Type"] {
            case "originator": callflow.originators = [other]
            case "originatee": callflow.originatees = [other]
            default: break
            }
        }
        channel.callflows = [callflow]
        return try FreeSWITCHLegMapping(zone: self.zone).leg(channel, position: at)
    }

    /// Caller-profile field → event header suffix (after `Caller-` or `Other-Leg-`).
    private static let profileHeaders: [(String, String)] = [
        ("caller_id_name", "Caller-ID-Name"), ("caller_id_number", "Caller-ID-Number"),
        ("destination_number", "Destination-Number"), ("uuid", "Unique-ID"), ("context", "Context"),
        ("chan_name", "Channel-Name"),
    ]
    /// `<times>` field → event header suffix (after `Caller-`).
    private static let timeHeaders: [(String, String)] = [
        ("created_time", "Channel-Created-Time"), ("answered_time", "Channel-Answered-Time"),
        ("bridged_time", "Channel-Bridged-Time"), ("hangup_time", "Channel-Hangup-Time"),
    ]

    /// `callcenter::info` `agent-status-change` (an agent logged out, on break, available) → the
    /// agent's standing for routing (``AgentPresence``); nil for any other action.
    private func agentStatus(
        _ headers: [String: String], bytes: ArraySlice<UInt8>, at: SourcePosition
    ) throws(XMLRefusal) -> QueueRecord? {
        guard headers["CC-Action"] == "agent-status-change", let agent = headers["CC-Agent"], !agent.isEmpty,
            let status = headers["CC-Agent-Status"]
        else { return nil }
        let name = "AGENT-STATUS:" + status.uppercased()
        guard AgentPresence.memberEventNames.contains(name) else { return nil }
        guard let text = headers["Event-Date-Timestamp"], let micros = Digits.parse(Array(text.utf8)[...]) else {
            throw XMLRefusal(.unexpectedContent, "callcenter::info agent-status-change without Event-Date-Timestamp")
        }
        let key: EventKey
        if let core = headers["Core-UUID"], let sequence = headers["Event-Sequence"], !core.isEmpty, !sequence.isEmpty {
            key = EventKey(rawValue: "fsev:\(core):\(sequence)")
        } else {
            key = EventKey.hashing("fsev", bytes)
        }
        return QueueRecord(
            key: key, position: at, call: CallKey("NONE"), time: Timestamp(seconds: Int64(micros / 1_000_000)),
            queue: "", agent: agent, event: .other(name: name))
    }

    /// `callcenter::info` → a queue record, or nil for actions that carry no call information.
    private func queueRecord(
        _ headers: [String: String], bytes: ArraySlice<UInt8>, at: SourcePosition
    ) throws(XMLRefusal) -> QueueRecord? {
        let action = headers["CC-Action"] ?? ""
        guard Self.mappedActions.contains(action) else { return nil }
        guard let member = headers["CC-Member-Session-UUID"], !member.isEmpty else {
            throw XMLRefusal(.unexpectedContent, "callcenter::info \(action) without CC-Member-Session-UUID")
        }
        func seconds(_ name: String) throws(XMLRefusal) -> Timestamp? {
            guard let text = headers[name], !text.isEmpty else { return nil }
            guard let value = Digits.parse(Array(text.utf8)[...]) else {
                throw XMLRefusal(.unexpectedContent, "\(name) is \"\(Self.shown(text))\", not whole epoch seconds")
            }
            return value > 0 ? Timestamp(seconds: Int64(value)) : nil
        }
        var eventTime: Timestamp?
        if let text = headers["Event-Date-Timestamp"], !text.isEmpty {
            guard let micros = Digits.parse(Array(text.utf8)[...]) else {
                throw XMLRefusal(
                    .unexpectedContent, "Event-Date-Timestamp is \"\(Self.shown(text))\", not microseconds")
            }
            eventTime = Timestamp(seconds: Int64(micros / 1_000_000))
        }
        let joined = try seconds("CC-Member-Joined-Time")
        let agent = headers["CC-Agent"] ?? ""
        let event: QueueEvent
        var time: Timestamp?
        switch action {
        case "member-queue-start", "member-queue-resume":
            event = .entered(callerNumber: headers["CC-Member-CID-Number"] ?? "")
            time = joined ?? eventTime
        case "bridge-agent-start":
            time = try seconds("CC-Agent-Answered-Time") ?? eventTime
            let hold = time.flatMap { answered in joined.map { Int(max(0, answered - $0)) } } ?? 0
            event = .connected(holdSeconds: hold, memberUniqueID: headers["CC-Agent-UUID"] ?? "")
        case "bridge-agent-fail":
            time = try seconds("CC-Agent-Aborted-Time") ?? eventTime
            event = .ringNoAnswer
        default:  // member-queue-end
            time = try seconds("CC-Member-Leaving-Time") ?? eventTime
            let wait = time.flatMap { left in joined.map { Int(max(0, left - $0)) } } ?? 0
            let cause = headers["CC-Cause"] ?? ""
            let reason = headers["CC-Cancel-Reason"] ?? ""
            switch cause.lowercased() {
            case "terminated": event = .completed
            case "cancel" where reason.isEmpty || reason == "NONE": event = .abandoned(waitSeconds: wait)
            case "cancel": event = .exited(reason: reason, waitSeconds: wait)
            default: event = .exited(reason: cause, waitSeconds: wait)
            }
        }
        guard let time else {
            throw XMLRefusal(
                .unexpectedContent, "callcenter::info \(action) without a time (CC-*-Time or Event-Date-Timestamp)")
        }
        // The event's identity: the same event in plain or XML encoding has the same key.
        let key: EventKey
        if let core = headers["Core-UUID"], let sequence = headers["Event-Sequence"], !core.isEmpty, !sequence.isEmpty {
            key = EventKey(rawValue: "fsev:\(core):\(sequence)")
        } else {
            key = EventKey.hashing("fsev", bytes)
        }
        return QueueRecord(
            key: key, position: at, call: CallKey(member), time: time, queue: headers["CC-Queue"] ?? "",
            agent: agent, event: event)
    }

    private static let mappedActions: Set<String> = [
        "member-queue-start", "member-queue-resume", "bridge-agent-start", "bridge-agent-fail", "member-queue-end",
    ]

    // MARK: - Support

    private func reject(_ reason: String, bytes: ArraySlice<UInt8>, at: SourcePosition) -> IngestRecord {
        .reject(
            Reject(
                position: at, reason: "FreeSWITCH event refused: \(reason)", raw: bytes))
    }

    /// `%XX` decoded once; nil when a `%` is not followed by two hex digits (FreeSWITCH's URL
    /// encoder writes every `%` as `%25`, so a bare one means the text is not what it wrote).
    static func strictDecode(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var index = bytes.startIndex
        while let percent = bytes[index...].firstIndex(of: UInt8(ascii: "%")) {
            guard bytes.endIndex - percent >= 3, bytes[percent + 1].isASCIIHexDigit, bytes[percent + 2].isASCIIHexDigit
            else {
                return nil
            }
            index = percent + 3
        }
        return PercentDecoding.decode(bytes)
    }

    static func shown(_ text: String) -> String { text.count > 40 ? "\(text.prefix(40))…" : text }
    static func shown(_ bytes: ArraySlice<UInt8>) -> String { self.shown(String(decoding: bytes, as: UTF8.self)) }

    private static func find(_ needle: [UInt8], in bytes: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = bytes.startIndex
        while let candidate = bytes[index...].firstIndex(of: first), candidate <= bytes.endIndex - needle.count {
            if bytes[candidate..<(candidate + needle.count)].elementsEqual(needle) { return candidate }
            index = candidate + 1
        }
        return nil
    }
}

// MARK: - Scanning

/// Walks a byte stream line by line, keeping line numbers for positions.
private struct Scanner {
    let input: [UInt8]
    let base: SourcePosition
    var index: Int
    /// Newlines counted before `countedTo`.
    private var lines = 0
    private var countedTo: Int

    init(input: [UInt8], base: SourcePosition) {
        self.input = input
        self.base = base
        self.index = input.startIndex
        self.countedTo = input.startIndex
    }

    /// The position of `offset` (not before the last one asked for).
    mutating func position(of offset: Int) -> SourcePosition {
        if offset > self.countedTo {
            self.lines += self.input[self.countedTo..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            self.countedTo = offset
        }
        return SourcePosition(
            source: self.base.source, line: self.base.line + self.lines, offset: self.base.offset + Int64(offset))
    }

    /// Moves past empty lines (LF or CRLF); the index of the next content, or nil at the end.
    mutating func skipBlankLines() -> Int? {
        while self.index < self.input.endIndex {
            switch self.input[self.index] {
            case 0x0A, 0x0D: self.index += 1
            default: return self.index
            }
        }
        return nil
    }

    /// A block of `Name: value` lines up to an empty line (consumed) or the end of the input.
    struct HeaderBlock {
        var headers: [(String, ArraySlice<UInt8>)] = []
        /// Where the bytes after the block's blank line start.
        var end: Int
        /// Why the block is not a header block, when it is not.
        var badLine: String?
        /// Whether an empty line ended it (else the input did).
        var terminated = false

        func value(_ name: String) -> ArraySlice<UInt8>? {
            self.headers.first { $0.0 == name }?.1
        }
    }

    mutating func headerBlock() -> HeaderBlock {
        var block = HeaderBlock(end: self.input.endIndex)
        var lineNumber = 0
        while self.index < self.input.endIndex {
            let lineEnd = self.input[self.index...].firstIndex(of: 0x0A) ?? self.input.endIndex
            var line = self.input[self.index..<lineEnd]
            self.index = min(lineEnd + 1, self.input.endIndex)
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty, lineEnd < self.input.endIndex {
                block.terminated = true
                break
            }
            if line.isEmpty { break }
            lineNumber += 1
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                if block.badLine == nil {
                    block.badLine =
                        "header line \(lineNumber) \"\(FreeSWITCHEventDecoder.shown(line))\" is not `Name: value`"
                }
                continue
            }
            var value = line[(colon + 1)...]
            while value.first == UInt8(ascii: " ") { value = value.dropFirst() }
            block.headers.append((String(decoding: line[..<colon], as: UTF8.self), value))
        }
        block.end = self.index
        return block
    }
}

/// Collects an `<event>`'s headers (`<headers><Name>value</Name>…`), values still URL-encoded.
private final class EventXMLContent: XMLContentHandler {
    var root: String?
    var headers: [(String, ArraySlice<UInt8>)] = []
    private var inHeaders = false

    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) {
        switch depth {
        case 1: self.root = name
        case 2: self.inHeaders = name == "headers"
        default: break
        }
    }

    func endElement(_ name: String, text: [UInt8], depth: Int) {
        if depth == 3, self.inHeaders { self.headers.append((name, text[...])) }
        if depth == 2 { self.inHeaders = false }
    }
}
