import FirstContactCore
import GRDB

/// A source and a minute in which it sent records.
struct SourceMinute: Hashable {
    var source: Int64
    var minute: Int64
}

extension SQLiteContactStore {
    /// Recomputes the silences of every configured feed up to `clock`; when they changed, stores
    /// them, notifies (feed_silent / feed_resumed) and marks the customers with uncertain
    /// obligations for derivation (a late record may have settled them).
    /// - Returns: all gaps, for the derivations that follow.
    static func checkFeeds(_ configuration: FirstContactConfiguration, clock: Timestamp, db: Database) throws
        -> [FeedGap]
    {
        guard !configuration.feeds.isEmpty else { return [] }
        var all: [FeedGap] = []
        var changed = false
        for feed in configuration.feeds {
            let minutes = try Int64.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT minute FROM source_activity WHERE source_id = (SELECT id FROM source WHERE name = ?)
                        ORDER BY minute
                        """),
                arguments: [feed.source])
            // Activity is kept to the minute (records' event times, truncated).
            let activity = minutes.map { Timestamp(seconds: $0 * 60) }
            let hours: BusinessHours =
                feed.calendar.flatMap { configuration.calendars[$0] }.map { .calendar($0) } ?? .always
            let gaps = FeedHealth.gaps(
                feed: feed.name, activity: activity, silence: feed.silence, hours: hours, clock: clock)
            all += gaps
            let stored = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT from_at, to_at FROM feed_gap WHERE feed = ? ORDER BY from_at"),
                arguments: [feed.name]
            ).map {
                FeedGap(
                    feed: feed.name, from: Timestamp(seconds: $0[0]),
                    to: ($0[1] as Int64?).map { Timestamp(seconds: $0) })
            }
            guard stored != gaps else { continue }
            changed = true
            // A gap decides whether a clock that ran out inside it breached, so settled pasts and
            // resume points reaching past where the gaps changed are derived again from every record.
            if let from = Set(stored).symmetricDifference(gaps).map(\.from).min() {
                try db.run(
                    """
                    UPDATE customer SET settled_before = purged_before, settled_contact = purged_contact,
                    settled_closed = purged_closed WHERE settled_before > ?
                    """
                ) { $0.add(from.seconds) }
                try db.run("UPDATE customer SET resume_before = NULL WHERE resume_before > ?") {
                    $0.add(from.seconds)
                }
            }
            try db.execute(sql: "DELETE FROM feed_gap WHERE feed = ?", arguments: [feed.name])
            for gap in gaps {
                try db.run("INSERT INTO feed_gap (feed, from_at, to_at) VALUES (?, ?, ?)") {
                    $0.add(gap.feed)
                    $0.add(gap.from.seconds)
                    $0.add(gap.to?.seconds)
                }
                for notice in gap.notices(feed) { try Self.insert(notice, customer: nil, db: db) }
            }
        }
        if changed {
            try db.execute(
                sql: """
                    UPDATE customer SET dirty = 1 WHERE customer_key IN (SELECT customer_key FROM obligation WHERE uncertain = 1)
                    """)
        }
        return all
    }

    static func storedGaps(_ db: Database) throws -> [FeedGap] {
        try Row.fetchAll(db, sql: "SELECT feed, from_at, to_at FROM feed_gap ORDER BY feed, from_at").map {
            FeedGap(feed: $0[0], from: Timestamp(seconds: $0[1]), to: ($0[2] as Int64?).map { Timestamp(seconds: $0) })
        }
    }
}
