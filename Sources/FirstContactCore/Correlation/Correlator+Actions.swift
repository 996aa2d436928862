/// What people record (SPEC rule 9, POLICY art. 11): acknowledging a hand-off, visits and
/// letters, notes, resolving, referring out, handing off by hand, reassigning, complaints.
extension Correlator.Walk {
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
                self.explain(
                    c,
                    WhyEntry(
                        at: action.at, rule: .handoffAcknowledged,
                        message:
                            "agent \(action.agent) acknowledged hand-off \(id)\(late ? " after its acknowledge clock ran out" : ""); the contact-the-customer clock runs until \(obligation.dueAt)"
                    ))
                return
            }
        case .open(let manual):
            self.openByHand(manual, action: action)
        case .note(let id, let text):
            guard let c = self.contactIndex(id) else { return }
            self.touch(c, at: action.at)
            self.explain(c, WhyEntry(at: action.at, rule: .note, message: "\(who): \(text)"))
        case .resolve(let id, let note):
            guard let c = self.settleable(id, action) else { return }
            self.close(
                c, Resolution(kind: .resolved, at: action.at, by: who, note: note), rule: .resolved,
                message: "\(who) resolved the contact: \(note)")
        case .referOut(let id, let body, let told):
            guard let c = self.settleable(id, action) else { return }
            self.close(
                c, Resolution(kind: .referredOut, at: action.at, by: who, note: told, referredTo: body),
                rule: .referredOut,
                message: "\(who) referred the customer to \(body); told them: \(told)")
        case .handoff(let id, let owner, let registration):
            guard let c = self.settleable(id, action) else { return }
            var obligation = Obligation.handoff(
                id: self.obligationID(.handoff, createdAt: action.at, to: owner.department),
                owner: owner, madeAt: action.at, call: CallKey("action:\(action.id)"),
                levels: self.directory.serviceLevels(of: owner.department),
                hours: self.directory.hours(of: owner.department))
            obligation.registration = registration
            self.contacts[c].obligations.append(obligation)
            self.touch(c, at: action.at)
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .handoffByHand,
                    message:
                        "\(who) handed the matter to \(Self.describe(owner)) by hand (\(registration.name), \(registration.unit): \(registration.matter)): hand-off \(obligation.id), acknowledge by \(obligation.ackDueAt.map(\.iso8601) ?? "-"), contact the customer by \(obligation.dueAt)"
                ))
        case .reassign(let id, let agent, let reason):
            guard let c = self.contactIndex(id) else { return }
            let previous = self.contacts[c].firstResponder?.agent
            self.contacts[c].firstResponder = FirstResponder(
                agent: agent, boundAt: action.at, via: .reassigned, call: nil)
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .reassigned,
                    message:
                        "\(who) made agent \(self.directory.label(agent)) first responder\(previous.map { " instead of agent \($0)" } ?? ""): \(reason)"
                ))
        case .complaint(let id, let text):
            guard let c = self.contactIndex(id) else { return }
            let against = self.contacts[c].firstResponder?.agent
            let department = against.flatMap { self.directory.departmentOf($0) } ?? self.contacts[c].department
            guard let department else { return }
            self.violations.append(
                Violation(
                    id: ViolationID("\(id.rawValue).cp\(StableHash.hex(action.id))"), obligation: nil, contact: id,
                    category: .complaint, department: department, agent: against, at: action.at))
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .complaint,
                    message:
                        "complaint recorded by \(who) against \(against.map { "agent \($0)" } ?? "department \(department)"): \(text)"
                ))
        case .poorService(let id, let agent, let text):
            guard let c = self.contactIndex(id), let department = self.directory.departmentOf(agent) else { return }
            self.violations.append(
                Violation(
                    id: ViolationID("\(id.rawValue).ps\(StableHash.hex(action.id))"), obligation: nil, contact: id,
                    category: .poorService, department: department, agent: agent, at: action.at))
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .poorService,
                    message: "\(who) recorded poor service by agent \(agent): \(text)"))
        }
    }
    /// Resolving, referring and handing off need the contact to still be open; recorded against a
    /// contact that has since closed (a late record reshaped the history) they are only noted.
    func settleable(_ id: ContactID, _ action: ManualAction) -> Int? {
        guard let c = self.contactIndex(id) else { return nil }
        guard c == self.open else {
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .actionOnClosedContact,
                    message:
                        "\(action.kindName) by \(action.agent) came after the contact had closed: kept, not applied"))
            return nil
        }
        return c
    }
    /// Resolved or referred out: pending obligations are cancelled (breached ones keep their
    /// violation), and the contact is no longer the number's open one.
    mutating func close(_ c: Int, _ resolution: Resolution, rule: WhyRule, message: String) {
        for o in self.contacts[c].obligations.indices where self.contacts[c].obligations[o].state == .pending {
            self.contacts[c].obligations[o].standing = .cancelled
            self.explain(
                c,
                WhyEntry(
                    at: resolution.at, rule: .obligationCancelled,
                    message:
                        "\(self.contacts[c].obligations[o].id) cancelled: the contact was \(resolution.kind.rawValue)"))
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
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .attach,
                    message:
                        "\(manual.channel.rawValue) received by \(action.agent) while the contact is open: \(manual.matter)"
                ))
        } else {
            let department =
                manual.department ?? self.directory.departmentOf(action.agent) ?? self.directory.fallbackDepartment
            let category = manual.category ?? department.flatMap { self.directory.department($0)?.category } ?? .service
            var contact = Contact(
                id: ContactID.derived(customerKey: self.customerKey, openedAt: action.at), customer: manual.customer,
                customerRaw: manual.customerRaw, channel: manual.channel, department: department, category: category,
                createdAt: action.at)
            if let (previous, closed) = self.lastClosedContact(), action.at - closed <= self.policy.repeatWindow {
                contact.repeatOf = previous
            }
            self.contacts.append(contact)
            c = self.contacts.count - 1
            self.open = c
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .openContact,
                    message:
                        "\(manual.channel.rawValue) received by \(action.agent): new contact, department \(department?.rawValue ?? "none"): \(manual.matter)"
                ))
        }
        self.touch(c, at: action.at)
        if self.contacts[c].firstResponder == nil {
            self.contacts[c].firstResponder = FirstResponder(
                agent: action.agent, boundAt: action.at, via: .manual, call: nil)
            self.explain(
                c,
                WhyEntry(
                    at: action.at, rule: .bindFirstResponder,
                    message:
                        "agent \(self.directory.label(action.agent)) received the \(manual.channel.rawValue): first responder"
                ))
        }
    }
}
