import FirstContactCore
import FirstContactStore
import Foundation

/// Who is calling the API: the configuration token their request carried, and what it may see.
package struct Principal: Sendable, Hashable {
    package var name: String
    package var role: Token.Role
    package var agent: AgentID?
    package var departments: Set<DepartmentID>

    package init(name: String, role: Token.Role, agent: AgentID? = nil, departments: Set<DepartmentID> = []) {
        self.name = name
        self.role = role
        self.agent = agent
        self.departments = departments
    }

    /// Finds the token behind an `Authorization` header: `Bearer TOKEN`, or HTTP Basic with the
    /// token as the password (what mod_xml_cdr's `cred` and Asterisk's CURL send).
    /// - Returns: nil for no header, an unknown token or a malformed header.
    package static func authenticate(authorization: String?, tokens: [Token]) -> Principal? {
        guard let header = authorization?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        let secret: String
        if header.lowercased().hasPrefix("bearer ") {
            secret = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        } else if header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            secret = String(pair[pair.index(after: colon)...])
        } else {
            return nil
        }
        guard !secret.isEmpty else { return nil }
        let hash = "sha256:" + SHA256.hex(secret)
        guard let token = tokens.first(where: { Self.constantTimeEqual($0.hash.lowercased(), hash) }) else { return nil }
        return Principal(name: token.name, role: token.role, agent: token.agent, departments: Set(token.departments))
    }

    /// Compares without an early exit, so response times do not reveal how much of a hash matched.
    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// ``canSee(_:directory:)`` as the store evaluates it in SQL (paged listings). The two must
    /// decide alike; `ObligationPagingTests` compares them over the sample day.
    package func visibility(directory: Directory) -> ContactVisibility {
        switch self.role {
        case .admin:
            return .all
        case .pbx:
            return .none
        case .supervisor:
            return .departments(self.departments)
        case .agent:
            guard let me = self.agent else { return .none }
            return .agent(me, department: directory.departmentOf(me))
        }
    }

    /// Whether this caller may see a contact (and act on it): agents their own matters and their
    /// department's hand-offs, supervisors their departments, admins everything.
    package func canSee(_ contact: Contact, directory: Directory) -> Bool {
        switch self.role {
        case .admin:
            return true
        case .pbx:
            return false
        case .supervisor:
            if let department = contact.department, self.departments.contains(department) { return true }
            return contact.obligations.contains { self.departments.contains($0.owner.department) }
        case .agent:
            guard let me = self.agent else { return false }
            if contact.firstResponder?.agent == me { return true }
            let myDepartment = directory.departmentOf(me)
            return contact.obligations.contains { o in
                o.owner.agent == me || (o.kind == .handoff && o.owner.agent == nil && o.owner.department == myDepartment)
            }
        }
    }
}
