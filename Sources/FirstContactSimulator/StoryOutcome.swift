import FirstContactCore

/// What a story means under the operating rule, worked out from the story itself (who called,
/// who answered, who called back, when) — never by reading the records or running the
/// correlation engine, so that comparing the two proves something.
struct StoryOutcome {
    let directory: Directory
    let clock: Timestamp
    var policy: Policy { self.directory.policy }

    /// The contact the story produces (nil when it produces none) and its violations.
    func outcome(of story: SimStory, normalised: CustomerNumber) -> (Contact?, [Violation]) {
        var contact: Contact?
        var violations: [Violation] = []
        let calls = story.calls.sorted { ($0.start, $0.end, $0.key) < ($1.start, $1.end, $1.key) }

        func breachDue(upTo time: Timestamp) {
            guard var c = contact else { return }
            for i in c.obligations.indices where c.obligations[i].state == .pending {
                let deadline = c.obligations[i].deadline
                if deadline <= time { Self.breach(&c.obligations[i], at: deadline, contact: c.id, into: &violations) }
            }
            contact = c
        }
        func satisfy(_ index: Int, at time: Timestamp, by agent: AgentID, via: SatisfiedVia) {
            guard var c = contact else { return }
            if c.obligations[index].state == .pending, c.obligations[index].deadline < time {
                Self.breach(&c.obligations[index], at: c.obligations[index].deadline, contact: c.id, into: &violations)
            }
            if c.obligations[index].state == .breached,
                let v = violations.firstIndex(where: { $0.id.rawValue == "\(c.obligations[index].id.rawValue).v" })
            {
                violations[v].remediedAt = time
            }
            c.obligations[index].satisfy(Obligation.Satisfaction(at: time, by: agent, via: via))
            contact = c
        }
        func outstanding(_ kind: ObligationKind) -> Int? {
            contact?.obligations.lastIndex { $0.kind == kind && $0.state.isOutstanding }
        }
        let customerKey = normalised.isWithheld ? "withheld:\(calls.first?.key ?? "")" : normalised.text

        for call in calls {
            breachDue(upTo: call.start)
            switch call.shape {
            case .internal:
                continue
            case .outbound:
                guard contact != nil, let agent = call.agent else { continue }
                contact?.calls.append(CallKey(call.key))
                if let answer = call.answer {
                    if let o = outstanding(.callback) { satisfy(o, at: answer.at, by: agent, via: .callback) }
                    if contact?.firstResponder == nil {
                        contact?.firstResponder = FirstResponder(
                            agent: agent, boundAt: answer.at, via: .callback, call: CallKey(call.key))
                    }
                    for o in contact?.obligations.indices ?? 0..<0 {
                        guard let ob = contact?.obligations[o] else { continue }
                        if ob.kind == .handoff, ob.state.isOutstanding, ob.createdAt <= call.start,
                            self.directory.departmentOf(agent) == ob.owner.department
                        {
                            satisfy(o, at: answer.at, by: agent, via: .contacted)
                        }
                    }
                } else if let o = outstanding(.callback) {
                    contact?.obligations[o].attempts += 1
                    if let ob = contact?.obligations[o], ob.state == .pending, ob.attempts >= self.policy.maxAttempts {
                        contact?.obligations[o].standing = .exhausted
                    }
                }
            case .queue, .ivrHangup, .directNoAnswer:
                let answered = call.answer != nil
                // IVR events of a withheld caller cannot be tied to the call (no number to match).
                let route = normalised.isWithheld ? nil : call.ivrDigit.flatMap { self.directory.configuration.ivr[$0] }
                let requested = !normalised.isWithheld && (call.requestsCallback || route?.callback == true)
                let keyed = call.keyed.map { self.directory.normaliser.normalise($0) }.flatMap {
                    $0 == normalised ? nil : $0
                }
                if !answered, !requested, call.wait < self.policy.abandonGrace {
                    if contact != nil { contact?.calls.append(CallKey(call.key)) }
                    continue
                }
                if contact == nil {
                    let department =
                        route?.department ?? call.department
                        ?? (call.shape == .ivrHangup
                            ? self.directory.configuration.hotlineNumbers.lazy.compactMap(
                                self.directory.department(forDID:)
                            ).first : nil)
                        ?? call.agent.flatMap { self.directory.departmentOf($0) }
                    let category =
                        (route?.department != nil ? route?.category : nil)
                        ?? department.flatMap { self.directory.department($0)?.category } ?? .service
                    var opened = Contact(
                        id: ContactID.derived(customerKey: customerKey, openedAt: call.start), customer: normalised,
                        customerRaw: story.customerRaw, channel: .phone, department: department, category: category,
                        createdAt: call.start)
                    opened.calls = [CallKey(call.key)]
                    contact = opened
                } else {
                    contact?.calls.append(CallKey(call.key))
                }
                guard var c = contact else { continue }
                if let answer = call.answer {
                    if c.firstResponder == nil {
                        c.firstResponder = FirstResponder(
                            agent: answer.agent, boundAt: answer.at, via: .inbound, call: CallKey(call.key))
                    }
                    contact = c
                    if let o = outstanding(.callback) {
                        satisfy(o, at: answer.at, by: answer.agent, via: .customerCalledBack)
                    }
                    if let transfer = call.transfer {
                        var handoff = Obligation.handoff(
                            id: ObligationID.derived(
                                customerKey: customerKey, kind: .handoff, createdAt: call.end, to: transfer.department),
                            owner: Owner(department: transfer.department, agent: nil),
                            madeAt: call.end, call: CallKey(call.key),
                            levels: self.directory.serviceLevels(of: transfer.department),
                            hours: self.directory.hours(of: transfer.department))
                        if let receiver = transfer.answer {
                            handoff.satisfy(
                                Obligation.Satisfaction(at: receiver.at, by: receiver.agent, via: .warmTransfer))
                        }
                        contact?.obligations.append(handoff)
                    }
                } else if let o = outstanding(.callback) {
                    contact?.obligations[o].missedCount += 1
                    if contact?.obligations[o].callbackNumber == nil { contact?.obligations[o].callbackNumber = keyed }
                } else if !normalised.isWithheld, outstanding(.handoff) == nil {
                    let owner: Owner
                    if call.shape == .directNoAnswer, let agent = call.agent,
                        let department = self.directory.departmentOf(agent)
                    {
                        owner = Owner(department: department, agent: agent)
                    } else {
                        owner = Owner(
                            department: c.department ?? self.directory.fallbackDepartment ?? DepartmentID("-"),
                            agent: nil)
                    }
                    var callback = Obligation.callback(
                        id: ObligationID.derived(customerKey: customerKey, kind: .callback, createdAt: call.end),
                        owner: owner, missedAt: call.end, call: CallKey(call.key),
                        levels: self.directory.serviceLevels(of: owner.department),
                        hours: self.directory.hours(of: owner.department))
                    callback.missedCount = 1
                    callback.callbackNumber = keyed
                    contact?.obligations.append(callback)
                }
            }
        }
        breachDue(upTo: self.clock)
        guard var c = contact else { return (nil, []) }
        for i in c.obligations.indices { self.settle(&c.obligations[i], contact: c.id, into: &violations) }
        if c.obligations.contains(where: { $0.kind == .callback && $0.state.isOutstanding }) {
            c.status = .awaitingCallback
        } else if c.obligations.contains(where: { $0.kind == .handoff }) {
            c.status = .handedOff
        } else {
            c.status = .open
        }
        return (c, violations)
    }

    static func breach(
        _ o: inout Obligation, at time: Timestamp, contact: ContactID, into violations: inout [Violation]
    ) {
        o.breach(at: time)
        violations.append(
            Violation(
                id: ViolationID("\(o.id.rawValue).v"), obligation: o.id, contact: contact,
                category: o.kind == .callback ? .notHandledInTime : .handoffStalled, department: o.owner.department,
                agent: o.owner.agent, at: time))
    }

    /// At-risk flag, escalation level and the not_escalated violation, as of the clock.
    func settle(_ o: inout Obligation, contact: ContactID, into violations: inout [Violation]) {
        let department = self.directory.department(o.owner.department)
        let hours = self.directory.hours(of: o.owner.department)
        let levels = self.directory.serviceLevels(of: o.owner.department)
        switch o.state {
        case .pending:
            let riskAt = o.atRiskMark(levels: levels, hours: hours, percent: self.policy.atRiskPercent)
            if riskAt <= self.clock { o.markAtRisk(since: riskAt) }
        case .breached, .satisfiedLate:
            guard let breachedAt = o.breachedAt else { return }
            let after = levels.escalateAfter
            let levelTwo = hours.adding(after, to: breachedAt)
            let neglect = hours.adding(after, to: levelTwo)
            let stillOpen = o.satisfiedAt ?? self.clock
            let late = o.state == .breached
            let reached = late ? stillOpen >= levelTwo : stillOpen > levelTwo
            o.escalate(to: reached ? 2 : 1, since: reached ? levelTwo : breachedAt)
            if reached, late ? stillOpen >= neglect : stillOpen > neglect {
                violations.append(
                    Violation(
                        id: ViolationID("\(o.id.rawValue).ne"), obligation: o.id, contact: contact,
                        category: .notEscalated,
                        department: o.owner.department, agent: department?.head, at: neglect))
            }
        default:
            break
        }
    }
}
