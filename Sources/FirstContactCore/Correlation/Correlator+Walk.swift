extension Correlator {
    /// The `why` entries of a derivation, by contact index.
    final class Trail {
        var entries: [Int: [WhyEntry]] = [:]
    }

    /// The state of one derivation while it walks the calls in time order.
    struct Walk {
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
        /// Calls whose records arrived late and are still arriving (a backfill in `serve`): the
        /// obligations they created do not breach on the clock until their source has settled.
        var undecided: Set<CallKey> = []
        var undecidedDueBy: Timestamp = .beforeAnyRecord
        var held: Set<ObligationID> = []
        /// What callers did in the IVR, by call.
        var requests: [CallKey: IVRRequest] = [:]
        /// The settled past the walk starts after (its last contact is what a repeat looks back to).
        var past: SettledPast?
        /// Contacts with a clock still to run as of the end of the walk (set by `finish`).
        var waiting: Set<ContactID> = []

        /// Collects the `why` entries when explaining (a reference, so that non-mutating `note`
        /// can take its message lazily without overlapping access to the walk).
        let trail: Trail?

        init(directory: Directory, customerKey: String, trail: Trail?) {
            self.directory = directory
            self.customerKey = customerKey
            self.trail = trail
        }
    }
}

// MARK: Helpers shared by every step of the walk

extension Correlator.Walk {
    /// Whether the clock of this obligation, due at `deadline`, waits for its backfill to settle.
    func awaitsSource(_ obligation: Obligation, deadline: Timestamp) -> Bool {
        deadline <= self.undecidedDueBy && self.undecided.contains(obligation.call)
    }

    func contactIndex(_ id: ContactID) -> Int? { self.contacts.firstIndex { $0.id == id } }

    mutating func touch(_ c: Int, at time: Timestamp) {
        self.contacts[c].lastActivity = max(self.contacts[c].lastActivity, time)
    }

    /// A new obligation's id (``ObligationID/derived(customerKey:kind:createdAt:to:ordinal:)``):
    /// the first ordinal no obligation of this customer has taken yet.
    func obligationID(_ kind: ObligationKind, createdAt: Timestamp, to department: DepartmentID? = nil) -> ObligationID
    {
        var ordinal = 1
        while true {
            let id = ObligationID.derived(
                customerKey: self.customerKey, kind: kind, createdAt: createdAt, to: department, ordinal: ordinal)
            guard self.contacts.contains(where: { $0.obligations.contains { $0.id == id } }) else { return id }
            ordinal += 1
        }
    }

    func outstanding(_ index: Int, _ kind: ObligationKind) -> Int? {
        self.contacts[index].obligations.lastIndex { $0.kind == kind && $0.state.isOutstanding }
    }

    func note(
        _ index: Int, _ call: Call, _ rule: WhyRule, _ message: @autoclosure () -> String, at time: Timestamp? = nil
    ) {
        self.explain(
            index,
            WhyEntry(at: time ?? call.end, rule: rule, message: message(), call: call.key, evidence: call.evidence))
    }

    /// Adds a trail entry to contact `index`; the entry is only built when explaining.
    func explain(_ index: Int, _ entry: @autoclosure () -> WhyEntry) {
        guard let trail = self.trail else { return }
        trail.entries[index, default: []].append(entry())
    }

    static func describe(_ owner: Owner) -> String {
        owner.agent.map { "agent \($0) (\(owner.department))" } ?? "department \(owner.department)"
    }
}
