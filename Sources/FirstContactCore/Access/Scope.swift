/// Which contacts a caller may see and act on: SPEC "Roles", stated once.
///
/// A scope is a list of terms; a contact is in scope when any term admits it. The same terms are
/// checked here against a contact in memory (``admits(_:violations:)``) and rendered to an SQL
/// condition by the store, so a listing, a page read by id, an event stream and a report agree on
/// one set of contacts for one caller. A visible contact shows all of its obligations and
/// violations.
package struct Scope: Hashable, Sendable {
    /// One reason a contact is someone's matter.
    package enum Term: Hashable, Sendable {
        /// Every contact.
        case everything
        /// The contact belongs to one of these departments.
        case contactDepartment(in: Set<DepartmentID>)
        /// The agent first served the customer on it (first responder).
        case answeredBy(AgentID)
        /// One of its obligations is owed by this agent.
        case owedBy(AgentID)
        /// One of its obligations is owed by one of these departments.
        case owedByDepartment(in: Set<DepartmentID>)
        /// One of its hand-offs is owed by this department and no one person in it.
        case unassignedHandoff(of: DepartmentID)
        /// One of its obligations reached escalation `level` (or beyond); when `departments` is
        /// given, only obligations owed by one of them (a head receives level 1 of their own
        /// departments, leadership level 2 of all).
        case escalated(level: Int, departments: Set<DepartmentID>?)
        /// One of its violations is addressed to this agent.
        case violationAgainst(AgentID)
        /// One of its violations is recorded against one of these departments.
        case violationOfDepartment(in: Set<DepartmentID>)
    }

    /// Empty: nothing is in scope.
    package let terms: [Term]
    /// Whether the caller receives notifications about no contact (feed silence), which are
    /// operational: supervisors and admins.
    package let seesFeedAlerts: Bool

    package init(terms: [Term], seesFeedAlerts: Bool) {
        self.terms = terms
        self.seesFeedAlerts = seesFeedAlerts
    }

    package static let everything = Scope(terms: [.everything], seesFeedAlerts: true)
    package static let nothing = Scope(terms: [], seesFeedAlerts: false)

    /// The scope of a token (SPEC "Roles"): `pbx` ingests only; an `agent` sees their own matters
    /// (contacts they answered or own, handed or escalated to them, or with a violation addressed
    /// to them) and their department's unassigned hand-offs; a `supervisor` everything in their
    /// departments; an `admin` everything.
    package static func of(
        role: Token.Role, agent: AgentID?, departments: Set<DepartmentID>, directory: Directory
    ) -> Scope {
        switch role {
        case .admin:
            return .everything
        case .pbx:
            return .nothing
        case .supervisor:
            guard !departments.isEmpty else { return Scope(terms: [], seesFeedAlerts: true) }
            return Scope(
                terms: [
                    .contactDepartment(in: departments), .owedByDepartment(in: departments),
                    .violationOfDepartment(in: departments),
                ],
                seesFeedAlerts: true)
        case .agent:
            guard let me = agent else { return .nothing }
            var terms: [Term] = [.answeredBy(me), .owedBy(me), .violationAgainst(me)]
            if let department = directory.departmentOf(me) { terms.append(.unassignedHandoff(of: department)) }
            let headed = Set(directory.configuration.departments.filter { $0.head == me }.map(\.id))
            if !headed.isEmpty { terms.append(.escalated(level: 1, departments: headed)) }
            if directory.agent(me)?.role == .leader { terms.append(.escalated(level: 2, departments: nil)) }
            return Scope(terms: terms, seesFeedAlerts: false)
        }
    }

    /// Whether the contact is in scope; `violations` are the contact's own.
    package func admits(_ contact: Contact, violations: [Violation]) -> Bool {
        self.terms.contains { term in
            switch term {
            case .everything:
                return true
            case .contactDepartment(let departments):
                return contact.department.map(departments.contains) ?? false
            case .answeredBy(let agent):
                return contact.firstResponder?.agent == agent
            case .owedBy(let agent):
                return contact.obligations.contains { $0.owner.agent == agent }
            case .owedByDepartment(let departments):
                return contact.obligations.contains { departments.contains($0.owner.department) }
            case .unassignedHandoff(let department):
                return contact.obligations.contains {
                    $0.kind == .handoff && $0.owner.agent == nil && $0.owner.department == department
                }
            case .escalated(let level, let departments):
                return contact.obligations.contains {
                    $0.escalationLevel >= level && (departments?.contains($0.owner.department) ?? true)
                }
            case .violationAgainst(let agent):
                return violations.contains { $0.contact == contact.id && $0.agent == agent }
            case .violationOfDepartment(let departments):
                return violations.contains { $0.contact == contact.id && departments.contains($0.department) }
            }
        }
    }

    /// Whether every contact is in scope (no condition to evaluate).
    package var isEverything: Bool { self.terms.contains(.everything) }
}
