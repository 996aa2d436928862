/// An instant in UTC with whole-second resolution.
///
/// Every PBX time is reduced to seconds (SPEC "Times": exported to the second), so the
/// engine never compares fractions that the exports cannot show.
package struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    package var seconds: Int64

    package init(seconds: Int64) {
        self.seconds = seconds
    }

    /// The clock of a store that holds no record with an event time: before every deadline.
    package static let beforeAnyRecord = Timestamp(seconds: .min / 2)

    package static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.seconds < rhs.seconds }

    package static func + (lhs: Timestamp, rhs: Int64) -> Timestamp { Timestamp(seconds: lhs.seconds + rhs) }
    package static func - (lhs: Timestamp, rhs: Int64) -> Timestamp { Timestamp(seconds: lhs.seconds - rhs) }
    package static func - (lhs: Timestamp, rhs: Timestamp) -> Int64 { lhs.seconds - rhs.seconds }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the only time format FirstContact writes.
    package var iso8601: String {
        let (days, secondOfDay) = Self.floorDivMod(self.seconds, 86_400)
        let date = CivilDate(daysSinceEpoch: days)
        return "\(date.iso)T\(CivilTime(secondOfDay: Int(secondOfDay)).iso)Z"
    }

    package var description: String { self.iso8601 }

    /// Parses `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM` (also accepts a space instead of `T`).
    /// - Returns: nil when the text is not such a time.
    package init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, let local = LocalDateTime(bytes: bytes[0..<19]) else { return nil }
        let rest = bytes[19...]
        var offset = 0
        if rest.isEmpty {
            return nil
        } else if rest.count == 1, rest.first == UInt8(ascii: "Z") {
            offset = 0
        } else if rest.count == 6, let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
            let hh = Digits.parse(rest.dropFirst().prefix(2)),
            rest[rest.startIndex + 3] == UInt8(ascii: ":"),
            let mm = Digits.parse(rest.suffix(2)), hh < 24, mm < 60
        {
            offset = (hh * 3600 + mm * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        self.init(seconds: local.secondsAsIfUTC - Int64(offset))
    }

    /// Floor division with a non-negative remainder (times before 1970 stay correct).
    package static func floorDivMod(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }
}

/// A calendar date without a zone (proleptic Gregorian).
package struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    package var year: Int
    package var month: Int
    package var day: Int

    package init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Howard Hinnant's `civil_from_days`.
    package init(daysSinceEpoch: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(m <= 2 ? y + 1 : y), month: Int(m), day: Int(d))
    }

    /// Howard Hinnant's `days_from_civil`.
    package var daysSinceEpoch: Int64 {
        let y = Int64(self.month <= 2 ? self.year - 1 : self.year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(self.month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(self.day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 = Monday … 6 = Sunday.
    package var weekday: Int {
        let (_, r) = Timestamp.floorDivMod(self.daysSinceEpoch + 3, 7)  // 1970-01-01 was a Thursday
        return Int(r)
    }

    package func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: self.daysSinceEpoch + Int64(days)) }

    package var isValid: Bool {
        guard (1...12).contains(self.month), self.day >= 1 else { return false }
        return CivilDate(daysSinceEpoch: self.daysSinceEpoch) == self
    }

    package static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    package var iso: String { "\(Digits.pad(self.year, 4))-\(Digits.pad(self.month, 2))-\(Digits.pad(self.day, 2))" }
    package var description: String { self.iso }

    /// Parses `YYYY-MM-DD`.
    package init?(iso text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let y = Digits.parse(bytes[0..<4]), let m = Digits.parse(bytes[5..<7]), let d = Digits.parse(bytes[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
        guard self.isValid else { return nil }
    }
}

/// A time of day, to the second.
package struct CivilTime: Hashable, Comparable, Sendable {
    package var secondOfDay: Int

    package init(secondOfDay: Int) { self.secondOfDay = secondOfDay }
    package init(hour: Int, minute: Int, second: Int = 0) { self.secondOfDay = hour * 3600 + minute * 60 + second }

    package static func < (lhs: CivilTime, rhs: CivilTime) -> Bool { lhs.secondOfDay < rhs.secondOfDay }

    package var iso: String {
        let s = self.secondOfDay
        return "\(Digits.pad(s / 3600, 2)):\(Digits.pad(s / 60 % 60, 2)):\(Digits.pad(s % 60, 2))"
    }
}

/// A wall-clock reading without a zone, as Asterisk writes it.
package struct LocalDateTime: Hashable, Comparable, Sendable {
    package var date: CivilDate
    package var time: CivilTime

    package init(date: CivilDate, time: CivilTime) {
        self.date = date
        self.time = time
    }

    /// Parses `YYYY-MM-DD HH:MM:SS` (or with `T`) from exactly 19 bytes; concrete for the decoders' hot path.
    package init?(bytes: ArraySlice<UInt8>) {
        guard bytes.count == 19 else { return nil }
        let b = bytes.startIndex
        guard bytes[b + 4] == UInt8(ascii: "-"), bytes[b + 7] == UInt8(ascii: "-"),
            bytes[b + 10] == UInt8(ascii: " ") || bytes[b + 10] == UInt8(ascii: "T"),
            bytes[b + 13] == UInt8(ascii: ":"), bytes[b + 16] == UInt8(ascii: ":"),
            let y = Digits.parse(bytes[b..<(b + 4)]), let mo = Digits.parse(bytes[(b + 5)..<(b + 7)]),
            let d = Digits.parse(bytes[(b + 8)..<(b + 10)]), let h = Digits.parse(bytes[(b + 11)..<(b + 13)]),
            let mi = Digits.parse(bytes[(b + 14)..<(b + 16)]), let s = Digits.parse(bytes[(b + 17)..<(b + 19)]),
            h < 24, mi < 60, s < 61
        else { return nil }
        let date = CivilDate(year: y, month: mo, day: d)
        guard date.isValid else { return nil }
        self.init(date: date, time: CivilTime(hour: h, minute: mi, second: min(s, 59)))
    }

    /// Parses `YYYY-MM-DD HH:MM:SS` (or with `T`) from exactly 19 bytes of any collection.
    package init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        self.init(bytes: ArraySlice(bytes))
    }

    /// The instant this reading denotes if it were UTC.
    package var secondsAsIfUTC: Int64 { self.date.daysSinceEpoch * 86_400 + Int64(self.time.secondOfDay) }

    package init(secondsAsIfUTC: Int64) {
        let (days, sod) = Timestamp.floorDivMod(secondsAsIfUTC, 86_400)
        self.init(date: CivilDate(daysSinceEpoch: days), time: CivilTime(secondOfDay: Int(sod)))
    }

    package static func < (lhs: LocalDateTime, rhs: LocalDateTime) -> Bool { lhs.secondsAsIfUTC < rhs.secondsAsIfUTC }

    /// `YYYY-MM-DD HH:MM:SS`, Asterisk's `%Y-%m-%d %T`.
    package var asteriskText: String { "\(self.date.iso) \(self.time.iso)" }
}

/// Tiny ASCII digit helpers shared by the byte-level parsers.
package enum Digits {
    /// Concrete for the decoders' hot path (generic code is not specialised across modules).
    package static func parse(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            var value = 0
            for byte in buffer {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
    }

    package static func parse<C: Collection>(_ bytes: C) -> Int? where C.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    package static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
