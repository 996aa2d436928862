import FirstContactApp
import FirstContactCore
import Foundation
import Synchronization

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

/// Web sessions, in memory: a restart of `serve` signs everyone out (they sign in again with
/// their token). Tokens themselves never sit in a cookie, only the random session id.
package final class WebSessions: Sendable {
    /// Name of the session cookie.
    package static let cookie = "fc_session"
    /// Name of the pre-sign-in cookie that pairs the sign-in form with its browser (double submit).
    package static let loginCookie = "fc_login"
    /// A session ends this long after sign-in (a working day and some), whatever happens.
    package static let lifetime: Int64 = 12 * 3600

    private let sessions = Mutex<[String: WebSession]>([:])

    package init() {}

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
        let session = WebSession(
            id: Self.randomToken(), csrf: Self.randomToken(), principal: principal, signedInAt: now)
        self.sessions.withLock { sessions in
            // Expired sessions are dropped whenever someone signs in, so the table cannot grow forever.
            sessions = sessions.filter { now - $0.value.signedInAt < Self.lifetime }
            sessions[session.id] = session
        }
        return session
    }

    /// The live session with this cookie value, if any.
    package func session(_ id: String?, now: Int64 = Int64(Date().timeIntervalSince1970)) -> WebSession? {
        guard let id, !id.isEmpty else { return nil }
        return self.sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard now - session.signedInAt < Self.lifetime else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    /// Signs out.
    package func end(_ id: String) {
        _ = self.sessions.withLock { $0.removeValue(forKey: id) }
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

    private let state = Mutex<(next: Int, recent: [Notice])>((1, []))
    private static let kept = 1000

    package init() {}

    /// Announces a change.
    package func publish(
        _ action: String, contact: ContactID?, obligation: ObligationID? = nil, violation: ViolationID? = nil,
        department: DepartmentID?
    ) {
        self.state.withLock { state in
            state.recent.append(
                Notice(
                    seq: state.next, action: action, contact: contact, obligation: obligation, violation: violation,
                    department: department))
            state.next += 1
            if state.recent.count > Self.kept { state.recent.removeFirst(state.recent.count - Self.kept) }
        }
    }

    /// The sequence number the next change will get: a page starts listening from here.
    package var head: Int { self.state.withLock { $0.next } }

    /// Changes from `seq` on (inclusive).
    package func since(_ seq: Int) -> [Notice] {
        self.state.withLock { state in state.recent.filter { $0.seq >= seq } }
    }
}
