import Testing

@testable import FirstContactCore

@Suite("Timestamps, civil dates and durations")
struct TimestampTests {
    // MARK: - ISO 8601

    @Test(
        "formats UTC seconds as YYYY-MM-DDTHH:MM:SSZ, also before 1970",
        arguments: [
            (Int64(0), "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (1_800_000_000, "2027-01-15T08:00:00Z"),
            (1_795_773_600, "2026-11-27T10:00:00Z"),
            (-2_208_988_800, "1900-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (-11_670_912_000, "1600-03-01T00:00:00Z"),
        ]
    )
    func formats(seconds: Int64, text: String) {
        #expect(Timestamp(seconds: seconds).iso8601 == text)
        #expect(Timestamp(seconds: seconds).description == text)
        #expect(Timestamp(iso8601: text) == Timestamp(seconds: seconds))
    }

    @Test(
        "parses Z and ±HH:MM offsets to the same instant",
        arguments: [
            ("2026-11-27T18:00:00+08:00", "2026-11-27T10:00:00Z"),
            ("2026-11-27 18:00:00+08:00", "2026-11-27T10:00:00Z"),
            ("2026-11-27T10:00:00+00:00", "2026-11-27T10:00:00Z"),
            ("2026-11-27T10:00:00-00:00", "2026-11-27T10:00:00Z"),
            ("2026-11-27T04:30:00-05:30", "2026-11-27T10:00:00Z"),
            ("2026-11-28T01:00:00+15:00", "2026-11-27T10:00:00Z"),
            ("2026-01-01T07:59:59+08:00", "2025-12-31T23:59:59Z"),
            ("1969-12-31T20:00:00-04:00", "1970-01-01T00:00:00Z"),
        ]
    )
    func parsesOffsets(text: String, utc: String) throws {
        let parsed = try #require(Timestamp(iso8601: text))
        #expect(parsed.iso8601 == utc)
    }

    @Test(
        "rejects text that is not an ISO time with a zone",
        arguments: [
            "", "2026-11-27", "2026-11-27T18:00:00", "2026-11-27T18:00:00+0800", "2026-11-27T18:00:00+08",
            "2026-11-27T18:00:00+24:00", "2026-11-27T18:00:00+08:60", "2026-11-27T18:00:00ZZ",
            "2026-11-27T18:00:00z", "2026-11-27T24:00:00Z", "2026-11-27T18:60:00Z", "2026-13-27T18:00:00Z",
            "2026-02-30T00:00:00Z", "2026/11/27T18:00:00Z", "2026-11-27X18:00:00Z", "2026-11-27T18:00:00 Z",
            "26-11-27T18:00:00Z", "abcd-ef-ghTij:kl:mnZ", "2026-11-27T18:00:00+08:00 ",
        ]
    )
    func rejectsBadISO(text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test("formatting and parsing round-trip over a wide range of instants")
    func isoRoundTrip() {
        var seconds: Int64 = -5_000_000_000
        while seconds < 5_000_000_000 {
            let t = Timestamp(seconds: seconds)
            #expect(Timestamp(iso8601: t.iso8601) == t, "\(seconds)")
            seconds += 7_777_777  // about 90 days, not a multiple of a day
        }
    }

    @Test("timestamp arithmetic and ordering")
    func arithmetic() {
        let t = Timestamp(seconds: 100)
        #expect(t + 20 == Timestamp(seconds: 120))
        #expect(t - 120 == Timestamp(seconds: -20))
        #expect(Timestamp(seconds: 130) - t == 30)
        #expect(Timestamp(seconds: -1) < t)
    }

    @Test(
        "floor division keeps the remainder non-negative",
        arguments: [
            (Int64(7), Int64(86_400), Int64(0), Int64(7)),
            (-1, 86_400, -1, 86_399),
            (-86_400, 86_400, -1, 0),
            (-86_401, 86_400, -2, 86_399),
            (86_400, 86_400, 1, 0),
        ]
    )
    func floorDivMod(value: Int64, divisor: Int64, quotient: Int64, remainder: Int64) {
        let (q, r) = Timestamp.floorDivMod(value, divisor)
        #expect(q == quotient)
        #expect(r == remainder)
    }

    // MARK: - Civil dates

    @Test(
        "known dates and their day numbers",
        arguments: [
            ("1970-01-01", Int64(0)), ("1969-12-31", -1), ("2000-01-01", 10_957), ("1600-02-29", -135_081),
            ("2026-11-29", 20_786), ("2026-03-29", 20_541), ("0001-01-01", -719_162), ("9999-12-31", 2_932_896),
        ]
    )
    func knownDays(text: String, days: Int64) throws {
        let date = try #require(CivilDate(iso: text))
        #expect(date.daysSinceEpoch == days)
        #expect(CivilDate(daysSinceEpoch: days) == date)
    }

    @Test("every day from 1600 to 2400 round-trips and follows the previous one")
    func civilDateRoundTrip() {
        let first = CivilDate(year: 1600, month: 1, day: 1).daysSinceEpoch
        let last = CivilDate(year: 2400, month: 12, day: 31).daysSinceEpoch
        var previous = CivilDate(daysSinceEpoch: first - 1)
        #expect(previous == CivilDate(year: 1599, month: 12, day: 31))
        var failures = 0
        for days in first...last {
            let date = CivilDate(daysSinceEpoch: days)
            let ok =
                date.daysSinceEpoch == days && date.isValid && previous < date
                && Self.isSuccessor(date, of: previous)
            if !ok {
                failures += 1
                if failures < 5 { Issue.record("day \(days): \(previous) → \(date)") }
            }
            previous = date
        }
        #expect(failures == 0)
        #expect(previous == CivilDate(year: 2400, month: 12, day: 31))
    }

    /// Independent month-length rule: the next day either increments `day` or starts a month.
    private static func isSuccessor(_ date: CivilDate, of previous: CivilDate) -> Bool {
        let leap = previous.year % 4 == 0 && (previous.year % 100 != 0 || previous.year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if previous.day < lengths[previous.month - 1] {
            return date == CivilDate(year: previous.year, month: previous.month, day: previous.day + 1)
        }
        if previous.month < 12 { return date == CivilDate(year: previous.year, month: previous.month + 1, day: 1) }
        return date == CivilDate(year: previous.year + 1, month: 1, day: 1)
    }

    @Test(
        "leap years: 29 February exists only in leap years",
        arguments: [
            (2024, true), (2023, false), (2000, true), (1900, false), (2100, false), (1600, true), (1968, true),
            (1969, false),
        ]
    )
    func leapDays(year: Int, leap: Bool) {
        #expect(CivilDate(year: year, month: 2, day: 29).isValid == leap)
        let text = "\(Digits.pad(year, 4))-02-29"
        #expect((CivilDate(iso: text) != nil) == leap)
    }

    @Test(
        "weekday is 0 for Monday … 6 for Sunday",
        arguments: [
            ("2026-11-29", 6), ("2026-11-23", 0), ("2026-11-27", 4), ("1970-01-01", 3), ("1969-12-31", 2),
            ("2000-01-01", 5), ("2026-10-10", 5), ("1600-02-29", 1),
        ]
    )
    func weekday(text: String, weekday: Int) throws {
        let date = try #require(CivilDate(iso: text))
        #expect(date.weekday == weekday)
    }

    @Test("adding days crosses months, years and the epoch")
    func addingDays() {
        let date = CivilDate(year: 2026, month: 12, day: 30)
        #expect(date.adding(days: 2) == CivilDate(year: 2027, month: 1, day: 1))
        #expect(date.adding(days: -365) == CivilDate(year: 2025, month: 12, day: 30))
        #expect(CivilDate(year: 1970, month: 1, day: 2).adding(days: -3) == CivilDate(year: 1969, month: 12, day: 30))
        #expect(CivilDate(year: 2024, month: 2, day: 28).adding(days: 1) == CivilDate(year: 2024, month: 2, day: 29))
    }

    @Test(
        "CivilDate(iso:) rejects malformed and impossible dates",
        arguments: [
            "2026-13-01", "2026-00-10", "2026-02-30", "2026-04-31", "2026-11-00", "2026-1-01", "20261127",
            "2026/11/27", "2026-11-27 ", "", "２０２６-11-27",
        ]
    )
    func rejectsBadDates(text: String) {
        #expect(CivilDate(iso: text) == nil)
    }

    @Test("dates order chronologically and print as ISO")
    func dateOrdering() {
        let a = CivilDate(year: 2026, month: 2, day: 28)
        let b = CivilDate(year: 2026, month: 10, day: 1)
        #expect(a < b)
        #expect(!(b < a))
        #expect(CivilDate(year: 1999, month: 12, day: 31) < a)
        #expect(a.iso == "2026-02-28")
        #expect(CivilDate(year: 987, month: 6, day: 5).description == "0987-06-05")
    }

    // MARK: - Local date-times

    @Test(
        "LocalDateTime(bytes:) reads Asterisk's local times",
        arguments: [
            ("2026-11-27 18:05:09", "2026-11-27", 18 * 3600 + 5 * 60 + 9),
            ("2026-11-27T00:00:00", "2026-11-27", 0),
            ("2024-02-29 23:59:59", "2024-02-29", 86_399),
            ("2016-12-31 23:59:60", "2016-12-31", 86_399),  // a leap second is held at :59
        ]
    )
    func parsesLocal(text: String, date: String, secondOfDay: Int) throws {
        let local = try #require(LocalDateTime(bytes: Array(text.utf8)))
        #expect(local.date == CivilDate(iso: date))
        #expect(local.time.secondOfDay == secondOfDay)
    }

    @Test(
        "LocalDateTime(bytes:) rejects bad input",
        arguments: [
            "2026-13-01 10:00:00", "2026-02-30 10:00:00", "2026-11-27 24:00:00", "2026-11-27 10:60:00",
            "2026-11-27 10:00:61", "20261127 10:00:00xx", "2026-11-27 100000000", "2026-11-27_10:00:00",
            "2026-11-27 10-00-00", "2026-11-27 10:00", "2026-11-27 10:00:00Z", "2026-11-2710:00:00 ",
            "2026-1a-27 10:00:00", "", "-026-11-27 10:00:00",
        ]
    )
    func rejectsBadLocal(text: String) {
        #expect(LocalDateTime(bytes: Array(text.utf8)) == nil)
    }

    @Test("LocalDateTime works on slices with a non-zero start index")
    func localFromSlice() throws {
        let bytes = Array("xx2026-11-27 18:00:00yy".utf8)
        let local = try #require(LocalDateTime(bytes: bytes[2..<21]))
        #expect(local.asteriskText == "2026-11-27 18:00:00")
        #expect(LocalDateTime(bytes: bytes[1..<20]) == nil)
    }

    @Test("secondsAsIfUTC round-trips, also before 1970")
    func localRoundTrip() {
        for seconds in stride(from: Int64(-3_000_000_000), through: 3_000_000_000, by: 86_399 * 37) {
            let local = LocalDateTime(secondsAsIfUTC: seconds)
            #expect(local.secondsAsIfUTC == seconds)
            #expect(LocalDateTime(bytes: Array(local.asteriskText.utf8)) == local)
        }
    }

    @Test("CivilTime prints HH:MM:SS")
    func civilTime() {
        #expect(CivilTime(hour: 8, minute: 30).iso == "08:30:00")
        #expect(CivilTime(secondOfDay: 86_399).iso == "23:59:59")
        #expect(CivilTime(hour: 24, minute: 0).iso == "24:00:00")
        #expect(CivilTime(hour: 12, minute: 0) < CivilTime(hour: 12, minute: 0, second: 1))
    }

    // MARK: - Digits

    @Test("Digits.parse takes ASCII digits only; pad left-pads with zeros")
    func digits() {
        #expect(Digits.parse(Array("0042".utf8)) == 42)
        #expect(Digits.parse(Array("".utf8)) == nil)
        #expect(Digits.parse(Array("4 2".utf8)) == nil)
        #expect(Digits.parse(Array("-1".utf8)) == nil)
        #expect(Digits.parse(Array("1234567890123456789".utf8)) == nil)  // 19 digits could overflow
        #expect(Digits.parse(Array("999999999999999999".utf8)) == 999_999_999_999_999_999)
        #expect(Digits.pad(7, 2) == "07")
        #expect(Digits.pad(2026, 2) == "2026")
    }

    // MARK: - Durations

    @Test(
        "DurationSpec reads an integer and one unit",
        arguments: [
            ("90s", Int64(90)), ("30m", 1800), ("2h", 7200), ("1d", 86_400), ("0m", 0), ("15m", 900),
            ("72h", 259_200), ("5s", 5),
        ]
    )
    func durations(text: String, seconds: Int64) {
        #expect(DurationSpec.seconds(from: text) == seconds)
    }

    @Test(
        "DurationSpec rejects anything else",
        arguments: [
            "30", "3x", "m", "-5m", "", "5", "+5m", "5 m", " 5m", "5M", "1.5h", "1h30m", "m5", "5mm", "5分",
            "99999999999999999d",
        ]
    )
    func rejectsDurations(text: String) {
        #expect(DurationSpec.seconds(from: text) == nil)
    }

    @Test(
        "DurationSpec.text picks the largest whole unit",
        arguments: [
            (Int64(90), "90s"), (1800, "30m"), (7200, "2h"), (86_400, "1d"), (0, "0s"), (5400, "90m"),
            (172_800, "2d"), (3601, "3601s"),
        ]
    )
    func durationText(seconds: Int64, text: String) {
        #expect(DurationSpec.text(seconds) == text)
        #expect(DurationSpec.seconds(from: text) == seconds)
    }
}
