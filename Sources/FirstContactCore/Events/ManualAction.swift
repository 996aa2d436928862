/// Something a person recorded about a customer's matter (CLI or API): an input to correlation
/// like a call record, stored and replayed in time order, so a re-derivation keeps it.
package struct ManualAction: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        /// The receiver of a hand-off has read it (POLICY art. 11: "as soon as they have read it").
        case acknowledge(obligation: ObligationID)
        /// A note on the contact (what was said, what was done); counts as activity.
        case note(contact: ContactID, text: String)
        /// Settled (SPEC rule 9): pending obligations are cancelled.
        case resolve(contact: ContactID, note: String)
        /// Not the company's business (POLICY art. 12): which outside body, what the customer was told.
        case referOut(contact: ContactID, body: String, told: String)
        /// A hand-off registered by hand (POLICY art. 11): owed by `to`, clocks from the registration.
        case handoff(contact: ContactID, to: Owner, registration: HandoffRegistration)
        /// A supervisor makes another agent the first responder, with a reason.
        case reassign(contact: ContactID, to: AgentID, reason: String)
        /// A complaint about how the contact was handled (POLICY art. 21), filed against its first responder.
        case complaint(contact: ContactID, text: String)
        /// A supervisor records cold treatment (POLICY §5 #4), against an agent.
        case poorService(contact: ContactID, agent: AgentID, text: String)
        /// A visit or letter received by `agent` (SPEC rule 9): a contact created by hand.
        case open(ManualContact)
    }

    /// Stable id: the same action recorded twice is one action.
    package var id: String
    package var at: Timestamp
    /// Who recorded it: the agent, or for supervisor actions (reassign, complaint, poor service)
    /// the supervisor's token name.
    package var agent: AgentID
    package var kind: Kind

    package init(id: String, at: Timestamp, agent: AgentID, kind: Kind) {
        self.id = id
        self.at = at
        self.agent = agent
        self.kind = kind
    }

    /// An acknowledgement's id: obligation, agent and time.
    package static func acknowledgement(of obligation: ObligationID, by agent: AgentID, at time: Timestamp) -> ManualAction {
        ManualAction(
            id: "ack:\(obligation.rawValue):\(agent.rawValue):\(time.seconds)", at: time, agent: agent,
            kind: .acknowledge(obligation: obligation))
    }

    /// The contact the action is about (see ``Kind/contact``).
    package var contact: ContactID? { self.kind.contact }

    /// The kind's name as stored and shown (see ``Kind/name``).
    package var kindName: String { self.kind.name }
}

extension ManualAction.Kind {
    /// The contact the action is about (nil for acknowledgements, which name an obligation, and
    /// for a contact created by hand, which has no id before it is derived).
    package var contact: ContactID? {
        switch self {
        case .acknowledge, .open: nil
        case .note(let contact, _), .resolve(let contact, _), .referOut(let contact, _, _), .handoff(let contact, _, _),
            .reassign(let contact, _, _), .complaint(let contact, _), .poorService(let contact, _, _):
            contact
        }
    }

    /// The name as stored and shown (`note`, `refer_out`, …).
    package var name: String {
        switch self {
        case .acknowledge: "acknowledge"
        case .note: "note"
        case .resolve: "resolve"
        case .referOut: "refer_out"
        case .handoff: "handoff"
        case .reassign: "reassign"
        case .complaint: "complaint"
        case .poorService: "poor_service"
        case .open: "open"
        }
    }
}

/// What the first responder registers when the right person is absent (POLICY art. 11): the
/// customer's organisation, name, phone and request, and where the customer was sent.
package struct HandoffRegistration: Hashable, Sendable {
    package var unit: String
    package var name: String
    package var phone: String
    package var matter: String
    /// Where the receiving department is, as told to the customer (POLICY art. 8).
    package var place: String

    package init(unit: String, name: String, phone: String, matter: String, place: String = "") {
        self.unit = unit
        self.name = name
        self.phone = phone
        self.matter = matter
        self.place = place
    }
}

/// A contact created by hand: a visit or a letter, received by the recording agent.
package struct ManualContact: Hashable, Sendable {
    package var channel: ContactChannel
    package var customer: CustomerNumber
    package var customerRaw: String
    package var department: DepartmentID?
    package var category: ContactCategory?
    package var matter: String

    package init(
        channel: ContactChannel, customer: CustomerNumber, customerRaw: String, department: DepartmentID?,
        category: ContactCategory?, matter: String
    ) {
        self.channel = channel
        self.customer = customer
        self.customerRaw = customerRaw
        self.department = department
        self.category = category
        self.matter = matter
    }
}

/// How a contact was settled by a person (SPEC rule 9).
package struct Resolution: Hashable, Sendable {
    package enum Kind: String, Hashable, Sendable { case resolved, referredOut = "referred_out" }
    package var kind: Kind
    package var at: Timestamp
    package var by: AgentID
    package var note: String
    /// Referrals: the outside body the customer was sent to.
    package var referredTo: String?

    package init(kind: Kind, at: Timestamp, by: AgentID, note: String, referredTo: String? = nil) {
        self.kind = kind
        self.at = at
        self.by = by
        self.note = note
        self.referredTo = referredTo
    }
}
