import FirstContactCore

/// The `calendars:` section as read.
struct CalendarSection {
    var calendars: [String: BusinessCalendar] = [:]
    /// Every calendar named in the file, also those with errors, so that references to a
    /// broken calendar do not add a second, misleading "unknown calendar" diagnostic.
    var names: [String] = []
}

extension ConfigurationParser {
    /// `calendars: {name: {timezone, week, holidays, workdays, makeup_hours}}`.
    mutating func calendars(_ node: ConfigNode, defaultZone: ZoneRules) -> CalendarSection {
        var section = CalendarSection()
        guard let entries = self.pairs(node) else { return section }
        for (name, value) in entries {
            guard !name.value.isEmpty else {
                self.report(name, "a calendar needs a name")
                continue
            }
            section.names.append(name.value)
            if let calendar = self.calendar(name, value, defaultZone: defaultZone) {
                section.calendars[name.value] = calendar
            }
        }
        return section
    }

    private mutating func calendar(_ name: Located<String>, _ node: ConfigNode, defaultZone: ZoneRules)
        -> BusinessCalendar?
    {
        let problemsBefore = self.diagnostics.count
        guard let fields = self.fields(node, allowed: ConfigurationKeys.calendar) else { return nil }

        var zone = defaultZone
        if let zoneNode = fields["timezone"], let rules = self.zone(zoneNode) { zone = rules }

        var week = Array(repeating: [BusinessCalendar.Interval](), count: 7)
        if let weekNode = fields["week"], let days = self.fields(weekNode, allowed: ConfigurationKeys.week) {
            // A day left out (or written as `~`) is closed.
            for (index, day) in ConfigurationKeys.week.enumerated() {
                if let dayNode = days[day], let intervals = self.intervals(dayNode) { week[index] = intervals }
            }
        }
        let holidays = fields["holidays"].flatMap { self.dates($0) } ?? []
        let workdays = fields["workdays"].flatMap { self.dates($0) } ?? []
        var holidayLines: [CivilDate: Int] = [:]
        for holiday in holidays where holidayLines[holiday.value] == nil {
            holidayLines[holiday.value] = holiday.line
        }
        for workday in workdays {
            if let line = holidayLines[workday.value] {
                self.report(workday, "\(workday.value.iso) is both a holiday (line \(line)) and a workday")
            }
        }
        let makeupHours = fields["makeup_hours"].flatMap { self.intervals($0) }

        let calendar = BusinessCalendar(
            name: name.value,
            zone: zone,
            week: week,
            holidays: Set(holidays.map(\.value)),
            workdays: Set(workdays.map(\.value)),
            makeupHours: makeupHours
        )
        // Only when everything else was fine: a calendar whose hours were all malformed has
        // already been explained, and "no working time" would just repeat it.
        if self.diagnostics.count == problemsBefore, !calendar.hasWorkingTime {
            self.report(
                name,
                "calendar \"\(name.value)\" has no working hours at all, so no deadline could ever fall due "
                    + "(a 24/7 department leaves `calendar` out)"
            )
        }
        return calendar
    }

    /// A day's opening hours: `["08:30-12:00", "14:00-17:30"]`, each well-formed, not inverted,
    /// not overlapping another; returned sorted.
    mutating func intervals(_ node: ConfigNode) -> [BusinessCalendar.Interval]? {
        guard let texts = self.textList(node) else { return nil }
        var parsed: [(interval: BusinessCalendar.Interval, text: Located<String>)] = []
        for text in texts {
            // `08:30 - 12:00` is what people type; the spaces carry no meaning.
            guard let interval = BusinessCalendar.Interval(text: text.value.filter { $0 != " " }) else {
                self.report(
                    text,
                    "\"\(text.value)\" is not a time range (use HH:MM-HH:MM, e.g. 08:30-12:00; 24:00 may end a day)")
                continue
            }
            guard interval.start < interval.end else {
                let problem = interval.start == interval.end ? "is empty" : "ends before it starts"
                self.report(
                    text, "\"\(text.value)\" \(problem) (a range cannot run past midnight; end the day at 24:00)")
                continue
            }
            parsed.append((interval, text))
        }
        let sorted = parsed.enumerated()
            .sorted { ($0.element.interval.start, $0.offset) < ($1.element.interval.start, $1.offset) }
            .map(\.element)
        var reach: (interval: BusinessCalendar.Interval, text: Located<String>)?
        var accepted: [BusinessCalendar.Interval] = []
        for item in sorted {
            if let previous = reach, item.interval.start < previous.interval.end {
                // Point at whichever of the two was written second: that is the one just added.
                let itemIsLater = (item.text.line, item.text.column) > (previous.text.line, previous.text.column)
                let (later, earlier) = itemIsLater ? (item, previous) : (previous, item)
                self.report(later.text, "\"\(later.text.value)\" overlaps \"\(earlier.text.value)\"")
                if item.interval.end > previous.interval.end { reach = item }
                continue
            }
            reach = item
            accepted.append(item.interval)
        }
        return accepted
    }

    /// A list of `YYYY-MM-DD` dates.
    mutating func dates(_ node: ConfigNode) -> [Located<CivilDate>]? {
        guard let texts = self.textList(node) else { return nil }
        var result: [Located<CivilDate>] = []
        for text in texts {
            guard let date = CivilDate(iso: text.value) else {
                self.report(text, "\"\(text.value)\" is not a date (use YYYY-MM-DD, e.g. 2026-10-01)")
                continue
            }
            result.append(text.with(date))
        }
        return result
    }
}
