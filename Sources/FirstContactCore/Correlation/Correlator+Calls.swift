/// What each call does to the customer's contacts (SPEC rules 1, 3, 4, 5): an inbound call opens
/// or joins a contact, a missed one owes a callback, an answered one satisfies what was owed,
/// an outbound call is a callback attempt, a transfer to another department is a hand-off.
extension Correlator.Walk {
    mutating func inbound(_ call: Call) {
        let missed = call.answers.isEmpty
        if call.customer.isWithheld {
            let index = self.openContact(for: call)
            if missed {
                self.note(
                    index, call, .withheldNoCallback, "missed call without caller ID: counted, no callback possible")
            } else {
                self.served(index, call)
            }
            // The contact stays the open one of its key: a withheld call is keyed by itself
            // (``Call/customerKey``), so no other call joins it, while its clocks still run,
            // breach and auto-close it like any other.
            self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
            return
        }
        // The grace is for callers who gave up quickly (abandoned, or hung up while it rang,
        // which Asterisk writes as NO ANSWER); a busy line or a voicemail is a miss however short.
        let gaveUp = call.outcome == .abandoned || call.outcome == .noAnswer
        if missed, gaveUp, call.waitSeconds < self.policy.abandonGrace {
            if let index = self.open {
                self.attach(
                    index, call,
                    reason: "abandoned after \(call.waitSeconds)s, under the abandon grace: attached, no obligation")
                self.contacts[index].lastActivity = max(self.contacts[index].lastActivity, call.end)
            } else {
                self.unattached.append(call.key)
            }
            return
        }
        let index: Int
        if let open = self.open {
            index = open
            // Whom `/v1/route` named for this caller is decided by the contact as it stood before the call.
            let candidates = RouteDecision.candidates(self.contacts[index])
            self.attach(index, call, reason: "inbound call from the same number while the contact is open")
            self.noteRouted(index, call, candidates: candidates)
        } else {
            index = self.openContact(for: call)
        }
        if let request = self.requests[call.key], !request.notes.isEmpty {
            self.note(
                index, call, .ivr, "in the IVR the caller \(request.notes.joined(separator: "; "))", at: call.start)
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
        self.attach(
            index, call,
            reason:
                "outbound call by agent \(agent) to \(call.customer.masked), the number the customer asked to be called at"
        )
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
            self.contacts[index].obligations[o].standing = .exhausted
            self.note(
                index, call, .callbackExhausted,
                "\(obligation.id): attempt \(obligation.attempts) of \(self.policy.maxAttempts) unanswered: exhausted, goes to supervisor review"
            )
        } else {
            self.note(
                index, call, .callbackAttempt,
                "\(obligation.id): unanswered attempt \(obligation.attempts) by agent \(agent)")
        }
    }

    /// A returning caller rang the agent who carries their matter before the queue (SPEC
    /// "Routing a returning caller"). Not answering there is a ring-no-answer on the contact, not
    /// a missed call: the call goes on to the queue, and only if nobody answers it is it a miss.
    mutating func noteRouted(_ index: Int, _ call: Call, candidates: [(AgentID, RouteDecision.Claim)]) {
        guard self.directory.configuration.routing.enabled, let agent = call.rangFirst,
            let claim = candidates.first(where: { $0.0 == agent })?.1
        else { return }
        let outcome: String
        if call.answers.contains(where: { $0.agent == agent }) {
            outcome = "\(agent) answered"
        } else if let other = call.answers.first {
            outcome = "\(agent) did not answer (a ring-no-answer, not a missed call); \(other.agent) answered after"
        } else {
            outcome = "\(agent) did not answer, nor did anyone after"
        }
        self.note(
            index, call, .routed,
            "the call rang \(agent) first, before the queue: \(claim.reason(agent, contact: self.contacts[index].id)); \(outcome)",
            at: call.start)
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
            self.note(
                index, call, .missedCallFolded,
                "missed \(call.outcome.rawValue) call folded into \(obligation.id) (missed \(obligation.missedCount) times; deadline unchanged)"
            )
            return
        }
        if let o = self.outstanding(index, .handoff) {
            let obligation = self.contacts[index].obligations[o]
            self.note(
                index, call, .missedCallHandoffPending,
                "missed call while hand-off \(obligation.id) is pending: the receiver already owes the contact")
            return
        }
        let owner: Owner
        if let agent = call.directDialAgent, let department = self.directory.departmentOf(agent) {
            owner = Owner(department: department, agent: agent)
        } else if let department = self.contacts[index].department ?? call.department
            ?? self.directory.fallbackDepartment
        {
            owner = Owner(department: department, agent: nil)
        } else {
            self.note(index, call, .missedCallUnowned, "missed call but no department is configured: no callback")
            return
        }
        let levels = self.directory.serviceLevels(of: owner.department)
        var obligation = Obligation.callback(
            id: self.obligationID(.callback, createdAt: call.end), owner: owner, missedAt: call.end, call: call.key,
            levels: levels, hours: self.directory.hours(of: owner.department))
        obligation.missedCount = 1
        obligation.callbackNumber = self.requests[call.key]?.number
        self.contacts[index].obligations.append(obligation)
        let whom = owner.agent.map { "agent \($0) (dialled directly)" } ?? "department \(owner.department)"
        self.note(
            index, call, .missedCallCallback,
            "inbound call \(call.outcome.rawValue) after \(call.waitSeconds)s: callback \(obligation.id) owed by \(whom), due \(obligation.dueAt) (\(DurationSpec.text(levels.callback)) business time)"
        )
    }

    /// Answers by the receiving side of a pending hand-off acknowledge it and contact the customer.
    mutating func contactReceivers(_ index: Int, answers: [Call.Answer], call: Call) {
        for o in self.contacts[index].obligations.indices {
            let obligation = self.contacts[index].obligations[o]
            guard obligation.kind == .handoff, obligation.state.isOutstanding, obligation.createdAt <= call.start else {
                continue
            }
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
            self.note(
                index, call, .transferSameDepartment,
                "transferred by agent \(transfer.from) within department \(transfer.to.department): no hand-off")
            return
        }
        let count = (self.transferCount[contactID] ?? 0) + 1
        self.transferCount[contactID] = count
        let left = self.departmentsLeft[contactID] ?? []
        if count > self.policy.maxTransfers || left.contains(transfer.to.department) {
            let why =
                count > self.policy.maxTransfers
                ? "transfer \(count) exceeds max_transfers \(self.policy.maxTransfers)"
                : "transferred back to department \(transfer.to.department), which it already left"
            self.violations.append(
                Violation(
                    id: ViolationID("\(contactID.rawValue).pa\(count)"), obligation: nil, contact: contactID,
                    category: .passedAround, department: fromDepartment ?? transfer.to.department, agent: transfer.from,
                    at: transfer.at))
            self.note(
                index, call, .passedAround, "\(why): passed_around against agent \(transfer.from)", at: transfer.at)
        }
        if let fromDepartment { self.departmentsLeft[contactID, default: []].insert(fromDepartment) }

        var obligation = Obligation.handoff(
            id: self.obligationID(.handoff, createdAt: call.end, to: transfer.to.department), owner: transfer.to,
            madeAt: call.end, call: call.key,
            levels: self.directory.serviceLevels(of: transfer.to.department),
            hours: self.directory.hours(of: transfer.to.department))
        if let receiver = transfer.answeredBy, let at = transfer.answeredAt {
            obligation.satisfy(Obligation.Satisfaction(at: at, by: receiver, via: .warmTransfer))
            self.contacts[index].obligations.append(obligation)
            self.note(
                index, call, .handoffWarm,
                "agent \(transfer.from) transferred to \(Self.describe(transfer.to)); agent \(receiver) answered: hand-off \(obligation.id) satisfied at once",
                at: transfer.at)
        } else {
            self.contacts[index].obligations.append(obligation)
            self.note(
                index, call, .handoffPending,
                "agent \(transfer.from) transferred to \(Self.describe(transfer.to)) and nobody answered: hand-off \(obligation.id) pending, acknowledge by \(obligation.ackDueAt.map(\.iso8601) ?? "-"), contact the customer by \(obligation.dueAt)",
                at: transfer.at)
        }
    }
}
