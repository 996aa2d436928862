import Testing

@testable import FirstContactCore

// A tiny DSL for correlation scenarios: a fixed hotline configuration, records written the way
// Asterisk writes them (Master.csv rows in the 21-column layout, queue_log lines), and the two
// pure steps of the engine (`CallAssembler` per call key, `Correlator` per customer).

// MARK: - Time

/// A local wall-clock reading of the hotline (`YYYY-MM-DD HH:MM:SS`, fixed +08:00) as an instant.
func at(_ local: String) -> Timestamp {
    guard let reading = LocalDateTime(bytes: Array(local.utf8)) else { fatalError("bad local time \(local)") }
    return ScenarioKit.zone.instant(reading)
}

/// An instant written in UTC (`2026-11-26T02:30:40Z`).
func utc(_ text: String) -> Timestamp {
    guard let instant = Timestamp(iso8601: text) else { fatalError("bad instant \(text)") }
    return instant
}

// MARK: - Configuration

/// The test hotline: three departments, six agents, an office calendar and a 24/7 one.
enum ScenarioKit {
    static let zone = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)

    /// The number most scenarios' customer calls from, as the trunk delivers it, and its key.
    static let customer = "13812345678"
    static let customerKey = "+8613812345678"
    /// A second customer, for scenarios with more than one number.
    static let otherCustomer = "13987654321"
    static let otherCustomerKey = "+8613987654321"

    static func interval(_ text: String) -> BusinessCalendar.Interval {
        guard let interval = BusinessCalendar.Interval(text: text) else { fatalError("bad interval \(text)") }
        return interval
    }

    /// Mon–Fri 08:30-12:00 and 14:00-17:30 in +08:00; no holidays.
    static let office: BusinessCalendar = {
        let day = [interval("08:30-12:00"), interval("14:00-17:30")]
        return BusinessCalendar(name: "office", zone: zone, week: [day, day, day, day, day, [], []])
    }()

    static let service = DepartmentID("service")
    static let repairs = DepartmentID("repairs")
    static let billing = DepartmentID("billing")

    /// - Parameter policy: changes to the default policy (`max_transfers` …) for one scenario.
    static func configuration(policy adjust: (inout Policy) -> Void = { _ in }) -> FirstContactConfiguration {
        var policy = Policy()
        adjust(&policy)
        func agent(_ id: String, _ name: String, _ department: DepartmentID, _ role: Agent.Role = .agent) -> Agent {
            Agent(id: AgentID(id), name: name, department: department, role: role, devices: ["PJSIP/\(id)"])
        }
        return FirstContactConfiguration(
            timezone: zone,
            countryCode: "86",
            nationalPrefix: "0",
            outboundPrefix: "",
            hotlineNumbers: ["96116"],
            departments: [
                Department(
                    id: service, name: "客户服务中心", head: AgentID("8001"), queues: ["hotline"], dids: ["96116"],
                    category: .service, hours: .calendar(office), callbackSLA: 30 * 60, handoffAckSLA: 15 * 60,
                    handoffSLA: 2 * 3600, escalateAfter: 3600),
                Department(
                    id: repairs, name: "抢修中心", head: AgentID("8003"), queues: ["repairs"], dids: [],
                    category: .service, hours: .always, callbackSLA: 30 * 60, handoffAckSLA: 10 * 60,
                    handoffSLA: 3600, escalateAfter: 30 * 60),
                Department(
                    id: billing, name: "营业收费", head: nil, queues: ["billing"], dids: [],
                    category: .inquiry, hours: .calendar(office)),
            ],
            agents: [
                agent("1001", "张敏", service),
                agent("1002", "李娜", service),
                agent("1011", "王强", repairs),
                agent("1021", "赵丽", billing),
                agent("8001", "陈刚", service, .head),
                agent("8003", "刘洋", repairs, .head),
            ],
            calendars: ["office": office],
            policy: policy
        )
    }

    static let directory = Directory(configuration: configuration())

    static func directory(policy adjust: (inout Policy) -> Void) -> Directory {
        Directory(configuration: configuration(policy: adjust))
    }

    // MARK: Engine

    /// Groups records by call key and assembles each call (calls sorted by key).
    static func calls(from records: [CallRecord], directory: Directory = directory) -> [Call] {
        var byCall: [CallKey: [CallRecord]] = [:]
        for record in records { byCall[record.call, default: []].append(record) }
        let assembler = CallAssembler(directory: directory)
        return assembler.assembleCalls(byCall.keys.sorted().map { ($0, byCall[$0] ?? []) })
    }

    /// The derivation of one customer from every record of the scenario.
    static func derive(
        _ records: [CallRecord], customer: String = customerKey, clock: Timestamp, directory: Directory = directory
    ) -> Derivation {
        let mine = calls(from: records, directory: directory).filter { $0.customerKey == customer }
        return Correlator(directory: directory).derive(customerKey: customer, calls: mine, clock: clock)
    }

    /// Every customer's derivation (internal calls, which have no customer, are left out).
    static func deriveAll(_ calls: [Call], clock: Timestamp, directory: Directory = directory) -> [String: Derivation] {
        var byCustomer: [String: [Call]] = [:]
        for call in calls {
            guard let key = call.customerKey else { continue }
            byCustomer[key, default: []].append(call)
        }
        let correlator = Correlator(directory: directory)
        var result: [String: Derivation] = [:]
        for (key, calls) in byCustomer { result[key] = correlator.derive(customerKey: key, calls: calls, clock: clock) }
        return result
    }
}

// MARK: - Records as Asterisk writes them

/// One PBX's output for a stretch of traffic: `Master.csv` rows (one per leg, 21-column layout,
/// `linkedid` = the caller channel's `uniqueid`) and `queue_log` lines, in the order written.
final class PBX {
    static let cdrFile = "/var/log/asterisk/cdr-csv/Master.csv"
    static let queueLogFile = "/var/log/asterisk/queue_log"

    private(set) var records: [CallRecord] = []
    private var cdrOffset: Int64 = 0
    private var cdrLines = 0
    private var queueOffset: Int64 = 0
    private var queueLines = 0
    private var channels = 0x2a

    init() {}

    /// A fresh channel name for a device: `PJSIP/1001-0000002b`.
    func channel(_ device: String) -> String {
        self.channels += 1
        let hex = String(self.channels, radix: 16)
        return "\(device)-\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
    }

    /// One Master.csv row.
    @discardableResult
    func cdr(
        call: CallKey, src: String, dst: String, context: String, channel: String, dstChannel: String,
        app: String, data: String, start: Timestamp, answer: Timestamp?, end: Timestamp, disposition: LegDisposition
    ) -> CallRecord {
        let billsec = answer.map { Int(end - $0) } ?? 0
        let show = { (t: Timestamp?) in t.map { ScenarioKit.zone.local($0).asteriskText } ?? "" }
        let line = [
            "\"\"", "\"\(src)\"", "\"\(dst)\"", "\"\(context)\"", "\"\"\"\" <\(src)>\"", "\"\(channel)\"",
            "\"\(dstChannel)\"", "\"\(app)\"", "\"\(data)\"", "\"\(show(start))\"", "\"\(show(answer))\"",
            "\"\(show(end))\"", "\(end - start)", "\(billsec)", "\"\(disposition.rawValue)\"", "\"DOCUMENTATION\"",
            "\"\"", "\"\(call.rawValue)\"", "\"\(call.rawValue)\"", "\"\"", "\(self.cdrLines)",
        ].joined(separator: ",")
        self.cdrLines += 1
        let position = SourcePosition(source: Self.cdrFile, line: self.cdrLines, offset: self.cdrOffset)
        self.cdrOffset += Int64(line.utf8.count + 1)
        let leg = LegRecord(
            key: EventKey.hashing("cdr", Array(line.utf8)), position: position, call: call, uniqueID: call.rawValue,
            source: src, callerName: "", destination: dst, context: context, channel: channel, peerChannel: dstChannel,
            application: app, applicationData: data, start: start, answer: answer, end: end, billsec: billsec,
            disposition: disposition, sequence: self.cdrLines)
        self.records.append(.leg(leg))
        return .leg(leg)
    }

    /// One queue_log line: `epoch|callid|queue|agent|EVENT|data…`.
    @discardableResult
    func queueLog(call: CallKey, at time: Timestamp, queue: String, agent: String, _ event: QueueEvent) -> CallRecord {
        let data: String
        switch event {
        case .entered(let number): data = "ENTERQUEUE||\(number)|1"
        case .connected(let hold, let member): data = "CONNECT|\(hold)|\(member)|3"
        case .ringNoAnswer: data = "RINGNOANSWER|15000"
        case .abandoned(let wait): data = "ABANDON|1|1|\(wait)"
        case .exited(let reason, let wait): data = "\(reason)|1|1|\(wait)"
        case .completed: data = "COMPLETECALLER|10|120|1"
        case .transferred(let ext, let context) where ext.isEmpty:
            // Asterisk 12+: `ATTENDEDTRANSFER|<method>|<bridge or app>|hold|talk|position`.
            data = "ATTENDEDTRANSFER|\(context)|\(call.rawValue)-bridge|10|120|1"
        case .transferred(let ext, let context): data = "BLINDTRANSFER|\(ext)|\(context)|10|120|1"
        case .other(let name): data = name
        }
        let line = "\(time.seconds)|\(call.rawValue)|\(queue)|\(agent.isEmpty ? "NONE" : agent)|\(data)"
        self.queueLines += 1
        let position = SourcePosition(source: Self.queueLogFile, line: self.queueLines, offset: self.queueOffset)
        self.queueOffset += Int64(line.utf8.count + 1)
        let record = QueueRecord(
            key: EventKey.hashing("qlog", Array(line.utf8)), position: position, call: call, time: time, queue: queue,
            agent: agent, event: event)
        self.records.append(.queue(record))
        return .queue(record)
    }

    /// A customer's call reaching the PBX on the trunk (`from-trunk`), by default on the hotline DID.
    func inbound(_ id: String, from number: String = ScenarioKit.customer, dialled: String = "96116", at start: String)
        -> InboundCall
    {
        InboundCall(pbx: self, key: CallKey(id), number: number, dialled: dialled, start: start)
    }

    /// An agent dialling an outside number from their phone.
    ///
    /// - Parameters:
    ///   - answered: when the customer picked up (nil: nobody did).
    ///   - disposition: what Asterisk wrote for an unanswered attempt (`NO ANSWER`, `BUSY` …).
    @discardableResult
    func outbound(
        _ id: String, by agent: String, to number: String = ScenarioKit.customer, at start: String,
        answered answer: String? = nil, until end: String, disposition: LegDisposition = .noAnswer
    ) -> CallKey {
        let key = CallKey(id)
        let date = String(start.prefix(10))
        let answerTime = answer.map { at(InboundCall.full($0, date)) }
        self.cdr(
            call: key, src: agent, dst: number, context: "from-internal", channel: self.channel("PJSIP/\(agent)"),
            dstChannel: self.channel("PJSIP/trunk"), app: "Dial", data: "PJSIP/\(number)@trunk,60",
            start: at(start), answer: answerTime, end: at(InboundCall.full(end, date)),
            disposition: answerTime == nil ? disposition : .answered)
        return key
    }

    /// One agent calling another's extension.
    @discardableResult
    func internalCall(
        _ id: String, from caller: String, to callee: String, at start: String, answered answer: String?,
        until end: String
    )
        -> CallKey
    {
        let key = CallKey(id)
        let date = String(start.prefix(10))
        let answerTime = answer.map { at(InboundCall.full($0, date)) }
        self.cdr(
            call: key, src: caller, dst: callee, context: "from-internal", channel: self.channel("PJSIP/\(caller)"),
            dstChannel: self.channel("PJSIP/\(callee)"), app: "Dial", data: "PJSIP/\(callee),30",
            start: at(start), answer: answerTime, end: at(InboundCall.full(end, date)),
            disposition: answerTime == nil ? .noAnswer : .answered)
        return key
    }
}

/// The caller side of one inbound call, written step by step in the order things happen.
///
/// Times are `HH:MM:SS` on the call's date, or full `YYYY-MM-DD HH:MM:SS`.
final class InboundCall {
    let pbx: PBX
    let key: CallKey
    let number: String
    let dialled: String
    let date: String
    /// The caller's channel: `PJSIP/trunk-000000xx`.
    let trunk: String
    /// Queue the caller is waiting in, if any.
    private(set) var queue: String?
    private var enteredAt: Timestamp?
    /// Where the caller's next dial attempt starts: the call's start, then the end of the last step.
    private var cursor: Timestamp
    /// Context and `dst` of the caller's legs (the transfer target's after a transfer).
    private var context = "from-trunk"
    private var destination: String

    init(pbx: PBX, key: CallKey, number: String, dialled: String, start: String) {
        self.pbx = pbx
        self.key = key
        self.number = number
        self.dialled = dialled
        self.date = String(start.prefix(10))
        self.trunk = pbx.channel("PJSIP/trunk")
        self.cursor = at(start)
        self.destination = dialled
    }

    static func full(_ time: String, _ date: String) -> String { time.utf8.count == 8 ? "\(date) \(time)" : time }

    func time(_ text: String) -> Timestamp { at(Self.full(text, self.date)) }

    var records: [CallRecord] { self.pbx.records.filter { $0.call == self.key } }

    private var application: (app: String, data: String) {
        if let queue { return ("Queue", "\(queue),t") }
        return ("Dial", "")
    }

    /// ENTERQUEUE: the caller joins a queue (at the current point of the call unless told).
    @discardableResult
    func queue(_ name: String, at text: String? = nil) -> Self {
        let time = text.map(self.time) ?? self.cursor
        self.queue = name
        self.enteredAt = time
        self.cursor = time
        self.pbx.queueLog(call: self.key, at: time, queue: name, agent: "", .entered(callerNumber: self.number))
        return self
    }

    /// An agent's phone rang and nobody picked up (a CDR leg to the agent; RINGNOANSWER in a queue).
    @discardableResult
    func rings(_ agent: String, from start: String? = nil, until end: String, disposition: LegDisposition = .noAnswer)
        -> Self
    {
        let from = start.map(self.time) ?? self.cursor
        let until = self.time(end)
        let (app, data) = self.application
        self.pbx.cdr(
            call: self.key, src: self.number, dst: self.destination, context: self.context, channel: self.trunk,
            dstChannel: self.pbx.channel("PJSIP/\(agent)"), app: app, data: app == "Dial" ? "PJSIP/\(agent),30" : data,
            start: from, answer: nil, end: until, disposition: disposition)
        if let queue {
            self.pbx.queueLog(call: self.key, at: until, queue: queue, agent: "PJSIP/\(agent)", .ringNoAnswer)
        }
        self.cursor = until
        return self
    }

    /// An agent answered and served the caller until `end` (CDR leg ANSWERED; CONNECT and
    /// COMPLETECALLER in a queue). With `transferTo`, the agent blind-transferred the caller at
    /// `end` instead (BLINDTRANSFER in a queue); the caller then runs the target's dialplan.
    /// `completes: false` leaves the service open for a step that ends it (an attended transfer).
    @discardableResult
    func answered(
        by agent: String, at answer: String, until end: String, ringingFrom start: String? = nil,
        transferTo target: String? = nil, writeCDR: Bool = true, writeQueueLog: Bool = true, completes: Bool = true
    ) -> Self {
        let from = start.map(self.time) ?? self.cursor
        let answerTime = self.time(answer)
        let until = self.time(end)
        let (app, data) = self.application
        if writeCDR {
            self.pbx.cdr(
                call: self.key, src: self.number, dst: self.destination, context: self.context, channel: self.trunk,
                dstChannel: self.pbx.channel("PJSIP/\(agent)"), app: app,
                data: app == "Dial" ? "PJSIP/\(agent),30" : data, start: from, answer: answerTime, end: until,
                disposition: .answered)
        }
        if let queue, writeQueueLog {
            let hold = Int(answerTime - (self.enteredAt ?? from))
            self.pbx.queueLog(
                call: self.key, at: answerTime, queue: queue, agent: "PJSIP/\(agent)",
                .connected(holdSeconds: hold, memberUniqueID: "\(self.key.rawValue)-\(agent)"))
            if let target {
                self.pbx.queueLog(
                    call: self.key, at: until, queue: queue, agent: "PJSIP/\(agent)",
                    .transferred(extension: target, context: "from-internal"))
            } else if completes {
                self.pbx.queueLog(call: self.key, at: until, queue: queue, agent: "PJSIP/\(agent)", .completed)
            }
        }
        if let target {
            self.queue = nil
            self.enteredAt = nil
            self.context = "from-internal"
            self.destination = target
        }
        self.cursor = until
        return self
    }

    /// The agent serving the caller consulted `target` on a second line and completed an
    /// attended transfer at `end`: the consultation is a call of its own (an internal call, its
    /// own linkedid); queue_log says `ATTENDEDTRANSFER|BRIDGE`; the caller's row after the
    /// transfer bridges to the target's channel but still carries the application that brought
    /// the caller in (`Queue`, `hotline,t`), as Asterisk's CDR engine leaves it.
    @discardableResult
    func attendedTransfer(
        by agent: String, to target: String, consultFrom start: String, targetAnswers answer: String, at end: String,
        targetUntil targetEnd: String
    ) -> Self {
        self.pbx.internalCall(
            "\(self.key.rawValue)-consult", from: agent, to: target, at: Self.full(start, self.date),
            answered: answer, until: end)
        let until = self.time(end)
        if let queue {
            self.pbx.queueLog(
                call: self.key, at: until, queue: queue, agent: "PJSIP/\(agent)",
                .transferred(extension: "", context: "BRIDGE"))
        }
        let (app, data) = self.application
        self.pbx.cdr(
            call: self.key, src: self.number, dst: self.destination, context: self.context, channel: self.trunk,
            dstChannel: self.pbx.channel("PJSIP/\(target)"), app: app,
            data: app == "Dial" ? "PJSIP/\(target),30" : data,
            start: until, answer: until, end: self.time(targetEnd), disposition: .answered)
        self.cursor = self.time(targetEnd)
        return self
    }

    /// The caller hung up while waiting: ABANDON in a queue (wait counted from ENTERQUEUE unless
    /// told), and the caller's own leg, which the dialplan had answered, with no party B.
    @discardableResult
    func abandons(at end: String, waited: Int? = nil) -> Self {
        let until = self.time(end)
        if let queue {
            let wait = waited ?? Int(until - (self.enteredAt ?? self.cursor))
            self.pbx.queueLog(call: self.key, at: until, queue: queue, agent: "", .abandoned(waitSeconds: wait))
        }
        self.hangsUp(at: end)
        return self
    }

    /// The caller's leg without party B ends: hung up in the IVR or while waiting.
    @discardableResult
    func hangsUp(at end: String, app: String? = nil, data appData: String? = nil) -> Self {
        let until = self.time(end)
        let (queueApp, queueData) = self.application
        let inQueue = queueApp == "Queue"
        self.pbx.cdr(
            call: self.key, src: self.number, dst: self.destination, context: self.context, channel: self.trunk,
            dstChannel: "", app: app ?? (inQueue ? queueApp : "BackGround"),
            data: appData ?? (inQueue ? queueData : "custom/hotline-menu"), start: self.cursor,
            answer: self.cursor, end: until, disposition: .answered)
        self.cursor = until
        return self
    }

    /// The caller left a message in an agent's voicemail box.
    @discardableResult
    func leavesVoicemail(for agent: String, until end: String) -> Self {
        self.hangsUp(at: end, app: "VoiceMail", data: "\(agent)@default")
    }
}

// MARK: - Reading results

extension Contact {
    var callbacks: [Obligation] { self.obligations.filter { $0.kind == .callback } }
    var handoffs: [Obligation] { self.obligations.filter { $0.kind == .handoff } }
}

extension Derivation {
    /// `category@at` of every violation, in the derivation's order.
    var violationSummary: [String] { self.violations.map { "\($0.category.rawValue)@\($0.at.iso8601)" } }
}

// MARK: - Seeded shuffles

/// SplitMix64: a tiny seeded generator, so a failing shuffle can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
