import Crypto
import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import NIOConcurrencyHelpers

/// A signed-in browser: the principal its token stood for, and the CSRF token its forms carry.
package struct WebSession: Sendable, Hashable {
    /// The cookie value: 256 random bits, hex.
    package var id: String
    /// Hidden field in every form of this session; a POST without it is refused (403).
    package var csrf: String
    package var principal: Principal
    /// Wall time of sign-in (seconds since 1970), for expiry.
    package var signedInAt: Int64
}

/// Web sessions. Tokens themselves never sit in a cookie.
///
/// In memory by default (one `serve` on a SQLite file): the cookie is a random session id, and a
/// restart signs everyone out (they sign in again with their token).
///
/// Signed when several instances share a PostgreSQL database (``init(signingKey:tokens:)``, the
/// key kept in the database so every instance has it): the cookie carries the session id, the
/// token's name and the sign-in time under an HMAC-SHA256, so any instance recognises it without
/// asking the others. The CSRF token is an HMAC of the session id; the token's configured hash
/// is part of what is signed, so a token removed from the configuration (or given a new secret)
/// ends its sessions; the expiry is the same. Signing out forgets the cookie in the browser and
/// on the instance that signed out; a copy of the cookie kept elsewhere lasts until its expiry.
package final class WebSessions: Sendable {
    /// Name of the session cookie.
    package static let cookie = "fc_session"
    /// Name of the pre-sign-in cookie that pairs the sign-in form with its browser (double submit).
    package static let loginCookie = "fc_login"
    /// A session ends this long after sign-in (a working day and some), whatever happens.
    package static let lifetime: Int64 = 12 * 3600

    private let sessions = NIOLockedValueBox<[String: WebSession]>([:])
    /// The key signed sessions are signed with; nil: sessions in memory.
    private let signingKey: SymmetricKey?
    /// The configured tokens a signed session's principal is found again in.
    private let tokens: [Token]

    package init() {
        self.signingKey = nil
        self.tokens = []
    }

    /// Signed sessions any instance sharing `signingKey` recognises, for the principals of `tokens`.
    package init(signingKey: [UInt8], tokens: [Token]) {
        self.signingKey = SymmetricKey(data: signingKey)
        self.tokens = tokens
    }

    /// Signed sessions when the store keeps a secret every instance shares (PostgreSQL), else
    /// sessions in this process's memory.
    package static func configured(store: any ContactStore, tokens: [Token]) async throws -> WebSessions {
        guard let key = try await store.sharedSecret("web_session") else { return WebSessions() }
        return WebSessions(signingKey: key, tokens: tokens)
    }

    /// 256 random bits as 64 hex digits, from the system's cryptographic generator.
    package static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    /// Starts a session for `principal`.
    package func start(_ principal: Principal, now: Int64 = Int64(Date().timeIntervalSince1970)) -> WebSession {
        if let key = self.signingKey, let token = self.tokens.first(where: { $0.name == principal.name }) {
            return Self.signed(
                id: Self.randomToken(), principal: principal, hash: token.hash, signedInAt: now, key: key)
        }
        let session = WebSession(
            id: Self.randomToken(), csrf: Self.randomToken(), principal: principal, signedInAt: now)
        self.sessions.withLockedValue { sessions in
            // Expired sessions are dropped whenever someone signs in, so the table cannot grow forever.
            sessions = sessions.filter { now - $0.value.signedInAt < Self.lifetime }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this cookie value, if any.
    package func session(_ id: String?, now: Int64 = Int64(Date().timeIntervalSince1970)) -> WebSession? {
        guard let id, !id.isEmpty else { return nil }
        if let key = self.signingKey { return self.verified(id, key: key, now: now) }
        return self.sessions.withLockedValue { sessions in
            guard let session = sessions[id] else { return nil }
            guard now - session.signedInAt < Self.lifetime else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Signs out.
    package func end(_ id: String, now: Int64 = Int64(Date().timeIntervalSince1970)) {
        guard self.signingKey != nil else {
            _ = self.sessions.withLockedValue { $0.removeValue(forKey: id) }
            return
        }
        guard let session = self.session(id, now: now) else { return }
        self.sessions.withLockedValue { ended in
            // Remembered as signed out until it would have expired anyway.
            ended = ended.filter { now - $0.value.signedInAt < Self.lifetime }
            ended[id] = session
        }
    }

    // MARK: Signed sessions

    /// `s1.<id>.<token name, base64url>.<sign-in time>.<HMAC of the rest and the token's hash>`.
    private static func signed(id: String, principal: Principal, hash: String, signedInAt: Int64, key: SymmetricKey)
        -> WebSession
    {
        let name = Data(principal.name.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let body = "s1.\(id).\(name).\(signedInAt)"
        return WebSession(
            id: body + "." + Self.mac(body + "." + hash, key: key), csrf: Self.mac("csrf." + id, key: key),
            principal: principal, signedInAt: signedInAt)
    }

    private func verified(_ cookie: String, key: SymmetricKey, now: Int64) -> WebSession? {
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "s1", let signedInAt = Int64(parts[3]) else { return nil }
        var base64 = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let name = String(data: data, encoding: .utf8),
            let token = self.tokens.first(where: { $0.name == name }),
            [.agent, .supervisor, .admin].contains(token.role)
        else { return nil }
        let body = parts[0..<4].joined(separator: ".")
        guard Self.sameToken(String(parts[4]), Self.mac(body + "." + token.hash, key: key)),
            now - signedInAt < Self.lifetime, signedInAt <= now + 300
        else { return nil }
        // Signed out on this instance.
        guard self.sessions.withLockedValue({ $0[cookie] == nil }) else { return nil }
        let principal = Principal(
            name: token.name, role: token.role, agent: token.agent, departments: Set(token.departments))
        return Self.signed(
            id: String(parts[1]), principal: principal, hash: token.hash, signedInAt: signedInAt, key: key)
    }

    private static func mac(_ text: String, key: SymmetricKey) -> String {
        HMAC<Crypto.SHA256>.authenticationCode(for: Array(text.utf8), using: key).map { String(format: "%02x", $0) }
            .joined()
    }

    /// Compares without an early exit, so response times do not reveal how much of a token matched.
    package static func sameToken(_ a: String?, _ b: String) -> Bool {
        guard let a else { return false }
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count, !y.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Changes made by people through this process (an acknowledgement, a review) that the outbox does
/// not carry, so the open pages can refresh the rows they touch within a fraction of a second.
/// In memory and short: a page that was disconnected catches up by reloading.
package final class LiveChanges: Sendable {
    /// One change: which obligation, contact or violation to look at again.
    package struct Notice: Sendable, Hashable {
        package var seq: Int
        package var action: String
        package var contact: ContactID?
        package var obligation: ObligationID?
        package var violation: ViolationID?
        package var department: DepartmentID?
    }

    /// The action of the change published when records were posted to this process: pages
    /// look for obligations they have not been told of.
    package static let ingested = "ingested"

    private let state = NIOLockedValueBox<(next: Int, recent: [Notice])>((1, []))
    private static let kept = 1000

    package init() {}

    /// Announces a change.
    package func publish(
        _ action: String, contact: ContactID?, obligation: ObligationID? = nil, violation: ViolationID? = nil,
        department: DepartmentID?
    ) {
        self.state.withLockedValue { state in
            state.recent.append(
                Notice(
                    seq: state.next, action: action, contact: contact, obligation: obligation, violation: violation,
                    department: department))
            state.next += 1
            if state.recent.count > Self.kept { state.recent.removeFirst(state.recent.count - Self.kept) }
        }
    }

    /// The sequence number the next change will get: a page starts listening from here.
    package var head: Int { self.state.withLockedValue { $0.next } }

    /// Changes from `seq` on (inclusive).
    package func since(_ seq: Int) -> [Notice] {
        self.state.withLockedValue { state in state.recent.filter { $0.seq >= seq } }
    }
}
