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
    /// The order the store accepted actions in. Actions in the same second apply in this order
    /// (a hand-off posted right after the visit it is about comes after it), whatever their
    /// kind or id; 0 for an action not stored yet.
    package var sequence: Int64

    package init(id: String, at: Timestamp, agent: AgentID, kind: Kind, sequence: Int64 = 0) {
        self.id = id
        self.at = at
        self.agent = agent
        self.kind = kind
        self.sequence = sequence
    }

    /// The key the action is filed under: the customer of its contact. A visit or letter from a
    /// customer who is not a number ("alice", "前台来访", none) is its own customer, keyed by the
    /// action, so strangers never share a matter; nil for actions that name a contact or obligation.
    package var customerKey: String? {
        guard case .open(let manual) = self.kind else { return nil }
        return manual.isNumbered ? manual.customer.text : "walk-in:\(StableHash.hex(self.id))"
    }

    /// An acknowledgement's id: obligation, agent and time.
    package static func acknowledgement(of obligation: ObligationID, by agent: AgentID, at time: Timestamp)
        -> ManualAction
    {
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

extension ManualAction.Kind {
    /// Every field of the action as text, hashed into its id (see `Engine.record`): two actions
    /// of the same person in the same second differ in it, the same action recorded twice does
    /// not. Spelled out field by field, with the type names as literals, because stored ids were
    /// made from exactly this text: renaming or moving a type must not change a later id.
    package var idText: String {
        switch self {
        case .acknowledge(let obligation):
            return "acknowledge(obligation: \(obligation.rawValue))"
        case .note(let contact, let text):
            return "note(contact: \(contact.rawValue), text: \(Self.quoted(text)))"
        case .resolve(let contact, let note):
            return "resolve(contact: \(contact.rawValue), note: \(Self.quoted(note)))"
        case .referOut(let contact, let body, let told):
            return "referOut(contact: \(contact.rawValue), body: \(Self.quoted(body)), told: \(Self.quoted(told)))"
        case .handoff(let contact, let owner, let registration):
            let to =
                "FirstContactCore.Owner(department: \(owner.department.rawValue), agent: \(Self.optional(owner.agent?.rawValue)))"
            let registered =
                "FirstContactCore.HandoffRegistration(unit: \(Self.quoted(registration.unit)), "
                + "name: \(Self.quoted(registration.name)), phone: \(Self.quoted(registration.phone)), "
                + "matter: \(Self.quoted(registration.matter)), place: \(Self.quoted(registration.place)))"
            return "handoff(contact: \(contact.rawValue), to: \(to), registration: \(registered))"
        case .reassign(let contact, let agent, let reason):
            return "reassign(contact: \(contact.rawValue), to: \(agent.rawValue), reason: \(Self.quoted(reason)))"
        case .complaint(let contact, let text):
            return "complaint(contact: \(contact.rawValue), text: \(Self.quoted(text)))"
        case .poorService(let contact, let agent, let text):
            return "poorService(contact: \(contact.rawValue), agent: \(agent.rawValue), text: \(Self.quoted(text)))"
        case .open(let manual):
            let channel =
                switch manual.channel {
                case .phone: "phone"
                case .visit: "visit"
                case .letter: "letter"
                }
            let customer =
                switch manual.customer {
                case .e164(let number): "e164(\(Self.quoted(number)))"
                case .other(let text): "other(\(Self.quoted(text)))"
                case .withheld: "withheld"
                }
            let category = manual.category.map { category in
                let name =
                    switch category {
                    case .service: "service"
                    case .consultation: "consultation"
                    case .inquiry: "inquiry"
                    case .complaint: "complaint"
                    case .instruction: "instruction"
                    case .notice: "notice"
                    case .report: "report"
                    }
                return "FirstContactCore.ContactCategory.\(name)"
            }
            return "open(FirstContactCore.ManualContact(channel: FirstContactCore.ContactChannel.\(channel), "
                + "customer: FirstContactCore.CustomerNumber.\(customer), customerRaw: \(Self.quoted(manual.customerRaw)), "
                + "department: \(Self.optional(manual.department?.rawValue)), category: \(Self.optional(category)), "
                + "matter: \(Self.quoted(manual.matter))))"
        }
    }

    private static func optional(_ text: String?) -> String {
        text.map { "Optional(\($0))" } ?? "nil"
    }

    /// `text` as a Swift string literal: in quotes, with `\`, quotes and control characters
    /// escaped, and any scalar that would join the quote or an escape into one character
    /// written as `\u{…}`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        var afterEscape = true
        var trailingUnescaped = 0
        for scalar in text.unicodeScalars {
            let escaped = scalar.escaped(asASCII: false)
            if escaped.unicodeScalars.count > 1 || escaped.unicodeScalars.first != scalar {
                result += escaped
                afterEscape = true
                trailingUnescaped = 0
            } else if afterEscape, let last = result.unicodeScalars.last, Self.joins(last, scalar) {
                result += scalar.escaped(asASCII: true)
                trailingUnescaped = 0
            } else {
                result.unicodeScalars.append(scalar)
                afterEscape = false
                trailingUnescaped += 1
            }
        }
        // Scalars that join what follows (prepended concatenation marks) would swallow the
        // closing quote, or the backslash of the escape after them.
        var tail = ""
        var next: Unicode.Scalar = "\""
        while trailingUnescaped > 0, let last = result.unicodeScalars.last, Self.joins(last, next) {
            result.unicodeScalars.removeLast()
            tail = last.escaped(asASCII: true) + tail
            next = "\\"
            trailingUnescaped -= 1
        }
        return result + tail + "\""
    }

    /// Whether `left` and `right` make one character (no grapheme break between them).
    private static func joins(_ left: Unicode.Scalar, _ right: Unicode.Scalar) -> Bool {
        var pair = String.UnicodeScalarView()
        pair.append(left)
        pair.append(right)
        return String(pair).count == 1
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

    /// Whether the customer is a number the phone records can share: E.164, or a short number /
    /// extension made of digits (`96116`, `8001`). Names and descriptions are not.
    package var isNumbered: Bool {
        switch self.customer {
        case .e164: true
        case .withheld: false
        case .other(let raw):
            raw.contains(where: \.isNumber) && raw.allSatisfy { $0.isASCII && ($0.isNumber || "+-#* ".contains($0)) }
        }
    }
}

/// How a contact was settled by a person (SPEC rule 9).
package struct Resolution: Hashable, Sendable {
    package enum Kind: String, Hashable, Sendable {
        case resolved
        case referredOut = "referred_out"
    }
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
