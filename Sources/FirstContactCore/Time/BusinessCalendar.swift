/// Working hours of a department: a week of intervals, public holidays, make-up working days,
/// all read in one zone. "30 minutes of business time" counts only minutes inside these hours.
package struct BusinessCalendar: Hashable, Sendable {
    /// Opening hours of one day, `start..<end` in local wall time (`end` may be 24:00).
    package struct Interval: Hashable, Sendable, CustomStringConvertible {
        package var start: CivilTime
        package var end: CivilTime

        package init(start: CivilTime, end: CivilTime) {
            self.start = start
            self.end = end
        }

        /// Parses `08:30-12:00`; `24:00` is accepted as an end.
        package init?(text: String) {
            let bytes = Array(text.utf8)
            guard bytes.count == 11, bytes[2] == UInt8(ascii: ":"), bytes[5] == UInt8(ascii: "-"),
                bytes[8] == UInt8(ascii: ":"),
                let h1 = Digits.parse(bytes[0..<2]), let m1 = Digits.parse(bytes[3..<5]),
                let h2 = Digits.parse(bytes[6..<8]), let m2 = Digits.parse(bytes[9..<11]),
                h1 < 24, m1 < 60, m2 < 60, h2 < 24 || (h2 == 24 && m2 == 0)
            else { return nil }
            self.init(start: CivilTime(hour: h1, minute: m1), end: CivilTime(hour: h2, minute: m2))
        }

        package var description: String {
            "\(String(self.start.iso.prefix(5)))-\(String(self.end.iso.prefix(5)))"
        }
    }

    package var name: String
    package var zone: ZoneRules
    /// Index 0 is Monday, 6 is Sunday; each day's intervals sorted and not overlapping.
    package var week: [[Interval]]
    package var holidays: Set<CivilDate>
    /// Weekend days that are worked (make-up days), with `makeupHours`.
    package var workdays: Set<CivilDate>
    package var makeupHours: [Interval]

    package init(
        name: String,
        zone: ZoneRules,
        week: [[Interval]],
        holidays: Set<CivilDate> = [],
        workdays: Set<CivilDate> = [],
        makeupHours: [Interval]? = nil
    ) {
        precondition(week.count == 7, "a week has seven days")
        self.name = name
        self.zone = zone
        self.week = week
        self.holidays = holidays
        self.workdays = workdays
        self.makeupHours = makeupHours ?? week[0]
    }

    /// The opening hours of a local date (empty when closed).
    package func intervals(on date: CivilDate) -> [Interval] {
        if self.workdays.contains(date) { return self.makeupHours }
        if self.holidays.contains(date) { return [] }
        return self.week[date.weekday]
    }

    /// Whether the calendar has any working time at all (else no deadline can ever fall due).
    package var hasWorkingTime: Bool {
        self.week.contains { !$0.isEmpty } || (!self.workdays.isEmpty && !self.makeupHours.isEmpty)
    }

    /// Whether `instant` falls inside working hours.
    package func isOpen(at instant: Timestamp) -> Bool {
        let date = self.zone.local(instant).date
        for day in [date.adding(days: -1), date] {
            for interval in self.intervals(on: day) {
                let start = self.zone.instant(day, interval.start)
                let end = self.zone.instant(day, interval.end)
                if start <= instant, instant < end { return true }
            }
        }
        return false
    }

    /// `start` plus `seconds` of business time.
    ///
    /// A deadline that is used up exactly at the end of an interval falls on that end
    /// (12:00, not 14:00 after lunch).
    ///
    /// Open time is counted once, as `isOpen` sees it (the union of the day's intervals as
    /// instants). That matters only on the day clocks go forward: a wall-clock time inside the
    /// skipped hour is read one hour later (see `ZoneRules.instant`), so an interval touching it
    /// can overlap the next one, or come after it.
    package func adding(_ seconds: Int64, to start: Timestamp) -> Timestamp {
        var remaining = seconds
        var counted = start  // open time before this instant is used up (or before the start)
        var date = self.zone.local(start).date.adding(days: -1)
        // Ten years without an open minute means a calendar with no hours; validation forbids it,
        // and a deadline that far away is as good as never.
        for _ in 0..<3700 {
            for span in self.spans(on: date) {
                guard span.end > counted else { continue }
                let from = max(span.start, counted)
                let available = span.end - from
                if remaining <= available { return from + remaining }
                remaining -= available
                counted = span.end
            }
            date = date.adding(days: 1)
        }
        return start + seconds + 3700 * 86_400
    }

    /// The opening hours of a local date as instants, non-empty ones only, by start.
    private func spans(on date: CivilDate) -> [(start: Timestamp, end: Timestamp)] {
        var spans: [(start: Timestamp, end: Timestamp)] = []
        for interval in self.intervals(on: date) {
            let start = self.zone.instant(date, interval.start)
            let end = self.zone.instant(date, interval.end)
            if end > start { spans.append((start, end)) }
        }
        // Local order is instant order except around the skipped hour.
        if spans.count > 1 { spans.sort { $0.start < $1.start } }
        return spans
    }
}

/// The hours a department's clocks run in: a calendar, or around the clock (24/7 departments).
package enum BusinessHours: Hashable, Sendable {
    case always
    case calendar(BusinessCalendar)

    /// `start` plus `seconds` of business time.
    package func adding(_ seconds: Int64, to start: Timestamp) -> Timestamp {
        switch self {
        case .always: return start + seconds
        case .calendar(let calendar): return calendar.adding(seconds, to: start)
        }
    }
}
