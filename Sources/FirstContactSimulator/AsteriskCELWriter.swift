import FirstContactCore

/// Writes simulated calls as Asterisk 13+ Channel Event Logging does with the `cel_custom`
/// sample mapping (`asterisk/cel-custom/Master.csv`, FORMATS §3.1) and `dialplans/asterisk/cel.conf`
/// (`apps=queue,dial`): every channel's CHAN_START … HANGUP, CHAN_END, the bridges it shared,
/// blind transfers, and LINKEDID_END once the call's last channel has gone. Times are
/// `<epoch>.<microseconds>`. The linkedid and the caller's uniqueid are the call's key, as in
/// the CDRs and queue_log the ``AsteriskWriter`` writes for the same call.
struct AsteriskCELWriter {
    let directory: Directory
    private var channelCounter = 0x1000
    private var bridgeCounter = 0

    init(directory: Directory) {
        self.directory = directory
    }

    /// One row before it is written: sorted by time, ties in the order the call produced them.
    private struct Event {
        var time: Timestamp
        var order: Int
        var fields: [String]
    }

    /// The CEL rows of one call, in time order.
    mutating func rows(of call: SimCall) -> [String] {
        var events: [Event] = []
        let hotline = self.directory.configuration.hotlineNumbers.first ?? "s"
        let linkedID = call.key
        var uniqueCounter = 0

        struct Channel {
            var name: String
            var uniqueID: String
            var cidName: String
            var cidNum: String
            var exten: String
            var context: String
            var app = ""
            var appData = ""
        }

        func add(_ type: String, _ time: Timestamp, _ channel: Channel, peer: String = "", extra: String = "") {
            events.append(
                Event(
                    time: time, order: events.count,
                    fields: [
                        type, "", channel.cidName, channel.cidNum, "", "", "", channel.exten, channel.context,
                        channel.name, channel.app, channel.appData, "3", "", channel.uniqueID, linkedID, peer, "", "",
                        extra,
                    ]))
        }
        func newChannel(_ base: String, cidName: String, cidNum: String, exten: String, context: String) -> Channel {
            let name = self.channel(base)
            uniqueCounter += 1
            return Channel(
                name: name, uniqueID: "\(linkedID)-\(uniqueCounter)", cidName: cidName, cidNum: cidNum, exten: exten,
                context: context)
        }
        func hangup(_ channel: Channel, _ time: Timestamp, cause: Int, dialStatus: String = "") {
            add(
                "HANGUP", time, channel,
                extra: "{\"hangupcause\":\(cause),\"hangupsource\":\"\",\"dialstatus\":\"\(dialStatus)\"}")
            add("CHAN_END", time, channel)
        }
        func agentChannel(_ agent: AgentID) -> Channel {
            newChannel(
                "PJSIP/\(agent.rawValue)", cidName: call.callerName, cidNum: call.customerRaw, exten: agent.rawValue,
                context: "from-internal")
        }
        /// The caller and `other` in one bridge from `from` to `until`.
        func bridge(
            _ caller: Channel, _ other: Channel, from: Timestamp, until: Timestamp, transfer: SimTransfer? = nil
        ) {
            self.bridgeCounter += 1
            let bridgeID = "\"bridge_id\":\"sim-bridge-\(self.bridgeCounter)\""
            let id = bridgeID + ",\"bridge_technology\":\"simple_bridge\""
            add("BRIDGE_ENTER", from, caller, peer: other.name, extra: "{\(id)}")
            add("BRIDGE_ENTER", from, other, peer: caller.name, extra: "{\(id)}")
            if let transfer {
                let target = "\"extension\":\"\(transfer.queue)\",\"context\":\"from-internal\""
                let transferee =
                    "\"transferee_channel_name\":\"\(caller.name)\",\"transferee_channel_uniqueid\":\"\(caller.uniqueID)\""
                add("BLINDTRANSFER", transfer.at, other, extra: "{\(target),\(bridgeID),\(transferee)}")
            }
            add("BRIDGE_EXIT", until, other, peer: caller.name, extra: "{\(id)}")
            add("BRIDGE_EXIT", until, caller, extra: "{\(id)}")
        }

        let callerNumber = call.customerRaw
        switch call.shape {
        case .queue:
            guard let queue = call.queue, let entered = call.enteredAt else { break }
            var caller = newChannel(
                "PJSIP/trunk", cidName: call.callerName, cidNum: callerNumber, exten: hotline, context: "from-trunk")
            caller.uniqueID = linkedID
            add("CHAN_START", call.start, caller)
            caller.app = "Answer"
            add("ANSWER", call.start + 1, caller)
            func serve(
                _ queue: String, _ entered: Timestamp, rung: [SimRing], answer: SimAnswer?, transfer: SimTransfer?
            ) {
                caller.app = "Queue"
                caller.appData = "\(queue),t,,,300"
                add("APP_START", entered, caller)
                for ring in rung {
                    let agent = agentChannel(ring.agent)
                    add("CHAN_START", ring.from, agent)
                    hangup(agent, ring.to, cause: 19)
                }
                if let answer {
                    var agent = agentChannel(answer.agent)
                    add("CHAN_START", answer.ringFrom, agent)
                    agent.app = "AppQueue"
                    agent.appData = "(Outgoing Line)"
                    add("ANSWER", answer.at, agent)
                    bridge(caller, agent, from: answer.at, until: answer.until, transfer: transfer)
                    hangup(agent, answer.until, cause: 16)
                }
                if transfer != nil { add("APP_END", transfer?.at ?? entered, caller) }
            }
            if let transfer = call.transfer, let answer = call.answer {
                serve(queue, entered, rung: call.rung, answer: answer, transfer: transfer)
                serve(transfer.queue, transfer.enteredAt, rung: transfer.rung, answer: transfer.answer, transfer: nil)
            } else {
                serve(queue, entered, rung: call.rung, answer: call.answer, transfer: nil)
            }
            hangup(caller, call.end, cause: 16)
            add("LINKEDID_END", call.end, caller)
        case .ivrHangup:
            var caller = newChannel(
                "PJSIP/trunk", cidName: call.callerName, cidNum: callerNumber, exten: hotline, context: "from-trunk")
            caller.uniqueID = linkedID
            add("CHAN_START", call.start, caller)
            caller.app = "Answer"
            add("ANSWER", call.start, caller)
            caller.app = "BackGround"
            caller.appData = "custom/welcome-menu"
            hangup(caller, call.end, cause: 16)
            add("LINKEDID_END", call.end, caller)
        case .directNoAnswer:
            guard let agent = call.agent else { break }
            var caller = newChannel(
                "PJSIP/trunk", cidName: call.callerName, cidNum: callerNumber, exten: call.target,
                context: "from-trunk")
            caller.uniqueID = linkedID
            add("CHAN_START", call.start, caller)
            caller.app = "Dial"
            caller.appData = "PJSIP/\(agent.rawValue),30"
            add("APP_START", call.start, caller)
            let device = agentChannel(agent)
            add("CHAN_START", call.start, device)
            hangup(device, call.end, cause: 16)
            hangup(caller, call.end, cause: 16, dialStatus: "CANCEL")
            add("LINKEDID_END", call.end, caller)
        case .outbound, .internal:
            guard let agent = call.agent else { break }
            let name = self.directory.agent(agent)?.name ?? ""
            var caller = newChannel(
                "PJSIP/\(agent.rawValue)", cidName: name, cidNum: agent.rawValue, exten: call.target,
                context: "from-internal")
            caller.uniqueID = linkedID
            add("CHAN_START", call.start, caller)
            caller.app = "Dial"
            caller.appData =
                call.shape == .outbound ? "PJSIP/\(call.target)@trunk,60" : "PJSIP/\(call.target),30"
            add("APP_START", call.start, caller)
            let calleeBase: String
            if call.shape == .internal, let answer = call.answer {
                calleeBase = "PJSIP/\(answer.agent.rawValue)"
            } else {
                calleeBase = "PJSIP/trunk"
            }
            var callee = newChannel(
                calleeBase, cidName: name, cidNum: agent.rawValue, exten: call.target, context: "from-internal")
            add("CHAN_START", call.start, callee)
            if let answer = call.answer {
                callee.app = "AppDial"
                callee.appData = "(Outgoing Line)"
                add("ANSWER", answer.at, callee)
                add("ANSWER", answer.at, caller)
                bridge(caller, callee, from: answer.at, until: call.end)
                hangup(callee, call.end, cause: 16)
                hangup(caller, call.end, cause: 16, dialStatus: "ANSWER")
            } else {
                hangup(callee, call.end, cause: 19)
                hangup(caller, call.end, cause: 16, dialStatus: "NOANSWER")
            }
            add("LINKEDID_END", call.end, caller)
        }

        events.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        return events.enumerated().map { index, event in
            var fields = event.fields
            // Microseconds that keep the call's order within a second.
            fields[1] = "\(event.time.seconds).\(Digits.pad(min(999_999, index * 1000 + 17), 6))"
            return fields.map(AsteriskWriter.quote).joined(separator: ",")
        }
    }

    private mutating func channel(_ base: String) -> String {
        self.channelCounter += 1
        let hex = String(self.channelCounter, radix: 16)
        return "\(base)-\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
    }
}
