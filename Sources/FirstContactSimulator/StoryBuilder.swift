import FirstContactCore

/// Decides what happens to one customer on the simulated day: who calls, who answers, who
/// calls back and when. Deterministic in (seed, story index).
struct StoryBuilder {
    let directory: Directory
    /// Nothing may happen after this (the day's end, less a margin for the lateness window).
    let lastMoment: Timestamp
    /// The number of story 0's customer: story i calls from number firstCustomer + i (below 10^8).
    let firstCustomer: Int
    let queueDepartments: [(DepartmentID, String, Int)]  // department, queue, weight
    let agentsByDepartment: [DepartmentID: [AgentID]]
    /// The IVR digit that routes to each department, and the one that asks for a callback.
    let digits: [DepartmentID: String]
    let callbackDigit: String?

    init(directory: Directory, lastMoment: Timestamp, firstCustomer: Int = 0) {
        self.directory = directory
        self.lastMoment = lastMoment
        self.firstCustomer = firstCustomer
        var agents: [DepartmentID: [AgentID]] = [:]
        for agent in directory.configuration.agents where agent.role == .agent {
            agents[agent.department, default: []].append(agent.id)
        }
        self.agentsByDepartment = agents
        self.queueDepartments = directory.configuration.departments.compactMap { department in
            guard let queue = department.queues.first, let staff = agents[department.id], !staff.isEmpty else {
                return nil
            }
            return (department.id, queue, staff.count)
        }
        let routes = directory.configuration.ivr.sorted { $0.key < $1.key }
        self.digits = Dictionary(
            routes.compactMap { digit, route in route.department.map { ($0, digit) } },
            uniquingKeysWith: { first, _ in first })
        self.callbackDigit = routes.first { $0.value.callback }?.key
    }

    /// Story weights: a realistic hotline mix (percent).
    static let mix: [(SimStory.Kind, Int)] = [
        (.answered, 33), (.answeredTwice, 5), (.callbackOnTime, 9), (.callbackLate, 4), (.missedNever, 5),
        (.exhausted, 3), (.attemptThenCallback, 3), (.missedTwice, 3), (.customerCalledBack, 4), (.shortAbandon, 5),
        (.ivrHangup, 4), (.directDialMissed, 3), (.withheldMissed, 2), (.transferWarm, 5), (.transferFailed, 3),
        (.transferContacted, 2), (.internalCall, 4), (.ivrCallback, 3),
    ]

    func build(index: Int, start: Timestamp, rng: inout SplitMix64) -> SimStory {
        var kind = Self.weighted(Self.mix, &rng)
        let customer = Self.customerNumber(index: self.firstCustomer + index, &rng)
        let name = rng.pick(Self.customerNames)
        var story = SimStory(kind: kind, customerRaw: customer, calls: [])
        var next = 0
        func key(_ time: Timestamp) -> String {
            next += 1
            return "\(time.seconds).\(index * 16 + next)"
        }
        let (department, queue, _) = Self.weighted(self.queueDepartments.map { ($0, $0.2) }, &rng)
        let open = self.isOpen(department, start)
        if !open, kind != .shortAbandon, kind != .ivrHangup, kind != .withheldMissed, kind != .internalCall,
            kind != .ivrCallback
        {
            kind = .afterHours
            story.kind = kind
        }

        switch kind {
        case .answered, .answeredTwice:
            let first = self.queueCall(key(start), start, customer, name, department, queue, answered: true, &rng)
            story.calls = [first]
            if kind == .answeredTwice {
                let later = first.end + rng.seconds(3600...10_800)
                if later + 900 < self.lastMoment {
                    story.calls.append(
                        self.queueCall(
                            key(later), later, customer, name, department, queue,
                            answered: self.isOpen(department, later), &rng))
                }
            }
        case .callbackOnTime, .callbackLate, .missedNever, .exhausted, .attemptThenCallback, .afterHours:
            let miss = self.queueCall(
                key(start), start, customer, name, department, queue, answered: false, &rng,
                ringAgents: kind != .afterHours)
            story.calls = [miss]
            let fractions: [(Double, Bool)]
            switch kind {
            case .callbackOnTime: fractions = [(Double.random(in: 0.2...0.75, using: &rng), true)]
            case .callbackLate: fractions = [(Double.random(in: 1.3...3.0, using: &rng), true)]
            case .exhausted: fractions = [(0.2, false), (0.45, false), (0.7, false)]
            case .attemptThenCallback: fractions = [(0.2, false), (0.6, true)]
            case .afterHours:
                // Most night calls are returned when the office opens; some late, some forgotten.
                let roll = Double.random(in: 0..<1, using: &rng)
                if roll < 0.6 {
                    fractions = [(Double.random(in: 0.1...0.7, using: &rng), true)]
                } else if roll < 0.75 {
                    fractions = [(Double.random(in: 1.2...2.5, using: &rng), true)]
                } else {
                    fractions = []
                }
            default: fractions = []
            }
            story.calls += self.callbacks(department, after: miss.end, fractions, customer, key, &rng)
        case .missedTwice:
            let miss = self.queueCall(key(start), start, customer, name, department, queue, answered: false, &rng)
            let again = miss.end + rng.seconds(120...400)
            story.calls = [miss]
            if again + 300 < self.lastMoment {
                story.calls.append(
                    self.queueCall(key(again), again, customer, name, department, queue, answered: false, &rng))
            }
            let f = Double.random(in: 0.5...0.8, using: &rng)
            story.calls += self.callbacks(
                department, after: miss.end, [(f, true)], customer, key, &rng,
                notBefore: story.calls.last.map { $0.end + 60 })
        case .customerCalledBack:
            let miss = self.queueCall(key(start), start, customer, name, department, queue, answered: false, &rng)
            story.calls = [miss]
            let again = miss.end + rng.seconds(600...3000)
            if again + 900 < self.lastMoment {
                story.calls.append(
                    self.queueCall(
                        key(again), again, customer, name, department, queue,
                        answered: self.isOpen(department, again), &rng))
            }
        case .shortAbandon:
            story.calls = [
                self.queueCall(
                    key(start), start, customer, name, department, queue, answered: false, &rng,
                    ringAgents: false, wait: rng.seconds(1...4))
            ]
        case .ivrHangup:
            let end = start + rng.seconds(10...40)
            story.calls = [
                SimCall(
                    shape: .ivrHangup, key: key(start), start: start, end: end, customerRaw: customer, callerName: name)
            ]
        case .ivrCallback:
            // Pressed the callback digit, sometimes keyed another number to be called at, hung up.
            var call = SimCall(
                shape: .ivrHangup, key: key(start), start: start, end: start + rng.seconds(12...25),
                customerRaw: customer, callerName: name)
            call.ivrDigit = self.callbackDigit
            call.requestsCallback = true
            if rng.chance(0.4) { call.keyed = Self.keyedNumber(index: self.firstCustomer + index) }
            story.calls = [call]
            let owner =
                self.directory.configuration.hotlineNumbers.lazy.compactMap(self.directory.department(forDID:)).first
                ?? department
            let roll = Double.random(in: 0..<1, using: &rng)
            let fractions: [(Double, Bool)] =
                roll < 0.6
                ? [(Double.random(in: 0.2...0.8, using: &rng), true)]
                : roll < 0.8 ? [(Double.random(in: 1.2...2.5, using: &rng), true)] : []
            story.calls += self.callbacks(owner, after: call.end, fractions, call.keyed ?? customer, key, &rng)
        case .directDialMissed:
            let agent = rng.pick(self.agentsByDepartment[department] ?? [])
            let end = start + rng.seconds(20...30)
            var call = SimCall(
                shape: .directNoAnswer, key: key(start), start: start, end: end, customerRaw: customer, callerName: name
            )
            call.agent = agent
            call.target = self.directory.agent(agent)?.extensions.first ?? agent.rawValue
            story.calls = [call]
            if rng.chance(0.5) {
                story.calls += self.callbacks(
                    department, after: end, [(Double.random(in: 0.2...0.7, using: &rng), true)],
                    customer, key, &rng, agent: agent)
            }
        case .withheldMissed:
            story.customerRaw = "anonymous"
            story.calls = [
                self.queueCall(
                    key(start), start, "anonymous", "Anonymous", department, queue, answered: false, &rng,
                    ringAgents: open)
            ]
        case .transferWarm, .transferFailed, .transferContacted:
            let targets = self.queueDepartments.filter { $0.0 != department && self.isOpen($0.0, start) }
            guard let (toDepartment, toQueue, _) = targets.isEmpty ? nil : rng.pick(targets) else {
                story.kind = .answered
                story.calls = [
                    self.queueCall(key(start), start, customer, name, department, queue, answered: true, &rng)
                ]
                break
            }
            var call = self.queueCall(key(start), start, customer, name, department, queue, answered: true, &rng)
            let transferAt = call.end
            let entered = transferAt + 1
            var rung: [SimRing] = []
            let rings = kind == .transferWarm ? rng.int(0...1) : rng.int(1...2)
            let staff = self.agentsByDepartment[toDepartment] ?? []
            for k in 0..<rings {
                let from = entered + Int64(15 * k)
                rung.append(SimRing(agent: staff[k % staff.count], from: from, to: from + 15))
            }
            var transfer = SimTransfer(
                at: transferAt, queue: toQueue, department: toDepartment, enteredAt: entered, rung: rung, answer: nil)
            let ringFrom = entered + Int64(15 * rings)
            if kind == .transferWarm {
                let receiver = staff[rings % staff.count]
                let at = ringFrom + rng.seconds(3...10)
                transfer.answer = SimAnswer(
                    agent: receiver, ringFrom: ringFrom, at: at, until: at + rng.seconds(60...400))
                call.end = transfer.answer?.until ?? call.end
            } else {
                call.end = ringFrom + rng.seconds(5...30)
            }
            call.transfer = transfer
            story.calls = [call]
            if kind == .transferContacted {
                let sla = self.directory.serviceLevels(of: toDepartment).handoffAck
                let at = self.directory.hours(of: toDepartment).adding(
                    Int64(Double(sla) * Double.random(in: 0.3...0.7, using: &rng)), to: call.end)
                if at + 600 < self.lastMoment {
                    story.calls.append(
                        self.outbound(key(at), at, agent: rng.pick(staff), to: customer, answered: true, &rng))
                }
            }
        case .internalCall:
            let staff = self.directory.configuration.agents.filter { $0.role == .agent }.map(\.id)
            let from = rng.pick(staff)
            let to = rng.pick(staff.filter { $0 != from })
            var call = SimCall(
                shape: .internal, key: key(start), start: start, end: start + rng.seconds(30...200),
                customerRaw: "", callerName: "")
            call.agent = from
            call.target = self.directory.agent(to)?.extensions.first ?? to.rawValue
            call.answer = SimAnswer(agent: to, ringFrom: start, at: start + 5, until: call.end)
            story.calls = [call]
        }
        story.calls = story.calls.filter { $0.end <= self.lastMoment }
        return story
    }

    /// Callback attempts at fractions of the callback SLA (business time) after a missed call.
    private func callbacks(
        _ department: DepartmentID, after missEnd: Timestamp, _ fractions: [(Double, Bool)], _ customer: String,
        _ key: (Timestamp) -> String, _ rng: inout SplitMix64, agent: AgentID? = nil, notBefore: Timestamp? = nil
    ) -> [SimCall] {
        let owner = agent.flatMap { self.directory.departmentOf($0) } ?? department
        let sla = self.directory.serviceLevels(of: owner).callback
        let hours = self.directory.hours(of: owner)
        var calls: [SimCall] = []
        var earliest = notBefore ?? missEnd
        for (fraction, answered) in fractions {
            var at = hours.adding(Int64(Double(sla) * fraction), to: missEnd)
            if at < earliest { at = earliest }
            guard at + 900 < self.lastMoment else { break }
            let caller = agent ?? rng.pick(self.agentsByDepartment[owner] ?? [])
            let call = self.outbound(key(at), at, agent: caller, to: customer, answered: answered, &rng)
            calls.append(call)
            earliest = call.end + 60
        }
        return calls
    }

    private func outbound(
        _ key: String, _ start: Timestamp, agent: AgentID, to customer: String, answered: Bool, _ rng: inout SplitMix64
    ) -> SimCall {
        var call = SimCall(shape: .outbound, key: key, start: start, end: start, customerRaw: customer, callerName: "")
        call.agent = agent
        call.target = self.directory.configuration.outboundPrefix + customer
        if answered {
            let at = start + rng.seconds(5...15)
            call.answer = SimAnswer(agent: agent, ringFrom: start, at: at, until: at + rng.seconds(40...300))
            call.end = call.answer?.until ?? start
        } else {
            call.end = start + rng.seconds(25...35)
        }
        return call
    }

    /// A call through the IVR into a queue: members rung in turn, then answered or abandoned.
    private func queueCall(
        _ key: String, _ start: Timestamp, _ customer: String, _ name: String, _ department: DepartmentID,
        _ queue: String,
        answered: Bool, _ rng: inout SplitMix64, ringAgents: Bool = true, wait: Int64? = nil
    ) -> SimCall {
        var call = SimCall(shape: .queue, key: key, start: start, end: start, customerRaw: customer, callerName: name)
        call.queue = queue
        call.department = department
        call.ivrDigit = self.digits[department]
        let entered = start + rng.seconds(8...25)
        call.enteredAt = entered
        let staff = (self.agentsByDepartment[department] ?? []).shuffled(using: &rng)
        if answered {
            let rings = min(rng.int(0...2), staff.count - 1)
            for k in 0..<rings {
                let from = entered + Int64(15 * k)
                call.rung.append(SimRing(agent: staff[k], from: from, to: from + 15))
            }
            let ringFrom = entered + Int64(15 * rings)
            let at = ringFrom + rng.seconds(3...12)
            call.answer = SimAnswer(agent: staff[rings], ringFrom: ringFrom, at: at, until: at + rng.seconds(60...480))
            call.end = call.answer?.until ?? start
        } else {
            let waited = wait ?? rng.seconds(20...120)
            call.end = entered + waited
            if ringAgents {
                for k in 0..<min(Int(waited / 15), min(2, staff.count)) {
                    let from = entered + Int64(15 * k)
                    call.rung.append(SimRing(agent: staff[k], from: from, to: from + 15))
                }
            }
        }
        return call
    }

    func isOpen(_ department: DepartmentID, _ time: Timestamp) -> Bool {
        switch self.directory.hours(of: department) {
        case .always: return true
        case .calendar(let calendar): return calendar.isOpen(at: time)
        }
    }

    static func weighted<T>(_ items: [(T, Int)], _ rng: inout SplitMix64) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var roll = rng.int(0...(total - 1))
        for (item, weight) in items {
            if roll < weight { return item }
            roll -= weight
        }
        return items[items.count - 1].0
    }

    /// Unique per story index: a bijective scramble of the index below 10^8 behind a prefix.
    static func customerNumber(index: Int, _ rng: inout SplitMix64) -> String {
        let digits = (UInt64(index) &* 2_654_435_761 &+ 12_345) % 100_000_000
        let body = Digits.pad(Int(digits), 8)
        if rng.chance(0.2) { return "0\(rng.pick(["27", "10", "21", "20"]))\(body)" }
        return "1\(rng.pick(["38", "39", "36", "50", "86", "77", "33", "89"]))\(body)"
    }

    /// A number a caller keys for a callback: a prefix no customer number uses, so it is nobody's own line.
    static func keyedNumber(index: Int) -> String {
        "158" + Digits.pad(Int((UInt64(index) &* 2_246_822_519 &+ 977) % 100_000_000), 8)
    }

    static let customerNames = [
        "王建华", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周强", "吴敏", "徐婷", "孙浩", "马琳", "朱军",
        "胡芳", "郭涛", "何雪", "林峰", "高燕", "罗斌",
    ]
}
