import FirstContactApp
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
        guard let token = tokens.first(where: { Self.constantTimeEqual($0.hash.lowercased(), hash) }) else {
            return nil
        }
        return Principal(name: token.name, role: token.role, agent: token.agent, departments: Set(token.departments))
    }

    /// Compares without an early exit, so response times do not reveal how much of a hash matched.
    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// What this caller may see and act on; the one rule, in Core.
    package func scope(directory: Directory) -> Scope {
        Scope.of(role: self.role, agent: self.agent, departments: self.departments, directory: directory)
    }
}
