import FirstContactCore

/// A period whose report figures are summarised (a local month), `[start, end)`.
package struct ReportPeriod: Hashable, Sendable, Comparable {
    package var start: Timestamp
    package var end: Timestamp

    package init(start: Timestamp, end: Timestamp) {
        self.start = start
        self.end = end
    }

    package static func < (lhs: Self, rhs: Self) -> Bool { (lhs.start, lhs.end) < (rhs.start, rhs.end) }
}

/// What a purge (`policy.retention`) removes and what it keeps.
package struct PurgeOutcome: Hashable, Sendable {
    /// Contacts whose every time lies before this were eligible.
    package var horizon: Timestamp
    /// Nothing was written (a dry run): the counts say what a purge would remove.
    package var dryRun: Bool
    package var contacts = 0
    package var obligations = 0
    package var violations = 0
    /// Source records (CDR legs, queue events, SIP rows, IVR events).
    package var records = 0
    package var calls = 0
    package var rejects = 0
    package var actions = 0
    /// Notifications and amendments (trail text) about the purged contacts.
    package var notifications = 0
    /// Customers of whom nothing is left (their number is gone from the database).
    package var customersRemoved = 0
    /// Customers who keep later contacts (or an open one) and lost only their old contacts.
    package var customersTrimmed = 0
    /// Contacts old enough to go but kept because their customer still needs them (a call or an
    /// action that ties them to a contact that stays, a callback number another customer keyed).
    package var contactsKept = 0
    /// Periods summarised by this purge (reports read them from the summary from now on).
    package var periodsSummarised: [ReportPeriod] = []
    /// Every period held as a summary after this purge.
    package var periodsHeld = 0

    package init(horizon: Timestamp, dryRun: Bool) {
        self.horizon = horizon
        self.dryRun = dryRun
    }
}
