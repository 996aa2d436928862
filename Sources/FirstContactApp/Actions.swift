import FirstContactCore
import FirstContactStore
import Foundation

/// Why a person's action was refused.
package enum ActionError: Error, CustomStringConvertible, Equatable {
    case unknownAgent(AgentID)
    case unknownObligation(ObligationID)
    case notAHandoff(ObligationID)
    case notOutstanding(ObligationID, ObligationState)
    case notTheReceiver(AgentID, Owner)
    case unknownViolation(ViolationID)
    case emptyReason
    case unknownContact(ContactID)
    case contactNotOpen(ContactID, ContactStatus)
    case unknownDepartment(DepartmentID)
    case agentNotInDepartment(AgentID, DepartmentID)
    case missingField(String)
    case notAManualChannel(ContactChannel)

    package var description: String {
        switch self {
        case .unknownAgent(let agent): "no agent \(agent) in the configuration"
        case .unknownObligation(let id): "no obligation \(id)"
        case .notAHandoff(let id): "\(id) is a callback; only hand-offs are acknowledged"
        case .notOutstanding(let id, let state):
            "\(id) is \(state.rawValue); only a pending or breached hand-off can be acknowledged"
        case .notTheReceiver(let agent, let owner):
            "agent \(agent) is not on the receiving side of this hand-off (owed by \(owner.agent.map { "agent \($0)" } ?? "department \(owner.department)"))"
        case .unknownViolation(let id): "no violation \(id)"
        case .emptyReason: "a review needs a reason"
        case .unknownContact(let id): "no contact \(id)"
        case .contactNotOpen(let id, let status):
            "contact \(id) is \(status.rawValue); only an open contact can be resolved, referred or handed off"
        case .unknownDepartment(let id): "no department \(id) in the configuration"
        case .agentNotInDepartment(let agent, let department): "agent \(agent) is not in department \(department)"
        case .missingField(let name): "\"\(name)\" is required and may not be empty"
        case .notAManualChannel(let channel): "contacts by hand are visits or letters, not \(channel.rawValue)"
        }
    }
}

extension Engine {
    /// Records that `agent` has read a hand-off (POLICY art. 11) and re-derives its customer.
    /// Acknowledging twice is harmless: the first acknowledgement stands.
    /// - Returns: the obligation after the acknowledgement.
    package func acknowledge(
        _ id: ObligationID, by agent: AgentID, at time: Timestamp, store: some ContactStore
    ) async throws -> StoredObligation {
        guard let person = self.directory.agent(agent) else { throw ActionError.unknownAgent(agent) }
        guard let stored = try await store.obligation(id) else { throw ActionError.unknownObligation(id) }
        let obligation = stored.obligation
        guard obligation.kind == .handoff else { throw ActionError.notAHandoff(id) }
        guard obligation.state.isOutstanding else { throw ActionError.notOutstanding(id, obligation.state) }
        let head = self.directory.department(obligation.owner.department)?.head == agent
        let receiving = obligation.owner.agent.map { $0 == agent } ?? (person.department == obligation.owner.department)
        guard receiving || head else { throw ActionError.notTheReceiver(agent, obligation.owner) }
        try await store.record(.acknowledgement(of: id, by: agent, at: time))
        try await self.applyWatermark(store: store)
        return try await store.obligation(id) ?? stored
    }

    /// Records a supervisor's decision on a violation.
    package func review(
        _ id: ViolationID, decision: ViolationReview.Decision, reason: String, by reviewer: String, at time: Timestamp,
        store: some ContactStore
    ) async throws {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ActionError.emptyReason }
        do {
            try await store.review(id, ViolationReview(decision: decision, reason: trimmed, by: reviewer, at: time))
        } catch StoreError.notFound {
            throw ActionError.unknownViolation(id)
        }
    }
}

extension Engine {
    /// Records a person's action on a contact (note, resolution, referral, hand-off by hand,
    /// reassignment, complaint, poor service) after checking it against the rules, and re-derives
    /// the contact's customer. The same action recorded twice (same kind, contact, person, second
    /// and text) is stored once.
    /// - Parameter current: the contact as the caller has just read it (to check scope), so it is
    ///   not derived again to check that it is still open.
    /// - Returns: the contact as derived afterwards, with its trail.
    package func record(
        _ kind: ManualAction.Kind, by person: AgentID, at time: Timestamp, store: some ContactStore,
        current: Contact? = nil
    ) async throws -> ContactDetail {
        try self.validate(kind, by: person)
        let contactID: ContactID?
        switch kind {
        case .open:
            contactID = nil
        default:
            guard let id = kind.contact else { throw ActionError.missingField("contact") }
            let known: Contact?
            if let current, current.id == id {
                known = current
            } else {
                known = try await store.contact(id, correlator: self.correlator)?.contact
            }
            guard let contact = known else { throw ActionError.unknownContact(id) }
            switch kind {
            case .resolve, .referOut, .handoff:
                let open: Set<ContactStatus> = [.open, .awaitingCallback, .handedOff]
                guard open.contains(contact.status) else { throw ActionError.contactNotOpen(id, contact.status) }
            default: break
            }
            contactID = id
        }
        let action = ManualAction(
            id:
                "\(kind.name):\(contactID?.rawValue ?? "-"):\(person.rawValue):\(time.seconds):\(StableHash.hex(kind.idText))",
            at: time, agent: person, kind: kind)
        try await store.record(action)
        try await self.applyWatermark(store: store)
        let id: ContactID
        if let contactID {
            id = contactID
        } else if case .open(let manual) = kind {
            // A visit joins the number's open contact if there is one, else it opened a new one.
            let key = action.customerKey ?? manual.customer.text
            guard
                let contact = try await store.contacts(ContactQuery(customer: key, limit: Int.max))
                    .filter({ $0.createdAt <= time }).max(by: { $0.createdAt < $1.createdAt })
            else { throw ActionError.unknownContact(ContactID.derived(customerKey: key, openedAt: time)) }
            id = contact.id
        } else {
            throw ActionError.missingField("contact")
        }
        guard let detail = try await store.contact(id, correlator: self.correlator) else {
            throw ActionError.unknownContact(id)
        }
        return detail
    }

    private func validate(_ kind: ManualAction.Kind, by person: AgentID) throws {
        func required(_ text: String, _ name: String) throws {
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ActionError.missingField(name)
            }
        }
        func known(_ agent: AgentID) throws {
            guard self.directory.agent(agent) != nil else { throw ActionError.unknownAgent(agent) }
        }
        switch kind {
        case .acknowledge:
            break
        case .note(_, let text): try required(text, "text")
        case .resolve(_, let note): try required(note, "note")
        case .referOut(_, let body, let told):
            try required(body, "to")
            try required(told, "told")
        case .handoff(_, let owner, let registration):
            guard self.directory.department(owner.department) != nil else {
                throw ActionError.unknownDepartment(owner.department)
            }
            if let agent = owner.agent {
                try known(agent)
                guard self.directory.departmentOf(agent) == owner.department else {
                    throw ActionError.agentNotInDepartment(agent, owner.department)
                }
            }
            try required(registration.name, "name")
            try required(registration.phone, "phone")
            try required(registration.matter, "matter")
        case .reassign(_, let agent, let reason):
            try known(agent)
            try required(reason, "reason")
        case .complaint(_, let text): try required(text, "text")
        case .poorService(_, let agent, let text):
            try known(agent)
            try required(text, "text")
        case .open(let manual):
            try known(person)
            guard manual.channel != .phone else { throw ActionError.notAManualChannel(manual.channel) }
            try required(manual.customerRaw, "customer")
            try required(manual.matter, "matter")
            if let department = manual.department, self.directory.department(department) == nil {
                throw ActionError.unknownDepartment(department)
            }
        }
    }
}
