import Testing

@testable import FirstContactCore

// MARK: - Fixtures

/// Calendars and time helpers shared by the calendar suites of this file.
private enum Fixture {
    static let shanghai = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)

    /// Europe/Berlin for 2026, by hand: CET, CEST from 2026-03-29T01:00Z, CET again from 2026-10-25T01:00Z.
    static let berlin = ZoneRules(
        identifier: "Europe/Berlin",
        initialOffset: 3600,
        transitions: [
            .init(at: utc("2026-03-29T01:00:00Z").seconds, offset: 7200),
            .init(at: utc("2026-10-25T01:00:00Z").seconds, offset: 3600),
        ]
    )

    static func interval(_ text: String) -> BusinessCalendar.Interval {
        guard let interval = BusinessCalendar.Interval(text: text) else { fatalError("bad interval \(text)") }
        return interval
    }

    static func date(_ text: String) -> CivilDate {
        guard let date = CivilDate(iso: text) else { fatalError("bad date \(text)") }
        return date
    }

    static func utc(_ text: String) -> Timestamp {
        guard let t = Timestamp(iso8601: text) else { fatalError("bad instant \(text)") }
        return t
    }

    /// `2026-11-23 11:50` (seconds optional) read in `zone`.
    static func local(_ text: String, in zone: ZoneRules) -> Timestamp {
        let full = text.utf8.count == 16 ? text + ":00" : text
        guard let local = LocalDateTime(bytes: Array(full.utf8)) else { fatalError("bad local time \(text)") }
        return zone.instant(local)
    }

    /// `2026-11-23 11:50` as `zone` shows `instant` (seconds dropped when zero).
    static func show(_ instant: Timestamp, in zone: ZoneRules) -> String {
        let text = zone.local(instant).asteriskText
        return text.hasSuffix(":00") ? String(text.dropLast(3)) : text
    }

    static let officeDay = [interval("08:30-12:00"), interval("14:00-17:30")]

    /// Mon–Fri 08:30-12:00 + 14:00-17:30 in Asia/Shanghai, National Day week 2026-10-01…07 closed,
    /// Saturday 2026-10-10 a make-up working day with shorter hours (09:00-12:00).
    static let office = BusinessCalendar(
        name: "office",
        zone: shanghai,
        week: [officeDay, officeDay, officeDay, officeDay, officeDay, [], []],
        holidays: Set((1...7).map { date("2026-10-0\($0)") }),
        workdays: [date("2026-10-10")],
        makeupHours: [interval("09:00-12:00")]
    )

    /// Mon–Fri 09:00-17:30 in Europe/Berlin.
    static let berlinOffice: BusinessCalendar = {
        let day = [interval("09:00-17:30")]
        return BusinessCalendar(name: "berlin", zone: berlin, week: [day, day, day, day, day, [], []])
    }()

    /// Every day 00:00-24:00 in Europe/Berlin: business time is real time, but days are not 24 hours.
    static let berlinAllDay: BusinessCalendar = {
        let day = [interval("00:00-24:00")]
        return BusinessCalendar(name: "all-day", zone: berlin, week: Array(repeating: day, count: 7))
    }()
}

// MARK: - Intervals

@Suite("Business calendar intervals")
struct BusinessCalendarIntervalTests {
    @Test(
        "Interval(text:) reads HH:MM-HH:MM with 24:00 as an end",
        arguments: [("08:30-12:00", 30_600, 43_200), ("00:00-24:00", 0, 86_400), ("14:00-17:30", 50_400, 63_000)]
    )
    func parses(text: String, start: Int, end: Int) throws {
        let interval = try #require(BusinessCalendar.Interval(text: text))
        #expect(interval.start.secondOfDay == start)
        #expect(interval.end.secondOfDay == end)
        #expect(interval.description == text)
    }

    @Test(
        "Interval(text:) rejects malformed text",
        arguments: [
            "8:30-12:00", "08:30-24:01", "24:00-24:00", "08:60-12:00", "08:30 12:00", "08:30-12:00 ", "", "0830-1200",
        ]
    )
    func rejects(text: String) {
        #expect(BusinessCalendar.Interval(text: text) == nil)
    }

    @Test("intervals(on:) prefers make-up days, then holidays, then the week")
    func intervalsOn() {
        let office = Fixture.office
        #expect(office.intervals(on: Fixture.date("2026-11-23")) == Fixture.officeDay)  // Monday
        #expect(office.intervals(on: Fixture.date("2026-11-28")).isEmpty)  // Saturday
        #expect(office.intervals(on: Fixture.date("2026-10-01")).isEmpty)  // National Day (Thursday)
        #expect(office.intervals(on: Fixture.date("2026-10-10")) == [Fixture.interval("09:00-12:00")])
        #expect(office.hasWorkingTime)
    }

    @Test("make-up hours default to Monday's hours")
    func makeupDefault() {
        let calendar = BusinessCalendar(
            name: "x", zone: .utc, week: [Fixture.officeDay, [], [], [], [], [], []],
            workdays: [Fixture.date("2026-10-10")]
        )
        #expect(calendar.makeupHours == Fixture.officeDay)
        #expect(calendar.intervals(on: Fixture.date("2026-10-10")) == Fixture.officeDay)
    }

    @Test("a calendar without any hours has no working time")
    func noWorkingTime() {
        let closed = BusinessCalendar(name: "closed", zone: .utc, week: Array(repeating: [], count: 7))
        #expect(!closed.hasWorkingTime)
        let onlyMakeup = BusinessCalendar(
            name: "m", zone: .utc, week: Array(repeating: [], count: 7), workdays: [Fixture.date("2026-10-10")],
            makeupHours: [Fixture.interval("09:00-10:00")]
        )
        #expect(onlyMakeup.hasWorkingTime)
        // No hours: the deadline is pushed ten years out rather than looping for ever.
        let start = Fixture.utc("2026-01-01T00:00:00Z")
        #expect(closed.adding(60, to: start) > start + 3000 * 86_400)
    }
}

// MARK: - Deadlines in Asia/Shanghai

@Suite("Business calendar deadlines (Asia/Shanghai office)")
struct BusinessCalendarDeadlineTests {
    /// (start, SLA, deadline), local times in Asia/Shanghai. 2026-11-23 is a Monday.
    @Test(
        "office deadlines",
        arguments: [
            // inside hours
            ("2026-11-23 09:00", "30m", "2026-11-23 09:30"),
            ("2026-11-23 08:30", "90s", "2026-11-23 08:31:30"),
            ("2026-11-23 14:00", "2h", "2026-11-23 16:00"),
            // across the lunch break
            ("2026-11-23 11:50", "30m", "2026-11-23 14:20"),
            ("2026-11-23 11:59:59", "30m", "2026-11-23 14:29:59"),
            // across the night
            ("2026-11-23 17:20", "30m", "2026-11-24 08:50"),
            ("2026-11-23 17:29", "2h", "2026-11-24 10:29"),
            // Friday evening → Monday
            ("2026-11-27 17:00", "1h", "2026-11-30 09:00"),
            ("2026-11-27 16:00", "2h", "2026-11-30 09:00"),
            // a start outside hours starts at the next opening
            ("2026-11-23 12:00", "30m", "2026-11-23 14:30"),
            ("2026-11-23 12:30", "30m", "2026-11-23 14:30"),
            ("2026-11-23 13:59:59", "30m", "2026-11-23 14:30"),
            ("2026-11-23 22:00", "30m", "2026-11-24 09:00"),
            ("2026-11-24 00:00", "30m", "2026-11-24 09:00"),
            ("2026-11-24 06:00", "30m", "2026-11-24 09:00"),
            ("2026-11-23 17:30", "15m", "2026-11-24 08:45"),
            ("2026-11-28 10:00", "30m", "2026-11-30 09:00"),
            ("2026-11-29 23:59:59", "30m", "2026-11-30 09:00"),
            // a deadline used up exactly at the end of an interval falls on that end
            ("2026-11-23 11:30", "30m", "2026-11-23 12:00"),
            ("2026-11-23 08:30", "210m", "2026-11-23 12:00"),
            ("2026-11-23 17:00", "30m", "2026-11-23 17:30"),
            ("2026-11-27 17:00", "30m", "2026-11-27 17:30"),
            ("2026-11-23 12:30", "210m", "2026-11-23 17:30"),
            ("2026-11-23 09:00", "6h30m", "2026-11-23 17:30"),
            // 1d = 24 business hours: 7 h a day, so Mon 08:30 → Thu 11:30
            ("2026-11-23 08:30", "1d", "2026-11-26 11:30"),
            ("2026-11-25 17:00", "1d", "2026-12-01 11:00"),
            ("2026-11-23 09:00", "72h", "2026-12-07 11:00"),
        ]
    )
    func office(start: String, sla: String, deadline: String) throws {
        let seconds = try #require(Self.parseSLA(sla))
        let calendar = Fixture.office
        let result = calendar.adding(seconds, to: Fixture.local(start, in: calendar.zone))
        #expect(Fixture.show(result, in: calendar.zone) == deadline)
        #expect(BusinessHours.calendar(calendar).adding(seconds, to: Fixture.local(start, in: calendar.zone)) == result)
    }

    /// National Day 2026-10-01…07 (Thu–Wed) closed; Saturday 2026-10-10 works 09:00-12:00.
    @Test(
        "public holidays and make-up working days",
        arguments: [
            ("2026-09-30 17:00", "1h", "2026-10-08 09:00"),
            ("2026-09-30 17:30", "30m", "2026-10-08 09:00"),
            ("2026-10-01 10:00", "30m", "2026-10-08 09:00"),
            ("2026-10-03 10:00", "30m", "2026-10-08 09:00"),
            ("2026-10-07 23:00", "30m", "2026-10-08 09:00"),
            ("2026-10-09 17:00", "1h", "2026-10-10 09:30"),
            ("2026-10-09 17:30", "30m", "2026-10-10 09:30"),
            ("2026-10-10 08:00", "30m", "2026-10-10 09:30"),
            ("2026-10-10 11:30", "30m", "2026-10-10 12:00"),
            ("2026-10-10 11:50", "30m", "2026-10-12 08:50"),
            ("2026-10-10 13:00", "30m", "2026-10-12 09:00"),
            ("2026-10-11 10:00", "30m", "2026-10-12 09:00"),
            // 7 h + 7 h (Oct 8) + 7 h (Oct 9) + 3 h (Saturday Oct 10, used up at 12:00)
            ("2026-09-30 08:30", "1d", "2026-10-10 12:00"),
        ]
    )
    func holidays(start: String, sla: String, deadline: String) throws {
        let seconds = try #require(Self.parseSLA(sla))
        let calendar = Fixture.office
        let result = calendar.adding(seconds, to: Fixture.local(start, in: calendar.zone))
        #expect(Fixture.show(result, in: calendar.zone) == deadline)
    }

    @Test(
        "isOpen follows hours, lunch, weekends, holidays and make-up days",
        arguments: [
            ("2026-11-23 08:29:59", false), ("2026-11-23 08:30", true), ("2026-11-23 11:59:59", true),
            ("2026-11-23 12:00", false), ("2026-11-23 13:00", false), ("2026-11-23 14:00", true),
            ("2026-11-23 17:29:59", true), ("2026-11-23 17:30", false), ("2026-11-24 00:00", false),
            ("2026-11-28 10:00", false), ("2026-11-29 10:00", false), ("2026-10-01 10:00", false),
            ("2026-10-08 10:00", true), ("2026-10-10 08:45", false), ("2026-10-10 09:00", true),
            ("2026-10-10 14:30", false), ("2026-10-11 10:00", false),
        ]
    )
    func isOpen(local: String, open: Bool) {
        #expect(Fixture.office.isOpen(at: Fixture.local(local, in: Fixture.shanghai)) == open)
    }

    @Test("zero business time: an open instant stays, a closed one moves to the next opening")
    func zero() {
        let calendar = Fixture.office
        let open = Fixture.local("2026-11-23 10:00", in: calendar.zone)
        #expect(calendar.adding(0, to: open) == open)
        let lunch = Fixture.local("2026-11-23 12:00", in: calendar.zone)
        #expect(Fixture.show(calendar.adding(0, to: lunch), in: calendar.zone) == "2026-11-23 14:00")
    }

    @Test("24/7 departments count real time")
    func always() {
        let start = Fixture.utc("2026-10-01T03:00:00Z")
        #expect(BusinessHours.always.adding(1800, to: start) == Fixture.utc("2026-10-01T03:30:00Z"))
        #expect(BusinessHours.always.adding(86_400, to: start) == Fixture.utc("2026-10-02T03:00:00Z"))
    }

    static func parseSLA(_ text: String) -> Int64? {
        if text == "6h30m" { return 6 * 3600 + 1800 }
        return DurationSpec.seconds(from: text)
    }
}

// MARK: - Daylight saving (Europe/Berlin)

@Suite("Business calendars across daylight-saving changes (Europe/Berlin)")
struct BusinessCalendarDSTTests {
    /// (start local, SLA seconds, deadline local, deadline UTC). 2026-03-27 and 2026-10-23 are Fridays.
    @Test(
        "office hours across the weekends of the clock changes",
        arguments: [(String, Int64, String, String)]([
            ("2026-03-27 17:00", 3600, "2026-03-30 09:30", "2026-03-30T07:30:00Z"),
            ("2026-03-27 09:00", 61_200, "2026-03-30 17:30", "2026-03-30T15:30:00Z"),
            ("2026-03-28 12:00", 1800, "2026-03-30 09:30", "2026-03-30T07:30:00Z"),
            ("2026-03-29 02:30", 1800, "2026-03-30 09:30", "2026-03-30T07:30:00Z"),
            ("2026-10-23 17:00", 3600, "2026-10-26 09:30", "2026-10-26T08:30:00Z"),
            ("2026-10-23 09:00", 61_200, "2026-10-26 17:30", "2026-10-26T16:30:00Z"),
            ("2026-10-25 02:30", 1800, "2026-10-26 09:30", "2026-10-26T08:30:00Z"),
        ])
    )
    func office(start: String, seconds: Int64, deadline: String, deadlineUTC: String) {
        let calendar = Fixture.berlinOffice
        let result = calendar.adding(seconds, to: Fixture.local(start, in: calendar.zone))
        #expect(Fixture.show(result, in: calendar.zone) == deadline)
        #expect(result.iso8601 == deadlineUTC)
    }

    @Test(
        "a 00:00-24:00 calendar counts the 23- and 25-hour days as they are",
        arguments: [(String, Int64, String, String)]([
            // Spring: Sunday 2026-03-29 has 23 hours.
            ("2026-03-28 12:00", 86_400, "2026-03-29 13:00", "2026-03-29T11:00:00Z"),
            ("2026-03-29 00:00", 82_800, "2026-03-30 00:00", "2026-03-29T22:00:00Z"),
            ("2026-03-29 01:30", 1800, "2026-03-29 03:00", "2026-03-29T01:00:00Z"),
            // Autumn: Sunday 2026-10-25 has 25 hours.
            ("2026-10-24 12:00", 86_400, "2026-10-25 11:00", "2026-10-25T10:00:00Z"),
            ("2026-10-25 00:00", 90_000, "2026-10-26 00:00", "2026-10-25T23:00:00Z"),
            ("2026-10-25 02:30", 3600, "2026-10-25 02:30", "2026-10-25T01:30:00Z"),  // first 02:30 + 1 h = second 02:30
        ])
    )
    func allDay(start: String, seconds: Int64, deadline: String, deadlineUTC: String) {
        let calendar = Fixture.berlinAllDay
        let result = calendar.adding(seconds, to: Fixture.local(start, in: calendar.zone))
        #expect(Fixture.show(result, in: calendar.zone) == deadline)
        #expect(result.iso8601 == deadlineUTC)
    }

    @Test(
        "offsets switch exactly at the transitions",
        arguments: [
            ("2026-03-29T00:59:59Z", 3600), ("2026-03-29T01:00:00Z", 7200), ("2026-10-25T00:59:59Z", 7200),
            ("2026-10-25T01:00:00Z", 3600), ("1900-01-01T00:00:00Z", 3600), ("2030-01-01T00:00:00Z", 3600),
        ]
    )
    func offsets(instant: String, offset: Int) {
        #expect(Fixture.berlin.offset(at: Fixture.utc(instant).seconds) == offset)
    }

    @Test(
        "ZoneRules.instant: ordinary times, the spring gap moves forward, the autumn overlap takes the first",
        arguments: [
            ("2026-01-15 12:00", "2026-01-15T11:00:00Z"),
            ("2026-07-15 12:00", "2026-07-15T10:00:00Z"),
            ("2026-03-29 01:59:59", "2026-03-29T00:59:59Z"),
            ("2026-03-29 02:00", "2026-03-29T01:00:00Z"),  // gap: as 03:00 CEST
            ("2026-03-29 02:30", "2026-03-29T01:30:00Z"),  // gap: as 03:30 CEST
            ("2026-03-29 03:00", "2026-03-29T01:00:00Z"),
            ("2026-10-25 01:59:59", "2026-10-24T23:59:59Z"),
            ("2026-10-25 02:00", "2026-10-25T00:00:00Z"),  // overlap: first (CEST) occurrence
            ("2026-10-25 02:30", "2026-10-25T00:30:00Z"),
            ("2026-10-25 02:59:59", "2026-10-25T00:59:59Z"),
            ("2026-10-25 03:00", "2026-10-25T02:00:00Z"),
        ]
    )
    func instant(local: String, utc: String) {
        #expect(Fixture.local(local, in: Fixture.berlin).iso8601 == utc)
    }

    @Test("local() shows the repeated hour twice and skips the missing hour")
    func local() {
        let berlin = Fixture.berlin
        #expect(Fixture.show(Fixture.utc("2026-10-25T00:30:00Z"), in: berlin) == "2026-10-25 02:30")
        #expect(Fixture.show(Fixture.utc("2026-10-25T01:30:00Z"), in: berlin) == "2026-10-25 02:30")
        #expect(Fixture.show(Fixture.utc("2026-03-29T00:59:59Z"), in: berlin) == "2026-03-29 01:59:59")
        #expect(Fixture.show(Fixture.utc("2026-03-29T01:00:00Z"), in: berlin) == "2026-03-29 03:00")
    }

    @Test("local → instant → local round-trips for every quarter hour outside the gap")
    func roundTrip() {
        let berlin = Fixture.berlin
        var t = Fixture.utc("2026-03-27T00:00:00Z")
        let end = Fixture.utc("2026-10-28T00:00:00Z")
        while t < end {
            let local = berlin.local(t)
            let back = berlin.instant(local)
            // In the repeated hour the second occurrence maps back to the first.
            let repeated = t >= Fixture.utc("2026-10-25T01:00:00Z") && t < Fixture.utc("2026-10-25T02:00:00Z")
            let expected = repeated ? t - 3600 : t
            #expect(back == expected, "\(t)")
            t = t + 900
        }
    }

    @Test(
        "isOpen in Berlin around the clock changes",
        arguments: [
            ("2026-03-27 17:29:59", true), ("2026-03-27 17:30", false), ("2026-03-30 08:59:59", false),
            ("2026-03-30 09:00", true), ("2026-10-26 09:00", true), ("2026-10-25 12:00", false),
        ]
    )
    func isOpen(local: String, open: Bool) {
        #expect(Fixture.berlinOffice.isOpen(at: Fixture.local(local, in: Fixture.berlin)) == open)
    }

    /// An interval ending inside the skipped hour (02:30 → read as 03:30 CEST) overlaps the next
    /// interval (03:00 CEST); counting the overlap twice would let a longer SLA give an earlier
    /// deadline.
    @Test("hours ending in the skipped hour are not counted twice")
    func gapOverlap() {
        let sunday = [Fixture.interval("01:00-02:30"), Fixture.interval("03:00-04:00")]
        let calendar = BusinessCalendar(
            name: "night", zone: Fixture.berlin, week: [[], [], [], [], [], [], sunday])
        let start = Fixture.local("2026-03-29 01:00", in: Fixture.berlin)  // 00:00Z
        // Open from 01:00 CET (00:00Z) to 04:00 CEST (02:00Z): two real hours.
        #expect(calendar.isOpen(at: Fixture.utc("2026-03-29T01:15:00Z")))
        #expect(!calendar.isOpen(at: Fixture.utc("2026-03-29T02:00:00Z")))
        #expect(calendar.adding(5400, to: start).iso8601 == "2026-03-29T01:30:00Z")
        #expect(calendar.adding(5460, to: start).iso8601 == "2026-03-29T01:31:00Z")
        #expect(calendar.adding(7200, to: start).iso8601 == "2026-03-29T02:00:00Z")
        #expect(calendar.adding(7260, to: start) == Fixture.local("2026-04-05 01:01", in: Fixture.berlin))
    }

    /// Regression: an interval wholly inside the skipped hour (02:10-02:40 → 03:10-03:40 CEST)
    /// comes after the next interval (03:00-03:20) as instants; both count, once.
    @Test("hours inside the skipped hour count once, in instant order")
    func gapInside() {
        let sunday = [Fixture.interval("02:10-02:40"), Fixture.interval("03:00-03:20")]
        let calendar = BusinessCalendar(
            name: "gap", zone: Fixture.berlin, week: [[], [], [], [], [], [], sunday])
        let start = Fixture.utc("2026-03-29T00:00:00Z")
        // Open 03:00-03:40 CEST = 01:00Z-01:40Z.
        #expect(calendar.isOpen(at: Fixture.utc("2026-03-29T01:05:00Z")))
        #expect(calendar.isOpen(at: Fixture.utc("2026-03-29T01:39:59Z")))
        #expect(!calendar.isOpen(at: Fixture.utc("2026-03-29T01:40:00Z")))
        #expect(calendar.adding(1800, to: start).iso8601 == "2026-03-29T01:30:00Z")
        #expect(calendar.adding(2400, to: start).iso8601 == "2026-03-29T01:40:00Z")
        #expect(calendar.adding(600, to: Fixture.utc("2026-03-29T01:15:00Z")).iso8601 == "2026-03-29T01:25:00Z")
    }

    @Test("the all-day calendar is open through both clock-change nights")
    func allDayOpen() {
        let calendar = Fixture.berlinAllDay
        var t = Fixture.utc("2026-03-28T20:00:00Z")
        while t < Fixture.utc("2026-03-29T06:00:00Z") {
            #expect(calendar.isOpen(at: t), "\(t)")
            t = t + 600
        }
        t = Fixture.utc("2026-10-24T20:00:00Z")
        while t < Fixture.utc("2026-10-25T06:00:00Z") {
            #expect(calendar.isOpen(at: t), "\(t)")
            t = t + 600
        }
    }
}

// MARK: - Properties

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough for test cases.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` by rejection, independent of the standard library's algorithm.
    mutating func int(in range: ClosedRange<Int64>) -> Int64 {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        if span == 0 { return Int64(bitPattern: self.next()) }
        let limit = UInt64.max - UInt64.max % span
        while true {
            let value = self.next()
            if value < limit { return range.lowerBound + Int64(value % span) }
        }
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        Int(self.int(in: Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    mutating func chance(_ percent: Int) -> Bool { self.int(in: 0...99) < percent }
}

@Suite("Business calendar properties (seeded)")
struct BusinessCalendarPropertyTests {
    /// Starts between 2026-03-20 and 2026-11-10: both Berlin clock changes and National Day.
    static let from = Fixture.utc("2026-03-20T00:00:00Z").seconds
    static let until = Fixture.utc("2026-11-10T00:00:00Z").seconds

    /// Random weekly hours on a quarter-hour grid (0–3 intervals a day, sometimes 00:00-24:00),
    /// random holidays and make-up days, in Berlin (DST) or Shanghai. Interval ends may fall in
    /// Berlin's skipped hour 02:00-03:00.
    fileprivate static func randomCalendar(_ random: inout SplitMix64) -> BusinessCalendar {
        func day() -> [BusinessCalendar.Interval] {
            if random.chance(20) { return [] }
            if random.chance(10) { return [Fixture.interval("00:00-24:00")] }
            let count = random.int(in: 1...3)
            var points = Set<Int>()
            while points.count < 2 * count {
                // Often near Berlin's skipped and repeated hour (02:00-03:00 local).
                points.insert(random.chance(30) ? random.int(in: 6...14) : random.int(in: 0...96))
            }
            let sorted = points.sorted()
            return stride(from: 0, to: sorted.count, by: 2).map {
                BusinessCalendar.Interval(
                    start: CivilTime(secondOfDay: sorted[$0] * 900), end: CivilTime(secondOfDay: sorted[$0 + 1] * 900))
            }
        }
        var week = (0..<7).map { _ in day() }
        if !week.contains(where: { !$0.isEmpty }) { week[0] = Fixture.officeDay }
        var holidays = Set<CivilDate>()
        var workdays = Set<CivilDate>()
        let firstDay = Timestamp.floorDivMod(from, 86_400).0
        for _ in 0..<random.int(in: 0...20) {
            holidays.insert(CivilDate(daysSinceEpoch: firstDay + random.int(in: 0...240)))
        }
        for _ in 0..<random.int(in: 0...4) {
            workdays.insert(CivilDate(daysSinceEpoch: firstDay + random.int(in: 0...240)))
        }
        return BusinessCalendar(
            name: "random",
            zone: random.chance(75) ? Fixture.berlin : Fixture.shanghai,
            week: week,
            holidays: holidays,
            workdays: workdays,
            makeupHours: random.chance(50) ? nil : day()
        )
    }

    /// The fixed calendars plus `count` random ones, each with its own stream.
    fileprivate static func calendars(seed: UInt64, count: Int) -> [(BusinessCalendar, SplitMix64)] {
        var random = SplitMix64(seed: seed)
        let fixed = [Fixture.office, Fixture.berlinOffice, Fixture.berlinAllDay]
        var result: [(BusinessCalendar, SplitMix64)] = fixed.map {
            ($0, SplitMix64(seed: random.next()))
        }
        for _ in 0..<count {
            result.append((self.randomCalendar(&random), SplitMix64(seed: random.next())))
        }
        return result
    }

    fileprivate static func start(_ random: inout SplitMix64) -> Timestamp {
        // A quarter of the starts in the days before a Berlin clock change.
        let t: Int64
        if random.chance(25) {
            let change = Fixture.berlin.transitions[random.int(in: 1...2)].at
            t = change - random.int(in: 0...(3 * 86_400))
        } else {
            t = random.int(in: from...until)
        }
        // Mostly on the quarter-hour grid (to hit interval boundaries exactly), sometimes any second.
        return Timestamp(seconds: random.chance(70) ? t - t % 900 : t)
    }

    fileprivate static func duration(_ random: inout SplitMix64) -> Int64 {
        switch random.int(in: 0...3) {
        case 0: return random.int(in: 1...600)
        case 1: return random.int(in: 1...96) * 900
        case 2: return random.int(in: 1...3) * 86_400
        default: return random.int(in: 1...200_000)
        }
    }

    @Test("adding is strictly monotonic in the duration and monotonic in the start")
    func monotonic() {
        var checked = 0
        for (calendar, stream) in Self.calendars(seed: 0xF1C0_0001, count: 40) {
            var random = stream
            for _ in 0..<12 {
                let t = Self.start(&random)
                let a = Self.duration(&random)
                let b = a + Self.duration(&random)
                let ra = calendar.adding(a, to: t)
                let rb = calendar.adding(b, to: t)
                #expect(ra < rb, "\(calendar.name) \(calendar.week) t=\(t) a=\(a) b=\(b): \(ra) !< \(rb)")
                #expect(ra >= t + a, "business time cannot run faster than real time")

                let later = t + random.int(in: 0...(3 * 86_400))
                let rl = calendar.adding(a, to: later)
                #expect(ra <= rl, "\(calendar.name) \(calendar.week) t=\(t) later=\(later) a=\(a): \(ra) > \(rl)")
                checked += 1
            }
        }
        #expect(checked == 43 * 12)
    }

    /// The property that holds: for a ≥ 0 and b > 0, adding(a + b, t) == adding(b, adding(a, t)).
    /// With b == 0 it fails exactly when adding(a, t) is the end of an interval (the deadline stays
    /// on the end, but adding(0, end) moves to the next opening); that case is checked too.
    @Test("adding is additive for a ≥ 0 and b > 0; b == 0 only moves an interval end to the next opening")
    func additive() {
        var checked = 0
        for (calendar, stream) in Self.calendars(seed: 0xF1C0_0002, count: 40) {
            var random = stream
            for index in 0..<12 {
                let t = Self.start(&random)
                let a = index == 0 ? 0 : Self.duration(&random)
                let b = Self.duration(&random)
                let direct = calendar.adding(a + b, to: t)
                let stepped = calendar.adding(b, to: calendar.adding(a, to: t))
                #expect(direct == stepped, "\(calendar.name) \(calendar.week) t=\(t) a=\(a) b=\(b)")

                // b == 0: the identity unless adding(a, t) is not open (an interval end).
                let ra = calendar.adding(a, to: t)
                let again = calendar.adding(0, to: ra)
                if calendar.isOpen(at: ra) {
                    #expect(again == ra)
                } else {
                    #expect(again > ra)
                    #expect(calendar.isOpen(at: again))
                    #expect(!calendar.isOpen(at: again - 1))
                }
                checked += 1
            }
        }
        #expect(checked == 43 * 12)
    }

    /// Brute-force oracle: walking minute by minute with `isOpen`, the deadline is the first
    /// instant after which exactly the SLA's open minutes have passed, and the last minute before
    /// it is open (so a deadline used up at 12:00 stays at 12:00).
    @Test("the deadline matches a minute-by-minute count of open time")
    func oracle() {
        var checked = 0
        for (calendar, stream) in Self.calendars(seed: 0xF1C0_0003, count: 30) {
            var random = stream
            for _ in 0..<5 {
                let raw = Self.start(&random).seconds
                let t = Timestamp(seconds: raw - raw % 60)
                let minutes: Int64 = random.int(in: 1...240)
                let deadline = calendar.adding(minutes * 60, to: t)
                var open: Int64 = 0
                var cursor = t
                while open < minutes, cursor < t + 10 * 86_400 {
                    if calendar.isOpen(at: cursor) { open += 1 }
                    cursor = cursor + 60
                }
                // A sparse random week may not have that much open time in ten days: then the
                // deadline is simply later than the walk.
                guard open == minutes else {
                    #expect(deadline > cursor)
                    continue
                }
                #expect(deadline == cursor, "\(calendar.name) \(calendar.week) t=\(t) minutes=\(minutes)")
                #expect(calendar.isOpen(at: deadline - 60))
                checked += 1
            }
        }
        #expect(checked > 33 * 5 / 2)
    }

    /// Night hours with boundaries between 01:00 and 04:00 local, every day, started just before a
    /// Berlin clock change: the deadline must agree with a minute-by-minute walk and be monotonic.
    @Test("nights of the clock changes: deadlines match the minute walk and are monotonic")
    func clockChangeNights() {
        var random = SplitMix64(seed: 0xF1C0_0005)
        var checked = 0
        for _ in 0..<150 {
            let count = random.int(in: 1...3)
            var points = Set<Int>()
            while points.count < 2 * count { points.insert(random.int(in: 4...16)) }
            let sorted = points.sorted()
            let night = stride(from: 0, to: sorted.count, by: 2).map {
                BusinessCalendar.Interval(
                    start: CivilTime(secondOfDay: sorted[$0] * 900), end: CivilTime(secondOfDay: sorted[$0 + 1] * 900))
            }
            let calendar = BusinessCalendar(
                name: "night", zone: Fixture.berlin, week: Array(repeating: night, count: 7))
            let change = Fixture.berlin.transitions[random.int(in: 1...2)].at
            let t = Timestamp(seconds: change - random.int(in: 0...240) * 60)
            let minutes: Int64 = random.int(in: 1...120)

            var open: Int64 = 0
            var cursor = t
            while open < minutes, cursor < t + 12 * 86_400 {
                if calendar.isOpen(at: cursor) { open += 1 }
                cursor = cursor + 60
            }
            let deadline = calendar.adding(minutes * 60, to: t)
            #expect(open == minutes)
            #expect(deadline == cursor, "\(night) t=\(t) minutes=\(minutes)")
            #expect(calendar.adding(minutes * 60 - 60, to: t) < deadline)
            #expect(calendar.adding(minutes * 60, to: t + 60) >= deadline)
            checked += 1
        }
        #expect(checked == 150)
    }

    @Test("a deadline is always open time or the end of an interval, never a closed stretch")
    func landsOnOpenTime() {
        for (calendar, stream) in Self.calendars(seed: 0xF1C0_0004, count: 30) {
            var random = stream
            for _ in 0..<10 {
                let t = Self.start(&random)
                let deadline = calendar.adding(Self.duration(&random), to: t)
                #expect(calendar.isOpen(at: deadline - 1), "\(calendar.name) \(calendar.week) t=\(t) → \(deadline)")
            }
        }
    }
}
