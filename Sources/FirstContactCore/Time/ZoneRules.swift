/// The UTC offsets of one IANA zone as a sorted list of transitions.
///
/// Core stays free of Foundation, so the table is built once at start-up from the system's
/// zone database (`ZoneRulesBuilder` in FirstContactIngest) and passed in.
package struct ZoneRules: Hashable, Sendable {
    /// From `at` on (UTC seconds), local time = UTC + `offset` seconds.
    package struct Transition: Hashable, Sendable {
        package var at: Int64
        package var offset: Int

        package init(at: Int64, offset: Int) {
            self.at = at
            self.offset = offset
        }
    }

    package let identifier: String
    /// Sorted by `at`; never empty; the first starts at `Int64.min`.
    package let transitions: [Transition]

    /// - Parameters:
    ///   - initialOffset: the offset before the first transition.
    ///   - transitions: changes of offset, in any order.
    package init(identifier: String, initialOffset: Int, transitions: [Transition]) {
        self.identifier = identifier
        self.transitions = [Transition(at: .min, offset: initialOffset)] + transitions.sorted { $0.at < $1.at }
    }

    package static let utc = ZoneRules(identifier: "UTC", initialOffset: 0, transitions: [])

    /// A zone with one offset for ever (tests, `Etc/GMT-8`).
    package static func fixed(identifier: String, offset: Int) -> ZoneRules {
        ZoneRules(identifier: identifier, initialOffset: offset, transitions: [])
    }

    /// The offset in force at `instant`.
    package func offset(at instant: Int64) -> Int {
        var low = 0
        var high = self.transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if self.transitions[mid].at <= instant { low = mid } else { high = mid - 1 }
        }
        return self.transitions[low].offset
    }

    /// The wall-clock reading at `instant`.
    package func local(_ instant: Timestamp) -> LocalDateTime {
        LocalDateTime(secondsAsIfUTC: instant.seconds + Int64(self.offset(at: instant.seconds)))
    }

    /// The instant a wall-clock reading denotes.
    ///
    /// A reading that occurs twice (the hour repeated when clocks go back) means the first
    /// occurrence; a reading that never occurs (the hour skipped when clocks go forward) is
    /// moved forward by the length of the gap, as a person resetting a clock would read it.
    package func instant(_ local: LocalDateTime) -> Timestamp {
        let asUTC = local.secondsAsIfUTC
        let before = self.offset(at: asUTC - 86_400)
        let after = self.offset(at: asUTC + 86_400)
        var best: Int64?
        for candidate in [before, after] {
            let t = asUTC - Int64(candidate)
            if self.offset(at: t) == candidate, best.map({ t < $0 }) ?? true { best = t }
        }
        return Timestamp(seconds: best ?? (asUTC - Int64(before)))
    }

    package func instant(_ date: CivilDate, _ time: CivilTime) -> Timestamp {
        // 24:00 is the start of the next day.
        if time.secondOfDay >= 86_400 {
            return self.instant(
                LocalDateTime(date: date.adding(days: 1), time: CivilTime(secondOfDay: time.secondOfDay - 86_400)))
        }
        return self.instant(LocalDateTime(date: date, time: time))
    }
}
