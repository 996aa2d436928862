import FirstContactCore
import FirstContactStore

/// Retention of personal data (`policy.retention`): which contacts are old enough to go and which
/// months' figures are summarised first, so that reports of past months stay as they were.
package struct Retention: Sendable {
    package let engine: Engine
    package let store: any ContactStore

    package init(engine: Engine, store: any ContactStore) {
        self.engine = engine
        self.store = store
    }

    /// The configured retention in seconds, nil when records are kept for ever.
    package var retention: Int64? { self.engine.configuration.policy.retention }

    /// Contacts whose every time lies before this may go at `now`: the start of the local month
    /// in which `now − retention` falls. Cutting at a month boundary means every month is either
    /// whole in the derived rows or summarised whole, so a month's figures never lose a part.
    package func horizon(at now: Timestamp) -> Timestamp? {
        guard let retention = self.retention else { return nil }
        let zone = self.engine.configuration.timezone
        let local = zone.local(now - retention).date
        return zone.instant(CivilDate(year: local.year, month: local.month, day: 1), CivilTime(secondOfDay: 0))
    }

    /// The local months from the first report figure up to `horizon`, to be summarised.
    package func months(before horizon: Timestamp) async throws -> [ReportPeriod] {
        guard let first = try await self.store.reportDataStart(), first < horizon else { return [] }
        let zone = self.engine.configuration.timezone
        let midnight = CivilTime(secondOfDay: 0)
        let firstDate = zone.local(first).date
        var month = CivilDate(year: firstDate.year, month: firstDate.month, day: 1)
        var periods: [ReportPeriod] = []
        while true {
            let next =
                month.month == 12
                ? CivilDate(year: month.year + 1, month: 1, day: 1)
                : CivilDate(year: month.year, month: month.month + 1, day: 1)
            let period = ReportPeriod(start: zone.instant(month, midnight), end: zone.instant(next, midnight))
            guard period.end <= horizon else { break }
            periods.append(period)
            month = next
        }
        return periods
    }

    /// Purges what retention removes at `now` (nil when no retention is configured).
    package func purge(at now: Timestamp, dryRun: Bool) async throws -> PurgeOutcome? {
        guard let horizon = self.horizon(at: now) else { return nil }
        let months = try await self.months(before: horizon)
        return try await self.store.purge(before: horizon, summarising: months, at: now, dryRun: dryRun)
    }
}

extension Retention {
    /// What a purge removed (or, dry, would remove) and what stays, in one line.
    package static func summary(_ outcome: PurgeOutcome) -> String {
        let verb = outcome.dryRun ? "Would remove" : "Removed"
        return
            "\(verb) \(outcome.contacts) contact(s) closed before \(outcome.horizon.iso8601) "
            + "(\(outcome.obligations) obligation(s), \(outcome.violations) violation(s)), "
            + "\(outcome.records) record(s) of \(outcome.calls) call(s), \(outcome.rejects) reject(s), "
            + "\(outcome.actions) action(s), \(outcome.notifications) notification(s) and amendment(s); "
            + "\(outcome.customersRemoved) customer(s) entirely, \(outcome.customersTrimmed) keeping later contacts. "
            + "Kept: \(outcome.contactsKept) old contact(s) their customer still needs; "
            + "figures of \(outcome.periodsHeld) month(s) as summaries"
            + (outcome.periodsSummarised.isEmpty
                ? "." : " (\(outcome.periodsSummarised.count) summarised now).")
    }
}
