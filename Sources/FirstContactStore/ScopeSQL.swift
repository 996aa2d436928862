import FirstContactCore

/// Who may see a contact (``Scope``) as an SQL condition both stores run: the same decision as
/// ``Scope/admits(_:violations:)``, which looks at every obligation and violation of the contact
/// (in any state, not only the listed ones), hence the `EXISTS`. Values are `?` parameters, in order.
package enum ScopeSQL {
    package enum Value: Hashable, Sendable {
        case text(String)
        case int(Int)
    }

    package static func condition(_ scope: Scope, contact c: String) -> (String, [Value]) {
        var alternatives: [String] = []
        var arguments: [Value] = []
        func list(_ departments: Set<DepartmentID>) -> String {
            let names = departments.map(\.rawValue).sorted()
            arguments += names.map(Value.text)
            return "(" + names.map { _ in "?" }.joined(separator: ",") + ")"
        }
        func obligation(_ condition: String) -> String {
            "EXISTS (SELECT 1 FROM obligation x WHERE x.contact_id = \(c).id AND \(condition))"
        }
        func violation(_ condition: String) -> String {
            "EXISTS (SELECT 1 FROM violation v WHERE v.contact_id = \(c).id AND \(condition))"
        }
        for term in scope.terms {
            switch term {
            case .everything:
                return ("1 = 1", [])
            case .contactDepartment(let departments):
                alternatives.append("\(c).department IN \(list(departments))")
            case .answeredBy(let agent):
                alternatives.append("\(c).fr_agent = ?")
                arguments.append(.text(agent.rawValue))
            case .owedBy(let agent):
                alternatives.append(obligation("x.owner_agent = ?"))
                arguments.append(.text(agent.rawValue))
            case .owedByDepartment(let departments):
                alternatives.append(obligation("x.owner_department IN \(list(departments))"))
            case .unassignedHandoff(let department):
                alternatives.append(
                    obligation("x.kind = 'handoff' AND x.owner_agent IS NULL AND x.owner_department = ?"))
                arguments.append(.text(department.rawValue))
            case .escalated(let level, let departments):
                arguments.append(.int(level))
                alternatives.append(
                    obligation(
                        "x.escalation_level >= ?" + (departments.map { " AND x.owner_department IN \(list($0))" } ?? "")
                    ))
            case .violationAgainst(let agent):
                alternatives.append(violation("v.agent = ?"))
                arguments.append(.text(agent.rawValue))
            case .violationOfDepartment(let departments):
                alternatives.append(violation("v.department IN \(list(departments))"))
            }
        }
        guard !alternatives.isEmpty else { return ("1 = 0", []) }
        return ("(" + alternatives.joined(separator: " OR ") + ")", arguments)
    }

    /// The obligations a report covers (``ReportScope``) as an SQL condition on the obligation
    /// row aliased `o`: its department's, or an agent's own and their department's unassigned
    /// hand-offs. An agent without a department has only their own.
    package static func obligations(_ scope: ReportScope, alias o: String) -> (String, [Value]) {
        switch scope {
        case .all:
            return ("1 = 1", [])
        case .departments(let departments):
            guard !departments.isEmpty else { return ("1 = 0", []) }
            let names = departments.map(\.rawValue).sorted()
            return (
                "\(o).owner_department IN (" + names.map { _ in "?" }.joined(separator: ",") + ")",
                names.map(Value.text)
            )
        case .agent(let agent, let department):
            guard let department else { return ("\(o).owner_agent = ?", [.text(agent.rawValue)]) }
            return (
                "(\(o).owner_agent = ? OR (\(o).kind = 'handoff' AND \(o).owner_agent IS NULL AND \(o).owner_department = ?))",
                [.text(agent.rawValue), .text(department.rawValue)]
            )
        }
    }
}
