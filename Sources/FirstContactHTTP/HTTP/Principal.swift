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
        // Every request of every client passes here: no Foundation trimming or lower-casing of
        // whole strings (they were 8 % of a /v1/route answer, BENCHMARKS.md).
        guard let authorization else { return nil }
        let header = Self.trimmed(authorization[...])
        let secret: Substring
        if Self.hasScheme(header, "bearer ") {
            secret = Self.trimmed(header.dropFirst(7))
        } else if Self.hasScheme(header, "basic "),
            let decoded = Data(base64Encoded: String(Self.trimmed(header.dropFirst(6)))),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        {
            secret = pair[pair.index(after: colon)...]
        } else {
            return nil
        }
        guard !secret.isEmpty else { return nil }
        let hash = "sha256:" + SHA256.hex(String(secret))
        guard let token = tokens.first(where: { Self.constantTimeEqual($0.hash, hash) }) else {
            return nil
        }
        return Principal(name: token.name, role: token.role, agent: token.agent, departments: Set(token.departments))
    }

    private static func trimmed(_ text: Substring) -> Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) })
        else { return "" }
        return text[first...last]
    }

    /// Whether `header` starts with `scheme` (lower-case, with its space), in any case.
    private static func hasScheme(_ header: Substring, _ scheme: String) -> Bool {
        header.utf8.count >= scheme.utf8.count
            && zip(header.utf8, scheme.utf8).allSatisfy { Self.lowercased($0) == $1 }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Compares without an early exit, so response times do not reveal how much of a hash
    /// matched; the configured hash in any case (hex digits may be written in capitals).
    private static func constantTimeEqual(_ configured: String, _ computed: String) -> Bool {
        guard configured.utf8.count == computed.utf8.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(configured.utf8, computed.utf8) { difference |= Self.lowercased(x) ^ y }
        return difference == 0
    }

    /// What this caller may see and act on; the one rule, in Core.
    package func scope(directory: Directory) -> Scope {
        Scope.of(role: self.role, agent: self.agent, departments: self.departments, directory: directory)
    }
}
