/// The derived state of one customer: their contacts (with obligations and `why` trail) and
/// the violations found, as of a clock.
package struct Derivation: Hashable, Sendable {
    package var contacts: [Contact]
    package var violations: [Violation]
    /// The earliest clock at which this result would change with no new records (a deadline,
    /// an at-risk mark, an escalation step, an auto-close); nil when nothing is waiting.
    package var nextCheck: Timestamp?
    /// Calls that belong to no contact (short abandons with nothing open, outbound calls to a
    /// number with no open matter).
    package var unattached: [CallKey]
}

/// The correlation engine (SPEC rules 1–9): the calls of one customer number and a clock in,
/// contacts, obligations and violations out.
///
/// A pure function of the *set* of calls and the clock: calls are put in a canonical order
/// first, so the arrival order or batching of records can never change the result. A late
/// record simply means deriving the customer again.
package struct Correlator: Sendable {
    package let directory: Directory

    package init(directory: Directory) {
        self.directory = directory
    }

    /// - Parameters:
    ///   - customerKey: the key the calls are grouped by (``Call/customerKey``).
    ///   - calls: every call of that customer, in any order.
    ///   - clock: the time the state is evaluated at (event-time watermark, `tick --now`, or wall time).
    ///   - explaining: whether to write the `why` trail. Ingest leaves it off (the trail is most of
    ///     the work and can always be derived again); `explain` turns it on.
    ///   - gaps: silences of watched feeds; a clock that runs out inside one makes its
    ///     obligation `uncertain` instead of breached.
    ///   - ivr: the customer's IVR events (menu choices, callback requests, voicemail), tied to
    ///     their calls by time.
    ///   - related: outbound calls to other numbers this customer asked to be called back at.
    package func derive(
        customerKey: String, calls: [Call], actions: [ManualAction] = [], ivr: [IVRRecord] = [], related: [Call] = [],
        gaps: [FeedGap] = [], clock: Timestamp, explaining: Bool = true
    ) -> Derivation {
        var walk = Walk(directory: self.directory, customerKey: customerKey, trail: explaining ? Trail() : nil)
        let routed = self.applyIVR(ivr, to: calls, customerKey: customerKey)
        walk.requests = routed.requests
        let ordered = (routed.calls + related.filter { $0.direction == .outbound && $0.customerKey != customerKey })
            .sorted { ($0.start, $0.end, $0.key) < ($1.start, $1.end, $1.key) }
        var pending = actions.sorted { ($0.at, $0.id) < ($1.at, $1.id) }[...]
        walk.gaps = gaps
        for call in ordered {
            // Actions recorded before this call started happened before it.
            while let action = pending.first, action.at < call.start {
                walk.advance(to: action.at)
                walk.apply(action)
                pending = pending.dropFirst()
            }
            walk.advance(to: call.start)
            switch call.direction {
            case .inbound: walk.inbound(call)
            case .outbound where call.customerKey == customerKey: walk.outbound(call)
            case .outbound: walk.outboundToRequestedNumber(call)
            case .internal: break
            }
        }
        for action in pending {
            walk.advance(to: action.at)
            walk.apply(action)
        }
        let asOf = max(clock, ordered.map(\.end).max() ?? clock, actions.map(\.at).max() ?? clock)
        walk.advance(to: asOf)
        return walk.finish(asOf: asOf)
    }
}

/// A callback the caller asked for in the IVR (SPEC rule 3), and the IVR's part in the call.
struct IVRRequest: Hashable, Sendable {
    var callback = false
    /// The number keyed, when it is not the caller ID (SPEC rule 1: owed to that number).
    var number: CustomerNumber?
    /// What the caller did in the menu, for the trail.
    var notes: [String] = []
}

extension Correlator {
    /// Ties each IVR event to the customer's inbound call it happened in (by time: the dialplan
    /// posts it during the call) and applies it: a menu choice routes the call, a callback request
    /// or voicemail makes an unanswered call a miss whatever its length. A callback request or
    /// voicemail with no call (the PBX's record has not arrived) stands for a call of its own, so
    /// the promise is kept even then; a late record joins it on the next derivation.
    func applyIVR(_ events: [IVRRecord], to calls: [Call], customerKey: String) -> (calls: [Call], requests: [CallKey: IVRRequest]) {
        guard !events.isEmpty else { return (calls, [:]) }
        var calls = calls
        var requests: [CallKey: IVRRequest] = [:]
        let configuration = self.directory.configuration
        for event in events.sorted(by: { ($0.time, $0.key) < ($1.time, $1.key) }) {
            let match = calls.indices
                .filter { calls[$0].direction == .inbound && calls[$0].start <= event.time && event.time <= calls[$0].end }
                .max { (calls[$0].start, calls[$0].key) < (calls[$1].start, calls[$1].key) }
            let index: Int
            if let match {
                index = match
            } else {
                switch event.kind {
                case .menuChoice(let digit) where configuration.ivr[digit]?.callback == true: break
                case .callbackRequest, .voicemail: break
                case .menuChoice, .menuHangup: continue  // nothing to route without a call
                }
                // A withheld caller is known only by the number they keyed (the store files the
                // event under it); with none, the PBX's own record of the call counts the miss.
                var customer = self.directory.normaliser.normalise(event.caller)
                if customer.isWithheld {
                    guard case .callbackRequest(let keyed?) = event.kind else { continue }
                    customer = self.directory.normaliser.normalise(keyed)
                    guard !customer.isWithheld else { continue }
                }
                calls.append(Call(
                    key: CallKey("ivr:\(event.key.rawValue)"), direction: .inbound, customer: customer, customerRaw: event.caller,
                    start: event.time, end: event.time, outcome: .callbackRequested, answers: [], ringNoAnswer: [],
                    callingAgent: nil, directDialAgent: nil, department: nil, category: nil, waitSeconds: 0, transfers: [],
                    evidence: [event.position]))
                index = calls.count - 1
            }
            let key = calls[index].key
            if !calls[index].evidence.contains(event.position) { calls[index].evidence.append(event.position) }
            switch event.kind {
            case .menuChoice(let digit):
                guard let route = configuration.ivr[digit] else {
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit) (not in the ivr map)")
                    continue
                }
                if let department = route.department {
                    calls[index].department = department
                    calls[index].category = route.category ?? self.directory.department(department)?.category
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit): department \(department)")
                }
                if route.callback {
                    requests[key, default: IVRRequest()].callback = true
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit): asked to be called back")
                }
            case .callbackRequest(let number):
                requests[key, default: IVRRequest()].callback = true
                let keyed = number.map { self.directory.normaliser.normalise($0) }
                if let keyed, keyed.text != customerKey, keyed != .withheld {
                    requests[key, default: IVRRequest()].number = keyed
                    requests[key, default: IVRRequest()].notes.append("asked to be called back at \(keyed.masked)")
                } else {
                    requests[key, default: IVRRequest()].notes.append("asked to be called back")
                }
            case .voicemail:
                if calls[index].answers.isEmpty { calls[index].outcome = .voicemail }
                requests[key, default: IVRRequest()].notes.append("left a voicemail")
            case .menuHangup:
                requests[key, default: IVRRequest()].notes.append("hung up in the menu")
            }
            if requests[key]?.callback == true, calls[index].answers.isEmpty, calls[index].outcome != .voicemail {
                calls[index].outcome = .callbackRequested
            }
        }
        return (calls, requests)
    }
}

/// The `why` entries of a derivation, by contact index.
private final class Trail {
    var entries: [Int: [WhyEntry]] = [:]
}

/// The state of one derivation while it walks the calls in time order.
private struct Walk {
    let directory: Directory
    let customerKey: String
    var policy: Policy { self.directory.policy }
    var contacts: [Contact] = []
    var violations: [Violation] = []
    var unattached: [CallKey] = []
    /// Index of the contact that is open now.
    var open: Int?
    /// Per contact: the department it was routed to, and the end of the call that bound the first responder.
    var routed: [ContactID: DepartmentID] = [:]
    var bindingCallEnd: [ContactID: Timestamp] = [:]
    /// Per contact: departments the matter has left through transfers, and how many it made.
    var departmentsLeft: [ContactID: Set<DepartmentID>] = [:]
    var transferCount: [ContactID: Int] = [:]
    /// Silences of watched feeds (see ``FeedHealth``).
    var gaps: [FeedGap] = []
    /// What callers did in the IVR, by call.
    var requests: [CallKey: IVRRequest] = [:]

    /// Collects the `why` entries when explaining (a reference, so that non-mutating `note`
    /// can take its message lazily without overlapping access to the walk).
    let trail: Trail?

    init(directory: Directory, customerKey: String, trail: Trail?) {
        self.directory = directory
        self.customerKey = customerKey
        self.trail = trail
    }

    // MARK: Clock

    /// Applies everything that happens by `time` with no new call: breaches and auto-close.
    mutating func advance(to time: Timestamp) {
        guard let index = self.open else { return }
        for o in self.contacts[index].obligations.indices where self.contacts[index].obligations[o].state == .pending {
            let deadline = Self.deadline(of: self.contacts[index].obligations[o])
            guard deadline <= time else { continue }
            if let gap = self.gaps.first(where: { $0.contains(deadline) }) {
                // The feed was silent when the clock ran out: missing data is not a breach.
                if !self.contacts[index].obligations[o].uncertain {
                    self.contacts[index].obligations[o].uncertain = true
                    let id = self.contacts[index].obligations[o].id
                    self.explain(index, WhyEntry(
                        at: deadline, rule: "uncertain",
                        message: "\(id)'s clock ran out while feed \(gap.feed) was silent (since \(gap.from)): uncertain, not breached, until records or a supervisor settle it"))
                }
            } else {
                self.breach(index, o, at: deadline)
            }
        }
        let contact = self.contacts[index]
        let closesAt = contact.lastActivity + self.policy.autoClose
        if !contact.obligations.contains(where: { $0.state.isOutstanding }), closesAt <= time {
            self.contacts[index].closedAt = closesAt
            self.explain(index, WhyEntry(
                at: closesAt, rule: "auto_close",
                message: "no pending obligation and no activity for \(DurationSpec.text(self.policy.autoClose)): closed"))
            self.open = nil
        }
    }

    /// When a pending obligation's clock runs out: for hand-offs the acknowledge clock too.
    static func deadline(of obligation: Obligation) -> Timestamp {
        if obligation.kind == .handoff, obligation.acknowledgedAt == nil, let ack = obligation.ackDueAt {
            return min(ack, obligation.dueAt)
        }
        return obligation.dueAt
    }

    mutating func breach(_ c: Int, _ o: Int, at time: Timestamp) {
        var obligation = self.contacts[c].obligations[o]
        obligation.state = .breached
        obligation.breachedAt = time
        self.contacts[c].obligations[o] = obligation
        let category: ViolationCategory = obligation.kind == .callback ? .notHandledInTime : .handoffStalled
        self.violations.append(Violation(
            id: ViolationID("\(obligation.id.rawValue).v"), obligation: obligation.id, contact: self.contacts[c].id,
            category: category, department: obligation.owner.department, agent: obligation.owner.agent, at: time))
        let clock = obligation.kind == .handoff && time == obligation.ackDueAt && obligation.acknowledgedAt == nil
            ? "acknowledge clock" : "clock"
        self.explain(c, WhyEntry(
            at: time, rule: "breach",
            message: "\(obligation.kind.rawValue) \(obligation.id) \(clock) ran out unsatisfied: breached, \(category.rawValue) against \(Self.describe(obligation.owner))",
            call: obligation.call))
    }

    mutating func satisfy(_ c: Int, _ o: Int, at time: Timestamp, by agent: AgentID, via: SatisfiedVia, call: Call) {
        var lateButUncertain = false
        if self.contacts[c].obligations[o].state == .pending {
            let deadline = Self.deadline(of: self.contacts[c].obligations[o])
            if deadline < time {
                if self.gaps.contains(where: { $0.contains(deadline) }) {
                    self.contacts[c].obligations[o].uncertain = true
                    lateButUncertain = true
                } else {
                    self.breach(c, o, at: deadline)
                }
            }
        }
        var obligation = self.contacts[c].obligations[o]
        if obligation.state == .breached, let v = self.violations.firstIndex(where: { $0.id.rawValue == "\(obligation.id.rawValue).v" }) {
            self.violations[v].remediedAt = time
        }
        obligation.state = obligation.state == .breached || lateButUncertain ? .satisfiedLate : .satisfied
        obligation.satisfiedAt = time
        obligation.satisfiedBy = agent
        obligation.satisfiedVia = via
        if obligation.kind == .handoff, obligation.acknowledgedAt == nil { obligation.acknowledgedAt = time }
        self.contacts[c].obligations[o] = obligation
        self.explain(c, WhyEntry(
            at: time, rule: "\(obligation.kind.rawValue)_satisfied",
            message: "\(obligation.id) \(obligation.state.rawValue) via \(via.rawValue) by agent \(agent)",
            call: call.key, evidence: call.evidence))
    }

    // MARK: Calls

    mutating func inbound(_ call: Call) {
        let missed = call.answers.isEmpty
        if call.customer.isWithheld {
            let index = self.openContact(for: call)
            if missed {
                self.note(index, call, "withheld_no_callback", "missed call without caller ID: counted, no callback possible")
            } else {
                self.served(index, call)
            }
            self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
            self.open = nil  // a withheld caller cannot be recognised again
            return
        }
        // The grace is for callers who gave up quickly (abandoned, or hung up while it rang,
        // which Asterisk writes as NO ANSWER); a busy line or a voicemail is a miss however short.
        let gaveUp = call.outcome == .abandoned || call.outcome == .noAnswer
        if missed, gaveUp, call.waitSeconds < self.policy.abandonGrace {
            if let index = self.open {
                self.attach(index, call, reason: "abandoned after \(call.waitSeconds)s, under the abandon grace: attached, no obligation")
                self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
            } else {
                self.unattached.append(call.key)
            }
            return
        }
        let index: Int
        if let open = self.open {
            index = open
            self.attach(index, call, reason: "inbound call from the same number while the contact is open")
        } else {
            index = self.openContact(for: call)
        }
        if let request = self.requests[call.key], !request.notes.isEmpty {
            self.note(index, call, "ivr", "in the IVR the caller \(request.notes.joined(separator: "; "))", at: call.start)
        }
        if missed {
            self.missed(index, call)
        } else {
            self.served(index, call)
        }
        self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
    }

    /// An agent's call to a number the customer keyed in the IVR: it settles only the callback
    /// owed to that number.
    mutating func outboundToRequestedNumber(_ call: Call) {
        guard let index = self.open, let agent = call.callingAgent,
            let o = self.contacts[index].obligations.lastIndex(where: {
                $0.kind == .callback && $0.state.isOutstanding && $0.callbackNumber == call.customer
            })
        else { return }
        self.attach(index, call, reason: "outbound call by agent \(agent) to \(call.customer.masked), the number the customer asked to be called at")
        if let answer = call.answers.first {
            self.satisfy(index, o, at: answer.at, by: agent, via: .callback, call: call)
            if self.contacts[index].firstResponder == nil {
                self.bind(index, agent: agent, at: answer.at, via: .callback, call: call)
            }
        } else {
            self.unansweredAttempt(index, o, call: call, agent: agent)
        }
        self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
    }

    mutating func outbound(_ call: Call) {
        guard let index = self.open, let agent = call.callingAgent else {
            self.unattached.append(call.key)
            return
        }
        self.attach(index, call, reason: "outbound call by agent \(call.callingAgent?.rawValue ?? "?") to the customer")
        if let answer = call.answers.first {
            if let o = self.outstanding(index, .callback) {
                self.satisfy(index, o, at: answer.at, by: agent, via: .callback, call: call)
            }
            if self.contacts[index].firstResponder == nil {
                self.bind(index, agent: agent, at: answer.at, via: .callback, call: call)
            }
            self.contactReceivers(index, answers: [answer], call: call)
        } else if let o = self.outstanding(index, .callback) {
            self.unansweredAttempt(index, o, call: call, agent: agent)
        }
        self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
    }

    mutating func unansweredAttempt(_ index: Int, _ o: Int, call: Call, agent: AgentID) {
        self.contacts[index].obligations[o].attempts += 1
        let obligation = self.contacts[index].obligations[o]
        if obligation.state == .pending, obligation.attempts >= self.policy.maxAttempts {
            self.contacts[index].obligations[o].state = .exhausted
            self.note(index, call, "callback_exhausted",
                      "\(obligation.id): attempt \(obligation.attempts) of \(self.policy.maxAttempts) unanswered: exhausted, goes to supervisor review")
        } else {
            self.note(index, call, "callback_attempt",
                      "\(obligation.id): unanswered attempt \(obligation.attempts) by agent \(agent)")
        }
    }

    /// An inbound call an agent answered.
    mutating func served(_ index: Int, _ call: Call) {
        guard let first = call.answers.first else { return }
        if self.contacts[index].firstResponder == nil {
            self.bind(index, agent: first.agent, at: first.at, via: .inbound, call: call)
        }
        if let o = self.outstanding(index, .callback) {
            self.satisfy(index, o, at: first.at, by: first.agent, via: .customerCalledBack, call: call)
        }
        self.contactReceivers(index, answers: call.answers, call: call)
        for transfer in call.transfers { self.transferred(index, transfer, call: call) }
    }

    /// An inbound call nobody answered (past the abandon grace).
    mutating func missed(_ index: Int, _ call: Call) {
        if let o = self.outstanding(index, .callback) {
            self.contacts[index].obligations[o].missedCount += 1
            if self.contacts[index].obligations[o].callbackNumber == nil {
                self.contacts[index].obligations[o].callbackNumber = self.requests[call.key]?.number
            }
            let obligation = self.contacts[index].obligations[o]
            self.note(index, call, "missed_call_folded",
                      "missed \(call.outcome.rawValue) call folded into \(obligation.id) (missed \(obligation.missedCount) times; deadline unchanged)")
            return
        }
        if let o = self.outstanding(index, .handoff) {
            let obligation = self.contacts[index].obligations[o]
            self.note(index, call, "missed_call_handoff_pending",
                      "missed call while hand-off \(obligation.id) is pending: the receiver already owes the contact")
            return
        }
        let owner: Owner
        if let agent = call.directDialAgent, let department = self.directory.departmentOf(agent) {
            owner = Owner(department: department, agent: agent)
        } else if let department = self.contacts[index].department ?? call.department ?? self.directory.fallbackDepartment {
            owner = Owner(department: department, agent: nil)
        } else {
            self.note(index, call, "missed_call_unowned", "missed call but no department is configured: no callback")
            return
        }
        let sla = self.directory.department(owner.department)?.callbackSLA ?? 1800
        let hours = self.directory.hours(of: owner.department)
        let number = self.contacts[index].obligations.filter { $0.kind == .callback }.count + 1
        var obligation = Obligation(
            id: ObligationID("\(self.contacts[index].id.rawValue)-cb\(number)"), kind: .callback, owner: owner,
            createdAt: call.end, dueAt: hours.adding(sla, to: call.end), call: call.key)
        obligation.missedCount = 1
        obligation.callbackNumber = self.requests[call.key]?.number
        self.contacts[index].obligations.append(obligation)
        let whom = owner.agent.map { "agent \($0) (dialled directly)" } ?? "department \(owner.department)"
        self.note(index, call, "missed_call_callback",
                  "inbound call \(call.outcome.rawValue) after \(call.waitSeconds)s: callback \(obligation.id) owed by \(whom), due \(obligation.dueAt) (\(DurationSpec.text(sla)) business time)")
    }

    /// Answers by the receiving side of a pending hand-off acknowledge it and contact the customer.
    mutating func contactReceivers(_ index: Int, answers: [Call.Answer], call: Call) {
        for o in self.contacts[index].obligations.indices {
            let obligation = self.contacts[index].obligations[o]
            guard obligation.kind == .handoff, obligation.state.isOutstanding, obligation.createdAt <= call.start else { continue }
            if let answer = answers.first(where: { self.isReceiver($0.agent, of: obligation.owner) }) {
                self.satisfy(index, o, at: answer.at, by: answer.agent, via: .contacted, call: call)
            }
        }
    }

    func isReceiver(_ agent: AgentID, of owner: Owner) -> Bool {
        if let receiver = owner.agent { return receiver == agent }
        return self.directory.departmentOf(agent) == owner.department
    }

    mutating func transferred(_ index: Int, _ transfer: Call.Transfer, call: Call) {
        let contactID = self.contacts[index].id
        let fromDepartment = self.directory.departmentOf(transfer.from)
        guard transfer.to.department != fromDepartment else {
            self.note(index, call, "transfer_same_department",
                      "transferred by agent \(transfer.from) within department \(transfer.to.department): no hand-off")
            return
        }
        let count = (self.transferCount[contactID] ?? 0) + 1
        self.transferCount[contactID] = count
        let left = self.departmentsLeft[contactID] ?? []
        if count > self.policy.maxTransfers || left.contains(transfer.to.department) {
            let why = count > self.policy.maxTransfers
                ? "transfer \(count) exceeds max_transfers \(self.policy.maxTransfers)"
                : "transferred back to department \(transfer.to.department), which it already left"
            self.violations.append(Violation(
                id: ViolationID("\(contactID.rawValue).pa\(count)"), obligation: nil, contact: contactID,
                category: .passedAround, department: fromDepartment ?? transfer.to.department, agent: transfer.from,
                at: transfer.at))
            self.note(index, call, "passed_around", "\(why): passed_around against agent \(transfer.from)", at: transfer.at)
        }
        if let fromDepartment { self.departmentsLeft[contactID, default: []].insert(fromDepartment) }

        let department = self.directory.department(transfer.to.department)
        let hours = self.directory.hours(of: transfer.to.department)
        let number = self.contacts[index].obligations.filter { $0.kind == .handoff }.count + 1
        var obligation = Obligation(
            id: ObligationID("\(contactID.rawValue)-ho\(number)"), kind: .handoff, owner: transfer.to,
            createdAt: call.end, dueAt: hours.adding(department?.handoffSLA ?? 7200, to: call.end),
            ackDueAt: hours.adding(department?.handoffAckSLA ?? 900, to: call.end), call: call.key)
        if let receiver = transfer.answeredBy, let at = transfer.answeredAt {
            obligation.state = .satisfied
            obligation.satisfiedAt = at
            obligation.satisfiedBy = receiver
            obligation.satisfiedVia = .warmTransfer
            obligation.acknowledgedAt = at
            self.contacts[index].obligations.append(obligation)
            self.note(index, call, "handoff_warm",
                      "agent \(transfer.from) transferred to \(Self.describe(transfer.to)); agent \(receiver) answered: hand-off \(obligation.id) satisfied at once",
                      at: transfer.at)
        } else {
            self.contacts[index].obligations.append(obligation)
            self.note(index, call, "handoff_pending",
                      "agent \(transfer.from) transferred to \(Self.describe(transfer.to)) and nobody answered: hand-off \(obligation.id) pending, acknowledge by \(obligation.ackDueAt.map(\.iso8601) ?? "-"), contact the customer by \(obligation.dueAt)",
                      at: transfer.at)
        }
    }

    // MARK: Manual actions

    mutating func apply(_ action: ManualAction) {
        let who = action.agent
        switch action.kind {
        case .acknowledge(let id):
            for c in self.contacts.indices {
                guard let o = self.contacts[c].obligations.firstIndex(where: { $0.id == id }) else { continue }
                let obligation = self.contacts[c].obligations[o]
                guard obligation.kind == .handoff, obligation.acknowledgedAt == nil else { return }
                self.contacts[c].obligations[o].acknowledgedAt = action.at
                let late = obligation.ackDueAt.map { action.at > $0 } ?? false
                self.explain(c, WhyEntry(
                    at: action.at, rule: "handoff_acknowledged",
                    message: "agent \(action.agent) acknowledged hand-off \(id)\(late ? " after its acknowledge clock ran out" : ""); the contact-the-customer clock runs until \(obligation.dueAt)"))
                return
            }
        case .open(let manual):
            self.openByHand(manual, action: action)
        case .note(let id, let text):
            guard let c = self.contactIndex(id) else { return }
            self.touch(c, at: action.at)
            self.explain(c, WhyEntry(at: action.at, rule: "note", message: "\(who): \(text)"))
        case .resolve(let id, let note):
            guard let c = self.settleable(id, action) else { return }
            self.close(c, Resolution(kind: .resolved, at: action.at, by: who, note: note), rule: "resolved",
                       message: "\(who) resolved the contact: \(note)")
        case .referOut(let id, let body, let told):
            guard let c = self.settleable(id, action) else { return }
            self.close(c, Resolution(kind: .referredOut, at: action.at, by: who, note: told, referredTo: body), rule: "referred_out",
                       message: "\(who) referred the customer to \(body); told them: \(told)")
        case .handoff(let id, let owner, let registration):
            guard let c = self.settleable(id, action) else { return }
            let department = self.directory.department(owner.department)
            let hours = self.directory.hours(of: owner.department)
            let number = self.contacts[c].obligations.filter { $0.kind == .handoff }.count + 1
            var obligation = Obligation(
                id: ObligationID("\(id.rawValue)-ho\(number)"), kind: .handoff, owner: owner, createdAt: action.at,
                dueAt: hours.adding(department?.handoffSLA ?? 7200, to: action.at),
                ackDueAt: hours.adding(department?.handoffAckSLA ?? 900, to: action.at), call: CallKey("action:\(action.id)"))
            obligation.registration = registration
            self.contacts[c].obligations.append(obligation)
            self.touch(c, at: action.at)
            self.explain(c, WhyEntry(
                at: action.at, rule: "handoff_by_hand",
                message: "\(who) handed the matter to \(Self.describe(owner)) by hand (\(registration.name), \(registration.unit): \(registration.matter)): hand-off \(obligation.id), acknowledge by \(obligation.ackDueAt.map(\.iso8601) ?? "-"), contact the customer by \(obligation.dueAt)"))
        case .reassign(let id, let agent, let reason):
            guard let c = self.contactIndex(id) else { return }
            let previous = self.contacts[c].firstResponder?.agent
            self.contacts[c].firstResponder = FirstResponder(agent: agent, boundAt: action.at, via: .reassigned, call: nil)
            self.explain(c, WhyEntry(
                at: action.at, rule: "reassigned",
                message: "\(who) made agent \(self.directory.label(agent)) first responder\(previous.map { " instead of agent \($0)" } ?? ""): \(reason)"))
        case .complaint(let id, let text):
            guard let c = self.contactIndex(id) else { return }
            let against = self.contacts[c].firstResponder?.agent
            let department = against.flatMap { self.directory.departmentOf($0) } ?? self.contacts[c].department
            guard let department else { return }
            self.violations.append(Violation(
                id: ViolationID("\(id.rawValue).cp\(StableHash.hex(action.id))"), obligation: nil, contact: id,
                category: .complaint, department: department, agent: against, at: action.at))
            self.explain(c, WhyEntry(
                at: action.at, rule: "complaint",
                message: "complaint recorded by \(who) against \(against.map { "agent \($0)" } ?? "department \(department)"): \(text)"))
        case .poorService(let id, let agent, let text):
            guard let c = self.contactIndex(id), let department = self.directory.departmentOf(agent) else { return }
            self.violations.append(Violation(
                id: ViolationID("\(id.rawValue).ps\(StableHash.hex(action.id))"), obligation: nil, contact: id,
                category: .poorService, department: department, agent: agent, at: action.at))
            self.explain(c, WhyEntry(
                at: action.at, rule: "poor_service", message: "\(who) recorded poor service by agent \(agent): \(text)"))
        }
    }

    func contactIndex(_ id: ContactID) -> Int? { self.contacts.firstIndex { $0.id == id } }

    /// Resolving, referring and handing off need the contact to still be open; recorded against a
    /// contact that has since closed (a late record reshaped the history) they are only noted.
    func settleable(_ id: ContactID, _ action: ManualAction) -> Int? {
        guard let c = self.contactIndex(id) else { return nil }
        guard c == self.open else {
            self.explain(c, WhyEntry(
                at: action.at, rule: "action_on_closed_contact",
                message: "\(action.kindName) by \(action.agent) came after the contact had closed: kept, not applied"))
            return nil
        }
        return c
    }

    mutating func touch(_ c: Int, at time: Timestamp) {
        self.contacts[c].lastActivity = max(self.contacts[c].lastActivity, time)
    }

    /// Resolved or referred out: pending obligations are cancelled (breached ones keep their
    /// violation), and the contact is no longer the number's open one.
    mutating func close(_ c: Int, _ resolution: Resolution, rule: String, message: String) {
        for o in self.contacts[c].obligations.indices where self.contacts[c].obligations[o].state == .pending {
            self.contacts[c].obligations[o].state = .cancelled
            self.explain(c, WhyEntry(
                at: resolution.at, rule: "obligation_cancelled",
                message: "\(self.contacts[c].obligations[o].id) cancelled: the contact was \(resolution.kind.rawValue)"))
        }
        self.contacts[c].resolution = resolution
        self.touch(c, at: resolution.at)
        self.explain(c, WhyEntry(at: resolution.at, rule: rule, message: message))
        if self.open == c { self.open = nil }
    }

    /// A visit or letter: joins the number's open contact, else opens one; the receiving agent
    /// becomes first responder if there is none yet.
    mutating func openByHand(_ manual: ManualContact, action: ManualAction) {
        let c: Int
        if let open = self.open {
            c = open
            self.explain(c, WhyEntry(
                at: action.at, rule: "attach",
                message: "\(manual.channel.rawValue) received by \(action.agent) while the contact is open: \(manual.matter)"))
        } else {
            let department = manual.department ?? self.directory.departmentOf(action.agent) ?? self.directory.fallbackDepartment
            let category = manual.category ?? department.flatMap { self.directory.department($0)?.category } ?? .service
            var contact = Contact(
                id: ContactID.derived(customerKey: self.customerKey, openedAt: action.at), customer: manual.customer,
                customerRaw: manual.customerRaw, channel: manual.channel, department: department, category: category,
                createdAt: action.at)
            if let previous = self.contacts.last, let closed = previous.closedAt ?? previous.resolution?.at, action.at - closed <= self.policy.repeatWindow {
                contact.repeatOf = previous.id
            }
            self.contacts.append(contact)
            c = self.contacts.count - 1
            self.open = c
            self.explain(c, WhyEntry(
                at: action.at, rule: "open_contact",
                message: "\(manual.channel.rawValue) received by \(action.agent): new contact, department \(department?.rawValue ?? "none"): \(manual.matter)"))
        }
        self.touch(c, at: action.at)
        if self.contacts[c].firstResponder == nil {
            self.contacts[c].firstResponder = FirstResponder(agent: action.agent, boundAt: action.at, via: .manual, call: nil)
            self.explain(c, WhyEntry(
                at: action.at, rule: "bind_first_responder",
                message: "agent \(self.directory.label(action.agent)) received the \(manual.channel.rawValue): first responder"))
        }
    }

    // MARK: Contacts

    mutating func openContact(for call: Call) -> Int {
        let id = ContactID.derived(customerKey: self.customerKey, openedAt: call.start)
        let answeringDepartment = call.answers.first.flatMap { self.directory.departmentOf($0.agent) }
        let directDepartment = call.directDialAgent.flatMap { self.directory.departmentOf($0) }
        let department = call.department ?? answeringDepartment ?? directDepartment ?? self.directory.fallbackDepartment
        let category = call.category ?? department.flatMap { self.directory.department($0)?.category } ?? .service
        var contact = Contact(
            id: id, customer: call.customer, customerRaw: call.customerRaw, channel: .phone,
            department: department, category: category, createdAt: call.start)
        contact.calls = [call.key]
        contact.ringNoAnswer = call.ringNoAnswer
        self.explain(self.contacts.count, WhyEntry(
            at: call.start, rule: "open_contact",
            message: "inbound call from \(call.customer.masked): new contact, department \(department?.rawValue ?? "none")",
            call: call.key, evidence: call.evidence))
        if let routed = call.department { self.routed[id] = routed }
        if let previous = self.contacts.last, let closed = previous.closedAt ?? previous.resolution?.at, call.start - closed <= self.policy.repeatWindow {
            contact.repeatOf = previous.id
            self.explain(self.contacts.count, WhyEntry(
                at: call.start, rule: "repeat_of",
                message: "the number's last contact \(previous.id) closed \(closed), within repeat_window \(DurationSpec.text(self.policy.repeatWindow)): repeat",
                call: call.key))
        }
        self.contacts.append(contact)
        self.open = self.contacts.count - 1
        return self.contacts.count - 1
    }

    mutating func attach(_ index: Int, _ call: Call, reason: String) {
        if !self.contacts[index].calls.contains(call.key) { self.contacts[index].calls.append(call.key) }
        let known = Set(self.contacts[index].ringNoAnswer)
        self.contacts[index].ringNoAnswer += call.ringNoAnswer.filter { !known.contains($0) }
        if self.contacts[index].department == nil { self.contacts[index].department = call.department }
        self.note(index, call, "attach", reason)
    }

    mutating func bind(_ index: Int, agent: AgentID, at time: Timestamp, via: BindingVia, call: Call) {
        let contactID = self.contacts[index].id
        self.contacts[index].firstResponder = FirstResponder(agent: agent, boundAt: time, via: via, call: call.key)
        self.bindingCallEnd[contactID] = call.end
        if !call.ringNoAnswer.isEmpty {
            self.note(index, call, "ring_no_answer",
                      "rung without answering: \(call.ringNoAnswer.map(\.rawValue).joined(separator: ", "))", at: call.start)
        }
        self.note(index, call, "bind_first_responder",
                  "agent \(self.directory.label(agent)) answered (\(via.rawValue)) at \(time): first responder", at: time)
    }

    func outstanding(_ index: Int, _ kind: ObligationKind) -> Int? {
        self.contacts[index].obligations.lastIndex { $0.kind == kind && $0.state.isOutstanding }
    }

    func note(_ index: Int, _ call: Call, _ rule: String, _ message: @autoclosure () -> String, at time: Timestamp? = nil) {
        self.explain(index, WhyEntry(at: time ?? call.end, rule: rule, message: message(), call: call.key, evidence: call.evidence))
    }

    /// Adds a trail entry to contact `index`; the entry is only built when explaining.
    func explain(_ index: Int, _ entry: @autoclosure () -> WhyEntry) {
        guard let trail = self.trail else { return }
        trail.entries[index, default: []].append(entry())
    }

    static func describe(_ owner: Owner) -> String {
        owner.agent.map { "agent \($0) (\(owner.department))" } ?? "department \(owner.department)"
    }

    // MARK: Final state

    mutating func finish(asOf: Timestamp) -> Derivation {
        var next: [Timestamp] = []
        for c in self.contacts.indices {
            let contactID = self.contacts[c].id
            for o in self.contacts[c].obligations.indices {
                next += self.settle(c, o, asOf: asOf)
            }
            // not_handed_over: answered a contact routed to another department and kept it.
            if let routed = self.routed[contactID], let responder = self.contacts[c].firstResponder,
                responder.via == .inbound, let own = self.directory.departmentOf(responder.agent), own != routed,
                let callEnd = self.bindingCallEnd[contactID]
            {
                let sla = self.directory.department(routed)?.handoffSLA ?? 7200
                let deadline = self.directory.hours(of: routed).adding(sla, to: callEnd)
                let handedOff = self.contacts[c].obligations.contains { $0.kind == .handoff && $0.createdAt <= deadline }
                let settled = self.contacts[c].resolution.map { $0.at <= deadline } ?? false
                if !handedOff, !settled {
                    if deadline <= asOf {
                        self.violations.append(Violation(
                            id: ViolationID("\(contactID.rawValue).nho"), obligation: nil, contact: contactID,
                            category: .notHandedOver, department: own, agent: responder.agent, at: deadline))
                        self.explain(c, WhyEntry(
                            at: deadline, rule: "not_handed_over",
                            message: "agent \(responder.agent) (\(own)) answered a contact routed to \(routed) and neither handed it off nor resolved it within \(DurationSpec.text(sla))"))
                    } else {
                        next.append(deadline)
                    }
                }
            }
            let contact = self.contacts[c]
            if let resolution = contact.resolution {
                self.contacts[c].status = resolution.kind == .resolved ? .resolved : .referredOut
            } else if contact.closedAt != nil {
                self.contacts[c].status = .closed
            } else if contact.obligations.contains(where: { $0.kind == .callback && $0.state.isOutstanding }) {
                self.contacts[c].status = .awaitingCallback
            } else if contact.obligations.contains(where: { $0.kind == .handoff && $0.state != .cancelled }) {
                self.contacts[c].status = .handedOff
            } else {
                self.contacts[c].status = .open
            }
            if contact.closedAt == nil, contact.resolution == nil,
                !contact.obligations.contains(where: { $0.state.isOutstanding })
            {
                next.append(contact.lastActivity + self.policy.autoClose)
            }
        }
        self.violations.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        if let trail = self.trail {
            for c in self.contacts.indices { self.contacts[c].why = trail.entries[c] ?? [] }
        }
        return Derivation(
            contacts: self.contacts, violations: self.violations,
            nextCheck: next.filter { $0 > asOf }.min(), unattached: self.unattached)
    }

    /// Escalation, at-risk and not_escalated for one obligation; returns its future check times.
    mutating func settle(_ c: Int, _ o: Int, asOf: Timestamp) -> [Timestamp] {
        let obligation = self.contacts[c].obligations[o]
        let department = self.directory.department(obligation.owner.department)
        let hours = self.directory.hours(of: obligation.owner.department)
        var next: [Timestamp] = []
        switch obligation.state {
        case .pending:
            next.append(Self.deadline(of: obligation))
            let acknowledging = obligation.kind == .handoff && obligation.acknowledgedAt == nil
            let sla = obligation.kind == .callback
                ? department?.callbackSLA ?? 1800
                : (acknowledging ? department?.handoffAckSLA ?? 900 : department?.handoffSLA ?? 7200)
            let riskAt = hours.adding(sla * Int64(self.policy.atRiskPercent) / 100, to: obligation.createdAt)
            if riskAt <= asOf {
                self.contacts[c].obligations[o].atRisk = true
                self.contacts[c].obligations[o].atRiskSince = riskAt
            } else {
                next.append(riskAt)
            }
        case .breached, .satisfiedLate:
            guard let breachedAt = obligation.breachedAt else { break }
            let escalateAfter = department?.escalateAfter ?? 3600
            let levelTwoAt = hours.adding(escalateAfter, to: breachedAt)
            let neglectedAt = hours.adding(escalateAfter, to: levelTwoAt)
            // A resolution or referral ends the matter: escalation stops there.
            let settledAt = self.contacts[c].resolution?.at
            let openUntil = obligation.satisfiedAt ?? settledAt.map { min($0, asOf) } ?? asOf
            let reached = obligation.state == .breached ? openUntil >= levelTwoAt : openUntil > levelTwoAt
            self.contacts[c].obligations[o].escalationLevel = reached ? 2 : 1
            self.contacts[c].obligations[o].escalatedAt = reached ? levelTwoAt : breachedAt
            self.explain(c, WhyEntry(
                at: breachedAt, rule: "escalation",
                message: "\(obligation.id) escalated to level 1: head of \(obligation.owner.department)", call: obligation.call))
            if reached {
                self.explain(c, WhyEntry(
                    at: levelTwoAt, rule: "escalation",
                    message: "\(obligation.id) still open after \(DurationSpec.text(escalateAfter)): level 2, leadership",
                    call: obligation.call))
                let neglected = obligation.state == .breached ? openUntil >= neglectedAt : openUntil > neglectedAt
                if neglected {
                    self.violations.append(Violation(
                        id: ViolationID("\(obligation.id.rawValue).ne"), obligation: obligation.id,
                        contact: self.contacts[c].id, category: .notEscalated, department: obligation.owner.department,
                        agent: department?.head, at: neglectedAt))
                    self.explain(c, WhyEntry(
                        at: neglectedAt, rule: "not_escalated",
                        message: "\(obligation.id) stayed unsatisfied \(DurationSpec.text(escalateAfter)) after reaching leadership: not_escalated against the head of \(obligation.owner.department)\(department?.head.map { " (\($0))" } ?? "")",
                        call: obligation.call))
                } else if obligation.state == .breached, settledAt == nil {
                    next.append(neglectedAt)
                }
            } else if obligation.state == .breached, settledAt == nil {
                next.append(levelTwoAt)
            }
        case .satisfied, .exhausted, .cancelled:
            break
        }
        return next
    }
}
