/// A stretch of time in which a watched source sent nothing although it should have.
package struct FeedGap: Hashable, Sendable {
    package var feed: String
    /// When the silence became a gap: the last record plus `silence` of the feed's hours.
    package var from: Timestamp
    /// The next record from the source; nil while it is still silent.
    package var to: Timestamp?

    package init(feed: String, from: Timestamp, to: Timestamp?) {
        self.feed = feed
        self.from = from
        self.to = to
    }

    /// What the gap announces (`feed_silent`, and `feed_resumed` once it ended), about no
    /// contact: the same keys and words in every store.
    package func notices(_ feed: Feed) -> [Notice] {
        var notices = [
            Notice(
                key: "feed_silent:\(self.feed):\(self.from.seconds)", kind: .feedSilent, at: self.from, contact: nil,
                detail:
                    "feed \(self.feed) (\(feed.source)) sent nothing for \(DurationSpec.text(feed.silence)) of its hours"
            )
        ]
        if let end = self.to {
            notices.append(
                Notice(
                    key: "feed_resumed:\(self.feed):\(self.from.seconds):\(end.seconds)", kind: .feedResumed, at: end,
                    contact: nil, detail: "feed \(self.feed) sends records again"))
        }
        return notices
    }

    /// Whether `instant` falls inside the gap.
    package func contains(_ instant: Timestamp) -> Bool {
        instant >= self.from && self.to.map { instant < $0 } ?? true
    }
}

/// Feed health (SPEC "The scheduler"): when a source sends no record for its `silence` during
/// its calendar's hours, the PBX may be writing nothing rather than nobody calling — clocks that
/// run out in such a gap must not breach on missing data.
package enum FeedHealth {
    /// The gaps of one feed, from the times its source sent records (any order, duplicates fine).
    /// - Parameters:
    ///   - activity: instants at which the source sent records.
    ///   - hours: the feed's calendar (silence counts only inside it).
    ///   - clock: now; a silence still going on at the clock is an open gap.
    package static func gaps(
        feed: String, activity: [Timestamp], silence: Int64, hours: BusinessHours, clock: Timestamp
    ) -> [FeedGap] {
        let times = Array(Set(activity)).sorted()
        var gaps: [FeedGap] = []
        for (index, time) in times.enumerated() where time <= clock {
            let silentFrom = hours.adding(silence, to: time)
            let next = index + 1 < times.count ? times[index + 1] : nil
            if let next, next <= clock {
                if silentFrom < next { gaps.append(FeedGap(feed: feed, from: silentFrom, to: next)) }
            } else if silentFrom <= clock {
                gaps.append(FeedGap(feed: feed, from: silentFrom, to: nil))
            }
        }
        return gaps
    }
}
