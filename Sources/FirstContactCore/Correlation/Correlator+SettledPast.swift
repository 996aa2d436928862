/// A customer's settled past: the contacts opened before `before` are closed for good, so a
/// derivation can start at `before` and read only what came later. Only `repeat_of` looks back
/// across the cut, and it needs just the last settled contact.
///
/// Without it every new call re-derived the customer from every call they ever made, and a
/// day's ingest grew with the history stored (30-day history benchmark, BENCHMARKS.md).
package struct SettledPast: Hashable, Sendable {
    /// The last contact of a settled past and when it closed (or was resolved): the start of
    /// `repeat_window`.
    package struct LastContact: Hashable, Sendable {
        package var id: ContactID
        package var closedAt: Timestamp

        package init(_ id: ContactID, closedAt: Timestamp) {
            self.id = id
            self.closedAt = closedAt
        }
    }

    /// Everything of the settled contacts happened before this time; every input at or after it
    /// belongs to later contacts.
    package var before: Timestamp
    /// The last settled contact, which a later contact may be a repeat of; nil when the customer
    /// has had none (every call so far an abandon under `abandon_grace`).
    package var last: LastContact?

    package init(before: Timestamp, last: LastContact?) {
        self.before = before
        self.last = last
    }
}

extension Correlator.Walk {
    /// The settled past this walk ends with, if its result allows one: the longest prefix of
    /// contacts that are closed with nothing outstanding and nothing waiting on the clock, cut at
    /// a time no input straddles (a call running across it, an action on a settled contact after
    /// it). Falls back to the past the walk started from.
    /// - Parameter resumedAt: the ``ResumePoint/before`` the walk resumed at: the inputs before it
    ///   are not in `calls` and `actions`, so only a cut at or after it can be checked.
    func settledPast(
        calls: [Call], actions: [ManualAction], ivr: [IVRRecord], waiting: Set<ContactID>, from past: SettledPast?,
        resumedAt: Timestamp? = nil
    ) -> SettledPast? {
        var quiet = 0
        while quiet < self.contacts.count, self.isQuiet(self.contacts[quiet], waiting: waiting) { quiet += 1 }
        let latestInput = [
            calls.map(\.end).max(), actions.map(\.at).max(), ivr.map(\.time).max(),
            self.contacts.flatMap(Self.times).max(), resumedAt.map { $0 - 1 },
        ].compactMap { $0 }.max()
        if self.contacts.isEmpty, let latestInput {
            // Nothing opened a contact (abandons under the grace attach to none): nothing is
            // owed and no clock runs, so all of it is settled. Without this a customer who only
            // ever hangs up quickly was read from their first call at every derivation (792
            // customers, 18,259 old calls on day 32 of the history benchmark).
            return SettledPast(before: latestInput + 1, last: past?.last)
        }
        guard quiet > 0 else { return past }
        // A few candidates, longest first: a straddling input usually sits near the end.
        for settled in stride(from: quiet, to: max(0, quiet - 4), by: -1) {
            let cut: Timestamp
            if settled < self.contacts.count {
                cut = self.contacts[settled].createdAt
            } else if let latestInput {
                cut = latestInput + 1
            } else {
                continue
            }
            if let resumedAt, cut < resumedAt { continue }
            if self.canCut(at: cut, settled: settled, calls: calls, actions: actions) {
                let last = self.contacts[settled - 1]
                guard let closed = last.closedAt ?? last.resolution?.at else { continue }
                return SettledPast(before: cut, last: .init(last.id, closedAt: closed))
            }
        }
        return past
    }

    /// Every moment something happened to a contact or its obligations.
    private static func times(_ contact: Contact) -> [Timestamp] {
        let times: [Timestamp?] =
            [contact.createdAt, contact.lastActivity, contact.closedAt, contact.resolution?.at]
            + contact.obligations.flatMap { [$0.createdAt, $0.satisfiedAt, $0.breachedAt, $0.acknowledgedAt] }
        return times.compactMap { $0 }
    }

    /// Closed or resolved, nothing owed, no clock of its own still to run.
    private func isQuiet(_ contact: Contact, waiting: Set<ContactID>) -> Bool {
        (contact.closedAt ?? contact.resolution?.at) != nil
            && !contact.obligations.contains { $0.state.isOutstanding }
            && !waiting.contains(contact.id)
    }

    private func canCut(at cut: Timestamp, settled: Int, calls: [Call], actions: [ManualAction]) -> Bool {
        // No call runs across the cut: an IVR event after it then ties only to later calls.
        guard !calls.contains(where: { $0.start < cut && $0.end >= cut }) else { return false }
        let settledContacts = self.contacts[..<settled]
        let settledIDs = Set(settledContacts.map(\.id))
        let settledCalls = Set(settledContacts.flatMap(\.calls))
        guard !calls.contains(where: { $0.start >= cut && settledCalls.contains($0.key) }) else { return false }
        guard !settledContacts.flatMap(Self.times).contains(where: { $0 >= cut }) else { return false }
        // An action after the cut about a settled contact would be lost to a derivation from it.
        for action in actions where action.at >= cut {
            if let contact = action.contact, settledIDs.contains(contact) { return false }
            if case .acknowledge(let obligation) = action.kind,
                settledContacts.contains(where: { $0.obligations.contains { $0.id == obligation } })
            {
                return false
            }
        }
        return true
    }
}
