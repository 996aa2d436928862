import FirstContactCore
import Foundation

/// Writes simulated calls the way Asterisk 13+ does: Master.csv rows in the 21-column layout
/// (loguniqueid, loguserfield, newcdrcolumns) in local time, and queue_log lines.
struct AsteriskWriter {
    let directory: Directory
    let zone: ZoneRules
    private(set) var sequence = 0
    private var channelCounter = 0x1000

    init(directory: Directory, zone: ZoneRules) {
        self.directory = directory
        self.zone = zone
    }

    /// The CDR rows and queue_log lines of one call.
    mutating func records(of call: SimCall) -> (cdr: [String], queueLog: [String]) {
        var cdr: [String] = []
        var queueLog: [String] = []
        let trunk = self.channel("PJSIP/trunk")
        let uniqueID = call.key
        let clid = call.callerName.isEmpty ? call.customerRaw : "\"\(call.callerName)\" <\(call.customerRaw)>"
        let hotline = self.directory.configuration.hotlineNumbers.first ?? "s"

        func row(
            src: String, dst: String, context: String, clid: String, channel: String, peer: String, app: String,
            data: String, start: Timestamp, answer: Timestamp?, end: Timestamp, disposition: String
        ) -> String {
            let billsec = answer.map { end - $0 } ?? 0
            self.sequence += 1
            let fields: [String] = [
                Self.quote(""), Self.quote(src), Self.quote(dst), Self.quote(context), Self.quote(clid),
                Self.quote(channel),
                Self.quote(peer), Self.quote(app), Self.quote(data), self.time(start), answer.map(self.time) ?? "",
                self.time(end), String(end - start), String(billsec), Self.quote(disposition),
                Self.quote("DOCUMENTATION"),
                Self.quote(uniqueID), Self.quote(""), Self.quote(""), Self.quote(uniqueID), String(self.sequence),
            ]
            return fields.joined(separator: ",")
        }
        func member(_ agent: AgentID) -> String { self.directory.agent(agent)?.name ?? agent.rawValue }
        func device(_ agent: AgentID) -> String { self.channel("PJSIP/\(agent.rawValue)") }

        switch call.shape {
        case .queue:
            guard let queue = call.queue, let entered = call.enteredAt else { break }
            let data = "\(queue),t,,,300"
            var first = true
            // Asterisk opens party A's first CDR when the channel appears; later dials start new CDRs.
            func legStart(_ time: Timestamp) -> Timestamp {
                defer { first = false }
                return first ? call.start : time
            }
            queueLog.append(
                "\(entered.seconds)|\(uniqueID)|\(queue)|NONE|ENTERQUEUE||\(call.customerRaw == "anonymous" ? "" : call.customerRaw)|1"
            )
            func serve(
                _ queue: String, _ data: String, _ entered: Timestamp, rung: [SimRing], answer: SimAnswer?,
                endsAt: Timestamp, transferAfter: SimTransfer?
            ) {
                for ring in rung {
                    cdr.append(
                        row(
                            src: call.customerRaw, dst: hotline, context: "from-trunk", clid: clid, channel: trunk,
                            peer: device(ring.agent), app: "Queue", data: data, start: legStart(ring.from), answer: nil,
                            end: ring.to, disposition: "NO ANSWER"))
                    queueLog.append("\(ring.to.seconds)|\(uniqueID)|\(queue)|\(member(ring.agent))|RINGNOANSWER|15000")
                }
                if let answer {
                    let agentChannel = device(answer.agent)
                    cdr.append(
                        row(
                            src: call.customerRaw, dst: hotline, context: "from-trunk", clid: clid, channel: trunk,
                            peer: agentChannel, app: "Queue", data: data, start: legStart(answer.ringFrom),
                            answer: answer.at,
                            end: answer.until, disposition: "ANSWERED"))
                    let hold = answer.at - entered
                    queueLog.append(
                        "\(answer.at.seconds)|\(uniqueID)|\(queue)|\(member(answer.agent))|CONNECT|\(hold)|\(answer.at.seconds).\(self.channelCounter)|\(answer.at - answer.ringFrom)"
                    )
                    let talk = answer.until - answer.at
                    if let transfer = transferAfter {
                        queueLog.append(
                            "\(transfer.at.seconds)|\(uniqueID)|\(queue)|\(member(answer.agent))|BLINDTRANSFER|\(transfer.queue)|from-internal|\(hold)|\(talk)|1"
                        )
                    } else {
                        queueLog.append(
                            "\(answer.until.seconds)|\(uniqueID)|\(queue)|\(member(answer.agent))|COMPLETECALLER|\(hold)|\(talk)|1"
                        )
                    }
                } else if rung.isEmpty && first {
                    // Nobody was rung: only the IVR's answer shows in the CDR.
                    cdr.append(
                        row(
                            src: call.customerRaw, dst: hotline, context: "from-trunk", clid: clid, channel: trunk,
                            peer: "", app: "Queue", data: data, start: legStart(call.start), answer: call.start + 1,
                            end: endsAt, disposition: "ANSWERED"))
                    queueLog.append("\(endsAt.seconds)|\(uniqueID)|\(queue)|NONE|ABANDON|1|1|\(endsAt - entered)")
                } else {
                    queueLog.append("\(endsAt.seconds)|\(uniqueID)|\(queue)|NONE|ABANDON|1|1|\(endsAt - entered)")
                }
            }
            if let transfer = call.transfer, let answer = call.answer {
                serve(
                    queue, data, entered, rung: call.rung, answer: answer, endsAt: answer.until, transferAfter: transfer
                )
                queueLog.append(
                    "\(transfer.enteredAt.seconds)|\(uniqueID)|\(transfer.queue)|NONE|ENTERQUEUE||\(call.customerRaw)|1"
                )
                serve(
                    transfer.queue, "\(transfer.queue),t,,,300", transfer.enteredAt, rung: transfer.rung,
                    answer: transfer.answer, endsAt: call.end, transferAfter: nil)
            } else {
                serve(queue, data, entered, rung: call.rung, answer: call.answer, endsAt: call.end, transferAfter: nil)
            }
        case .ivrHangup:
            cdr.append(
                row(
                    src: call.customerRaw, dst: hotline, context: "from-trunk", clid: clid, channel: trunk, peer: "",
                    app: "BackGround", data: "custom/welcome-menu", start: call.start, answer: call.start,
                    end: call.end, disposition: "ANSWERED"))
        case .directNoAnswer:
            guard let agent = call.agent else { break }
            cdr.append(
                row(
                    src: call.customerRaw, dst: call.target, context: "from-trunk", clid: clid, channel: trunk,
                    peer: device(agent), app: "Dial", data: "PJSIP/\(agent.rawValue),30", start: call.start,
                    answer: nil, end: call.end, disposition: "NO ANSWER"))
        case .outbound:
            guard let agent = call.agent else { break }
            let name = self.directory.agent(agent)?.name ?? ""
            cdr.append(
                row(
                    src: agent.rawValue, dst: call.target, context: "from-internal",
                    clid: "\"\(name)\" <\(agent.rawValue)>", channel: device(agent), peer: trunk, app: "Dial",
                    data: "PJSIP/\(call.target)@trunk,60", start: call.start, answer: call.answer?.at, end: call.end,
                    disposition: call.answered ? "ANSWERED" : "NO ANSWER"))
        case .internal:
            guard let agent = call.agent, let answer = call.answer else { break }
            let name = self.directory.agent(agent)?.name ?? ""
            cdr.append(
                row(
                    src: agent.rawValue, dst: call.target, context: "from-internal",
                    clid: "\"\(name)\" <\(agent.rawValue)>", channel: device(agent), peer: device(answer.agent),
                    app: "Dial", data: "PJSIP/\(call.target),30", start: call.start, answer: answer.at, end: call.end,
                    disposition: "ANSWERED"))
        }
        return (cdr, queueLog)
    }

    private mutating func channel(_ base: String) -> String {
        self.channelCounter += 1
        let hex = String(self.channelCounter, radix: 16)
        return "\(base)-\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
    }

    private func time(_ instant: Timestamp) -> String {
        Self.quote(self.zone.local(instant).asteriskText)
    }

    /// cdr_csv quoting: always quoted, embedded quotes doubled.
    static func quote(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
