/// Asterisk CEL rows (FORMATS §3) → the legs and queue facts ``CallAssembler`` reads, shaped as
/// Asterisk 12+ CDRs would be (FORMATS §1.6): party A is the caller's channel, each channel
/// rung for it is one leg (answered when it shared a bridge with the caller, directly or through
/// a Local channel pair), and a caller nobody was rung for is one party-A-only leg. So direction,
/// department, first responder, ring-no-answer and transfers follow the same rules as for
/// Master.csv, with what CEL states better than a CDR:
///
/// - a ring-all member that lost the race (HANGUP cause 26, answered elsewhere) is not a leg at
///   all, so it is no miss by that agent;
/// - `BLINDTRANSFER` / `ATTENDEDTRANSFER` become queue `transferred` facts by the transferring
///   agent's channel, as queue_log writes them;
/// - a channel adopted from another linkedid serves this call from the rows it wrote under this
///   linkedid; a channel that left this linkedid for an older one (no HANGUP here, the
///   linkedid's `LINKEDID_END` written) is not part of this call.
extension CallAssembler {
    /// What the CEL rows of one linkedid say.
    struct CELCall {
        var legs: [LegRecord]
        /// `transferred` facts from BLINDTRANSFER / ATTENDEDTRANSFER rows.
        var queue: [QueueRecord]
    }

    /// A time to the microsecond, to order and overlap events within a second.
    private typealias Micros = Int64

    /// One stay of a channel in a bridge.
    private struct Stay {
        var channel: String
        var bridge: String
        var from: Micros
        var to: Micros?
    }

    func celCall(_ key: CallKey, _ unsorted: [CELRecord]) -> CELCall {
        let rows = unsorted.sorted {
            ($0.time, $0.microseconds, $0.position.source, $0.position.offset)
                < ($1.time, $1.microseconds, $1.position.source, $1.position.offset)
        }
        guard let firstRow = rows.first, let lastRow = rows.last else { return CELCall(legs: [], queue: []) }
        func micros(_ row: CELRecord) -> Micros { row.time.seconds * 1_000_000 + Int64(row.microseconds) }
        func seconds(_ value: Micros) -> Timestamp {
            Timestamp(seconds: value >= 0 ? value / 1_000_000 : (value - 999_999) / 1_000_000)
        }
        let callStart = micros(firstRow)
        let callEnd = micros(lastRow)

        var byChannel: [String: [CELRecord]] = [:]
        var channelOrder: [String] = []
        for row in rows where !row.channel.isEmpty {
            if byChannel[row.channel] == nil { channelOrder.append(row.channel) }
            byChannel[row.channel, default: []].append(row)
        }
        // The caller: the channel whose uniqueid is the linkedid (it had no requestor), else the
        // first channel created.
        guard
            let caller = channelOrder.first(where: { name in
                byChannel[name]?.contains { $0.uniqueID == key.rawValue } ?? false
            })
                ?? rows.first(where: { $0.event == .channelStart })?.channel ?? channelOrder.first,
            let callerRows = byChannel[caller]
        else { return CELCall(legs: [], queue: []) }

        func ended(_ name: String) -> Bool {
            byChannel[name]?.contains { $0.event == .hangup || $0.event == .channelEnd } ?? false
        }
        let linkedIDEnded = rows.contains { $0.event == .linkedIDEnd }
        // Moved on to an older linkedid: its rows here are only the call it began as.
        func left(_ name: String) -> Bool { linkedIDEnded && !ended(name) && byChannel[name] != nil }
        if left(caller) { return CELCall(legs: [], queue: []) }

        func end(of name: String) -> Micros {
            let channelRows = byChannel[name] ?? []
            return channelRows.first { $0.event == .hangup || $0.event == .channelEnd }.map(micros)
                ?? channelRows.last.map(micros) ?? callEnd
        }

        // Bridge stays: 12+ rows name the bridge; a pre-12 BRIDGE_START is a two-party bridge
        // between the channel and its peer.
        var stays: [Stay] = []
        func pairBridge(_ a: String, _ b: String) -> String { "pair:" + [a, b].sorted().joined(separator: "|") }
        func peers(_ row: CELRecord) -> [String] {
            row.peer.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty && $0 != row.channel }
        }
        for row in rows {
            let at = micros(row)
            switch row.event {
            case .bridgeEnter:
                let others = peers(row)
                let bridge =
                    !row.extra.bridgeID.isEmpty ? row.extra.bridgeID : pairBridge(row.channel, others.first ?? "")
                stays.append(Stay(channel: row.channel, bridge: bridge, from: at, to: nil))
                // Members already in the bridge, known here only as peers (a channel adopted from
                // another linkedid may have entered the bridge before it adopted this one).
                for other in others
                where !stays.contains(where: { $0.channel == other && $0.bridge == bridge && $0.to == nil }) {
                    stays.append(Stay(channel: other, bridge: bridge, from: at, to: nil))
                }
            case .bridgeExit:
                let others = peers(row)
                let bridge =
                    !row.extra.bridgeID.isEmpty ? row.extra.bridgeID : pairBridge(row.channel, others.first ?? "")
                let closing = row.extra.bridgeID.isEmpty ? [row.channel] + others : [row.channel]
                for name in closing {
                    if let open = stays.lastIndex(where: { $0.channel == name && $0.bridge == bridge && $0.to == nil })
                    {
                        stays[open].to = at
                    } else if name == row.channel {
                        // Entered under another linkedid: in the bridge since this call began, as far as it knows.
                        stays.append(Stay(channel: name, bridge: bridge, from: callStart, to: at))
                    }
                }
            case .hangup, .channelEnd:
                for index in stays.indices where stays[index].channel == row.channel && stays[index].to == nil {
                    stays[index].to = at
                }
            default:
                break
            }
        }
        for index in stays.indices where stays[index].to == nil {
            stays[index].to = min(end(of: stays[index].channel), callEnd)
        }

        // When each channel was with the caller: sharing a bridge, or sharing one with the other
        // half of a Local channel pair that shares one with the caller.
        var together: [String: [(from: Micros, to: Micros)]] = [:]
        var frontier: [(channel: String, from: Micros, to: Micros)] = stays.filter { $0.channel == caller }.map {
            ($0.channel, $0.from, $0.to ?? callEnd)
        }
        var reached: Set<String> = [caller]
        var depth = 0
        while !frontier.isEmpty, depth < 4 {
            depth += 1
            var next: [(channel: String, from: Micros, to: Micros)] = []
            for (channel, from, to) in frontier {
                for mine in stays where mine.channel == channel {
                    let mineFrom = max(mine.from, from)
                    let mineTo = min(mine.to ?? callEnd, to)
                    guard mineFrom < mineTo else { continue }
                    for other in stays where other.bridge == mine.bridge && other.channel != channel {
                        let overlapFrom = max(other.from, mineFrom)
                        let overlapTo = min(other.to ?? callEnd, mineTo)
                        guard overlapFrom < overlapTo, other.channel != caller else { continue }
                        together[other.channel, default: []].append((overlapFrom, overlapTo))
                        if let sibling = Self.localSibling(other.channel), !reached.contains(sibling) {
                            reached.insert(sibling)
                            next.append((sibling, overlapFrom, overlapTo))
                        }
                    }
                }
            }
            frontier = next
        }
        // Without bridge events (cel.conf lists none) a channel answered for the caller served it.
        if !rows.contains(where: { $0.event == .bridgeEnter }) {
            for name in channelOrder where name != caller {
                if let answer = byChannel[name]?.first(where: { $0.event == .answer }) {
                    together[name] = [(micros(answer), end(of: name))]
                }
            }
        }

        // What the caller was doing when a leg began: its application (Queue, Dial…) then.
        let callerNumber = callerRows.first { !$0.callerNumber.isEmpty }?.callerNumber ?? ""
        let callerName = callerRows.first { !$0.callerName.isEmpty }?.callerName ?? ""
        let origin = callerRows.first { $0.event == .channelStart } ?? callerRows.first { !$0.exten.isEmpty }
        let dialled = origin?.exten ?? ""
        let context = origin?.context ?? callerRows.first { !$0.context.isEmpty }?.context ?? ""
        func application(at time: Micros) -> (name: String, data: String) {
            let row =
                callerRows.last { micros($0) <= time && $0.event == .appStart }
                ?? callerRows.last { micros($0) <= time && !$0.application.isEmpty }
                ?? callerRows.first { !$0.application.isEmpty }
            return (row?.application ?? "", row?.applicationData ?? "")
        }
        let callerUniqueID = callerRows.first { !$0.uniqueID.isEmpty }?.uniqueID ?? key.rawValue

        func leg(
            _ source: CELRecord, peer: String, start: Micros, answer: Micros?, end: Micros, disposition: LegDisposition,
            appAt: Micros
        ) -> LegRecord {
            let app = application(at: appAt)
            let answerTime = answer.map(seconds)
            let endTime = seconds(end)
            return LegRecord(
                key: EventKey(rawValue: "cel-leg:\(source.key.rawValue)"), position: source.position, call: key,
                uniqueID: callerUniqueID, source: callerNumber, callerName: callerName, destination: dialled,
                context: context, channel: caller, peerChannel: peer, application: app.name,
                applicationData: app.data, start: seconds(start), answer: answerTime, end: endTime,
                // Sharing a bridge with the caller is being answered, however short.
                billsec: answerTime.map { max(1, Int(endTime - $0)) } ?? 0, disposition: disposition, sequence: nil)
        }

        var legs: [LegRecord] = []
        let peerNames = channelOrder + together.keys.filter { byChannel[$0] == nil }.sorted()
        for name in peerNames where name != caller && !left(name) {
            let channelRows = byChannel[name] ?? []
            let isAgent = self.directory.agent(forChannel: name) != nil
            if !isAgent, Self.isHelperChannel(name) { continue }
            let begin = channelRows.first.map(micros)
            if let spans = together[name]?.sorted(by: { $0.from < $1.from }), let first = spans.first {
                let last = spans.map(\.to).max() ?? first.to
                let evidence =
                    channelRows.first { $0.event == .bridgeEnter } ?? channelRows.first
                    ?? callerRows.first { $0.event == .bridgeEnter && $0.peer.contains(name) } ?? firstRow
                let start = min(begin ?? first.from, first.from)
                legs.append(
                    leg(
                        evidence, peer: name, start: start, answer: first.from, end: last, disposition: .answered,
                        appAt: start))
                continue
            }
            // Rung for this caller and not answered: only a channel created for the call (one
            // adopted from another call that never met the caller was not rung for it).
            guard let created = channelRows.first(where: { $0.event == .channelStart }) else { continue }
            let hangup = channelRows.first { $0.event == .hangup }
            let cause = hangup?.extra.hangupCause
            // Answered elsewhere: a ring-all member that lost the race missed nothing.
            if cause == 26 { continue }
            let status = hangup?.extra.dialStatus.uppercased() ?? ""
            let disposition: LegDisposition =
                if cause == 17 || status == "BUSY" {
                    .busy
                } else if let cause, Self.failureCauses.contains(cause) || status == "CHANUNAVAIL" {
                    .failed
                } else if status == "CONGESTION" {
                    .congestion
                } else {
                    .noAnswer
                }
            legs.append(
                leg(
                    hangup ?? created, peer: name, start: micros(created), answer: nil, end: end(of: name),
                    disposition: disposition, appAt: micros(created)))
        }
        // Asterisk opens party A's first CDR when the channel appears; later legs start at their dial.
        if let index = legs.indices.min(by: { legs[$0].start < legs[$1].start }) {
            legs[index].start = seconds(min(callerRows.first.map(micros) ?? callStart, callStart))
        }
        // Nobody rung (IVR, voicemail, a hang-up in the menu): one party-A-only leg, answered
        // when the PBX answered the caller.
        let lastApplication = callerRows.last { !$0.application.isEmpty }
        if legs.isEmpty || lastApplication?.application.lowercased() == "voicemail" {
            let begin = callerRows.first.map(micros) ?? callStart
            let finish = end(of: caller)
            let answered = callerRows.first { $0.event == .answer }.map(micros)
            var only = leg(
                callerRows.first ?? firstRow, peer: "", start: begin, answer: answered, end: finish,
                disposition: answered != nil ? .answered : .noAnswer, appAt: finish)
            if let answered { only.billsec = max(0, Int(seconds(finish) - seconds(answered))) }
            legs.append(only)
        }

        var queue: [QueueRecord] = []
        // The caller hung up while queued and nobody ever answered: what queue_log writes as
        // ABANDON, with the wait since the Queue application started.
        if !legs.contains(where: { $0.disposition == .answered && !$0.peerChannel.isEmpty }),
            let hangup = callerRows.first(where: { $0.event == .hangup }),
            let queued = callerRows.last(where: {
                $0.event == .appStart && $0.application.lowercased() == "queue" && micros($0) <= micros(hangup)
            }),
            !callerRows.contains(where: {
                $0.event == .appEnd && $0.application.lowercased() == "queue" && micros($0) >= micros(queued)
                    && micros($0) <= micros(hangup)
            })
        {
            queue.append(
                QueueRecord(
                    key: EventKey(rawValue: "cel-abandon:\(hangup.key.rawValue)"), position: hangup.position, call: key,
                    time: hangup.time, queue: Self.queueName(ofData: queued.applicationData), agent: "",
                    event: .abandoned(waitSeconds: Int(hangup.time - queued.time))))
        }
        // Transfers, written by the transferring agent's channel as queue_log writes them.
        for row in rows {
            let target: String
            switch row.event {
            case .blindTransfer:
                target = row.extra.transferExtension
            case .attendedTransfer:
                let channel = row.extra.transferTargetChannel
                let agent = self.directory.agent(forChannel: channel)
                target = agent.flatMap { self.directory.agent($0)?.extensions.first } ?? agent?.rawValue ?? ""
            default:
                continue
            }
            let app = application(at: micros(row))
            let queueName = app.name.lowercased() == "queue" ? Self.queueName(ofData: app.data) : ""
            queue.append(
                QueueRecord(
                    key: EventKey(rawValue: "cel-transfer:\(row.key.rawValue)"), position: row.position, call: key,
                    time: row.time, queue: queueName, agent: row.channel,
                    event: .transferred(extension: target, context: row.extra.transferContext)))
        }
        return CELCall(legs: legs, queue: queue)
    }

    /// `hotline,t,,,300` → `hotline`.
    private static func queueName(ofData data: String) -> String {
        String(data.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// Q.850 causes a CDR reports as FAILED (FORMATS §1.4, §7.1).
    private static let failureCauses: Set<Int> = [1, 2, 3, 20, 21, 22, 27, 28, 29, 31, 34, 38, 41, 42, 44, 58, 88]

    /// Channels that carry media for the PBX itself, never a person: holding-bridge announcers,
    /// recorders, snoops, and Local channel halves (the device behind one is reached through
    /// its bridges).
    private static func isHelperChannel(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return ["local/", "announcer/", "recorder/", "cbann/", "cbrec/", "snoop/", "bridge/"].contains {
            lowered.hasPrefix($0)
        }
    }

    /// `Local/x@ctx-0001;1` ↔ `Local/x@ctx-0001;2`.
    private static func localSibling(_ name: String) -> String? {
        guard name.lowercased().hasPrefix("local/") else { return nil }
        if name.hasSuffix(";1") { return String(name.dropLast()) + "2" }
        if name.hasSuffix(";2") { return String(name.dropLast()) + "1" }
        return nil
    }
}

extension String {
    fileprivate var trimmed: String {
        var text = self[...]
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
