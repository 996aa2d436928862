import FirstContactStore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// How this instance holds the leases of work only one instance of several does (a webhook
/// URL's deliveries, a followed file): who it is, how long a lease lasts unrenewed, how often it
/// is renewed (and how often an instance without it asks again).
package struct LeaseTerms: Sendable {
    /// This instance's name in the `lease` table.
    package var holder: String
    /// How long a lease outlives its holder: another instance takes the work over at most this
    /// long (and one ``renewEvery``) after the holder died.
    package var ttl: Duration
    package var renewEvery: Duration

    package init(holder: String = LeaseTerms.instance, ttl: Duration = .seconds(20), renewEvery: Duration = .seconds(5))
    {
        self.holder = holder
        self.ttl = ttl
        self.renewEvery = renewEvery
    }

    /// This process: host, process id and a random part (a restarted process with a reused
    /// pid is another holder, which waits for the old lease to expire).
    package static let instance: String = {
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(random)"
    }()
}

/// One lease as this instance sees it: asks the store at most every ``LeaseTerms/renewEvery``
/// (renewing it while held, trying to take it while not) and answers from the last answer in
/// between, so holding a lease costs one small write every few seconds, and nothing on SQLite
/// beyond a call that always grants.
package final class LeaseKeeper: Sendable {
    package let name: String
    package let store: any ContactStore
    package let terms: LeaseTerms
    private let last = NIOLockedValueBox<(asked: ContinuousClock.Instant, held: Bool)?>(nil)

    package init(_ name: String, store: any ContactStore, terms: LeaseTerms = LeaseTerms()) {
        self.name = name
        self.store = store
        self.terms = terms
    }

    /// Whether this instance holds the lease now. A `true` stays true for ``LeaseTerms/renewEvery``,
    /// well inside the ``LeaseTerms/ttl`` the store granted from before it was asked.
    package func hold() async throws -> Bool {
        let now = ContinuousClock.now
        if let last = self.last.withLockedValue({ $0 }), last.asked.duration(to: now) < self.terms.renewEvery {
            return last.held
        }
        let held = try await self.store.acquireLease(self.name, holder: self.terms.holder, ttl: self.terms.ttl)
        self.last.withLockedValue { $0 = (now, held) }
        return held
    }

    /// What a write that must happen only while this instance holds the lease names.
    package var claim: LeaseClaim { LeaseClaim(name: self.name, holder: self.terms.holder) }

    /// Renews the lease when due.
    /// - Throws: ``LeaseLost`` when another instance holds it.
    package func keep() async throws {
        guard try await self.hold() else { throw LeaseLost(name: self.name) }
    }

    /// Gives the lease up (shutting down): another instance takes the work over at once instead
    /// of after the lease expires.
    package func release(logger: Logger) async {
        guard self.last.withLockedValue({ $0?.held ?? false }) else { return }
        self.last.withLockedValue { $0 = nil }
        do {
            try await self.store.releaseLease(self.name, holder: self.terms.holder)
        } catch {
            // It expires by itself; another instance only waits longer.
            logger.info("lease \(self.name) not released: \(error)")
        }
    }
}
