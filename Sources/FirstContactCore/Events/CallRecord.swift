/// Where a record came from: file (or request id), 1-based line, byte offset of the line.
package struct SourcePosition: Hashable, Sendable, CustomStringConvertible {
    package var source: String
    package var line: Int
    package var offset: Int64

    package init(source: String, line: Int, offset: Int64) {
        self.source = source
        self.line = line
        self.offset = offset
    }

    package var description: String { "\(self.source):\(self.line)" }
}

/// A row or document that could not be read, kept with its bytes (SPEC: nothing is lost).
///
/// Bounded whatever arrives: the reason is at most ``maxReasonLength`` characters and at most
/// ``maxKeptRawBytes`` of the input are kept, with the whole input's length and SHA-256, so a
/// hostile or broken exporter costs at most what it weighs (a 100,000-column header quoted in
/// every row's reason once filled gigabytes).
package struct Reject: Hashable, Sendable {
    package static let maxReasonLength = 256
    package static let maxKeptRawBytes = 64 * 1024

    package var position: SourcePosition
    package var reason: String
    /// The kept bytes: the whole input, or its first ``maxKeptRawBytes`` when ``rawSHA256`` is set.
    package var raw: [UInt8]
    /// The whole input's length in bytes.
    package var rawLength: Int
    /// Lower-case hex SHA-256 of the whole input; only when ``raw`` was cut.
    package var rawSHA256: String?

    package init(position: SourcePosition, reason: String, raw: some Collection<UInt8>) {
        self.position = position
        self.reason = Self.bounded(reason)
        self.rawLength = raw.count
        if raw.count > Self.maxKeptRawBytes {
            self.raw = Array(raw.prefix(Self.maxKeptRawBytes))
            self.rawSHA256 = Self.hex(SHA256.digest(raw))
        } else {
            self.raw = Array(raw)
            self.rawSHA256 = nil
        }
    }

    /// A reject as stored: bytes already cut, length and digest as they were computed then.
    package init(position: SourcePosition, reason: String, keptRaw: [UInt8], rawLength: Int, rawSHA256: String?) {
        self.position = position
        self.reason = Self.bounded(reason)
        self.raw = keptRaw
        self.rawLength = rawLength
        self.rawSHA256 = rawSHA256
    }

    /// Whether ``raw`` holds less than the whole input.
    package var isRawTruncated: Bool { self.rawSHA256 != nil }

    /// `reason` cut to ``maxReasonLength`` characters, the last being "…" when cut.
    package static func bounded(_ reason: String) -> String {
        // Cheap test first: a reason of ≤ 256 UTF-8 bytes has ≤ 256 characters.
        guard reason.utf8.count > Self.maxReasonLength, reason.count > Self.maxReasonLength else { return reason }
        return String(reason.prefix(Self.maxReasonLength - 1)) + "…"
    }

    /// A value quoted inside a reason: at most 40 characters, cut with "…".
    package static func quoted(_ text: some StringProtocol) -> String {
        text.count > 40 ? "\"\(text.prefix(40))…\"" : "\"\(text)\""
    }

    private static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Idempotency key of one source record: the same record read twice has the same key,
/// whichever file or position it came from.
package struct EventKey: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    package var rawValue: String
    package init(rawValue: String) { self.rawValue = rawValue }
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    package var description: String { self.rawValue }

    /// `prefix:` + a hash of the record's bytes (concrete overload: see ``StableHash/fnv1a64(_:)-ArraySlice``).
    package static func hashing(_ prefix: String, _ bytes: ArraySlice<UInt8>) -> EventKey {
        EventKey(rawValue: "\(prefix):\(StableHash.hex(StableHash.fnv1a64(bytes)))\(String(bytes.count, radix: 16))")
    }

    package static func hashing(_ prefix: String, _ bytes: [UInt8]) -> EventKey { self.hashing(prefix, bytes[...]) }

    /// `prefix:` + a hash of the record's bytes.
    package static func hashing<C: Collection>(_ prefix: String, _ bytes: C) -> EventKey where C.Element == UInt8 {
        EventKey(rawValue: "\(prefix):\(StableHash.hex(StableHash.fnv1a64(bytes)))\(String(bytes.count, radix: 16))")
    }
}

/// Dial outcome of one leg as the PBX wrote it.
package enum LegDisposition: String, Sendable, Hashable, CaseIterable {
    case answered = "ANSWERED"
    case noAnswer = "NO ANSWER"
    case busy = "BUSY"
    case failed = "FAILED"
    case congestion = "CONGESTION"
    case cancel = "CANCEL"
    case unknown = "UNKNOWN"
}

/// One leg of a call (an Asterisk CDR row, a FreeSWITCH XML CDR): party A, maybe party B.
package struct LegRecord: Hashable, Sendable {
    package var key: EventKey
    package var position: SourcePosition
    /// The call this leg belongs to (linkedid, else the caller's uniqueid).
    package var call: CallKey
    package var uniqueID: String
    /// Party A's caller-ID number (`src`).
    package var source: String
    /// Party A's caller-ID name, Unicode intact.
    package var callerName: String
    /// The extension party A was executing (`dst`).
    package var destination: String
    package var context: String
    package var channel: String
    /// Party B (`dstchannel`); empty when there is none.
    package var peerChannel: String
    package var application: String
    package var applicationData: String
    package var start: Timestamp
    package var answer: Timestamp?
    package var end: Timestamp
    package var billsec: Int
    package var disposition: LegDisposition
    /// Asterisk's `sequence` (orders legs with equal start times), when written.
    package var sequence: Int?

    package init(
        key: EventKey, position: SourcePosition, call: CallKey, uniqueID: String, source: String,
        callerName: String, destination: String, context: String, channel: String, peerChannel: String,
        application: String, applicationData: String, start: Timestamp, answer: Timestamp?, end: Timestamp,
        billsec: Int, disposition: LegDisposition, sequence: Int?
    ) {
        self.key = key
        self.position = position
        self.call = call
        self.uniqueID = uniqueID
        self.source = source
        self.callerName = callerName
        self.destination = destination
        self.context = context
        self.channel = channel
        self.peerChannel = peerChannel
        self.application = application
        self.applicationData = applicationData
        self.start = start
        self.answer = answer
        self.end = end
        self.billsec = billsec
        self.disposition = disposition
        self.sequence = sequence
    }
}

/// What happened in a queue (Asterisk queue_log, mod_callcenter).
package enum QueueEvent: Hashable, Sendable {
    /// Caller joined; the caller-ID number when logged.
    case entered(callerNumber: String)
    /// A member answered: the first-responder event.
    case connected(holdSeconds: Int, memberUniqueID: String)
    /// A member was rung and did not answer.
    case ringNoAnswer
    /// The caller hung up while waiting.
    case abandoned(waitSeconds: Int)
    /// The caller left without being answered (timeout, key, empty queue, withdrawn).
    case exited(reason: String, waitSeconds: Int)
    /// An answered call ended normally.
    case completed
    /// The member transferred the caller (blind, attended, or pre-12 TRANSFER).
    case transferred(extension: String, context: String)
    /// Anything else (membership, pauses, QUEUESTART): kept, never acted on.
    case other(name: String)
}

/// One queue_log line or mod_callcenter event.
package struct QueueRecord: Hashable, Sendable {
    package var key: EventKey
    package var position: SourcePosition
    package var call: CallKey
    package var time: Timestamp
    package var queue: String
    /// Member name or interface as the PBX logged it; empty for `NONE`.
    package var agent: String
    package var event: QueueEvent

    package init(
        key: EventKey, position: SourcePosition, call: CallKey, time: Timestamp, queue: String, agent: String,
        event: QueueEvent
    ) {
        self.key = key
        self.position = position
        self.call = call
        self.time = time
        self.queue = queue
        self.agent = agent
        self.event = event
    }
}

/// A normalised source record: what every input format is decoded into.
package enum CallRecord: Hashable, Sendable {
    case leg(LegRecord)
    case queue(QueueRecord)
    /// A SIP proxy's accounting row (Kamailio `acc`, `missed_calls`, `acc_cdrs`).
    case sip(SIPRecord)
    /// An Asterisk Channel Event Logging row (`cel_custom`).
    case cel(CELRecord)
    /// What the caller did in the IVR menu; belongs to the caller's number, not to a call key.
    case ivr(IVRRecord)

    package var key: EventKey {
        switch self {
        case .leg(let leg): leg.key
        case .queue(let queue): queue.key
        case .sip(let sip): sip.key
        case .cel(let cel): cel.key
        case .ivr(let ivr): ivr.key
        }
    }

    package var call: CallKey {
        switch self {
        case .leg(let leg): leg.call
        case .queue(let queue): queue.call
        case .sip(let sip): sip.call
        case .cel(let cel): cel.call
        case .ivr(let ivr): Self.ivrCallKey(ivr.key)
        }
    }

    /// The call key an IVR event stands under until it is tied to a call (a callback it alone owes).
    package static func ivrCallKey(_ event: EventKey) -> CallKey { CallKey("ivr:\(event.rawValue)") }

    package var position: SourcePosition {
        switch self {
        case .leg(let leg): leg.position
        case .queue(let queue): queue.position
        case .sip(let sip): sip.position
        case .cel(let cel): cel.position
        case .ivr(let ivr): ivr.position
        }
    }

    /// The latest time the record speaks about (drives the event-time watermark).
    package var eventTime: Timestamp {
        switch self {
        case .leg(let leg): leg.end
        case .queue(let queue): queue.time
        case .sip(let sip): sip.time
        case .cel(let cel): cel.time
        case .ivr(let ivr): ivr.time
        }
    }
}

/// What a decoder yields for each row or document.
package enum IngestRecord: Hashable, Sendable {
    case record(CallRecord)
    case reject(Reject)
    /// A well-formed line that carries no call information (queue_log QUEUESTART, blank lines).
    case ignored(SourcePosition)
    /// A line about an agent's place in the queues, not about a call (queue_log `ADDMEMBER`,
    /// `REMOVEMEMBER`, `PAUSE`, `UNPAUSE`…): counted as ignored by the store, read by routing
    /// (``AgentPresence``) in the process that received it.
    case presence(QueueRecord)
}
