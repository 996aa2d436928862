import FirstContactCore
import FirstContactIngest
import Testing

@Suite struct ZoneRulesBuilderTests {
    private static func instant(_ text: String) throws -> Timestamp {
        try #require(Timestamp(iso8601: text))
    }

    private static func local(_ text: String) throws -> LocalDateTime {
        try #require(LocalDateTime(bytes: Array(text.utf8)))
    }

    @Test func berlinSwitchesAtOneUTC() throws {
        let berlin = try #require(ZoneRulesBuilder.rules(for: "Europe/Berlin"))
        #expect(berlin.identifier == "Europe/Berlin")
        // Summer time starts 2026-03-29 at 01:00Z (02:00 CET → 03:00 CEST) …
        #expect(berlin.offset(at: try Self.instant("2026-03-29T00:59:59Z").seconds) == 3600)
        #expect(berlin.offset(at: try Self.instant("2026-03-29T01:00:00Z").seconds) == 7200)
        // … and ends 2026-10-25 at 01:00Z (03:00 CEST → 02:00 CET).
        #expect(berlin.offset(at: try Self.instant("2026-10-25T00:59:59Z").seconds) == 7200)
        #expect(berlin.offset(at: try Self.instant("2026-10-25T01:00:00Z").seconds) == 3600)
        #expect(berlin.offset(at: try Self.instant("2026-07-01T12:00:00Z").seconds) == 7200)
        #expect(berlin.offset(at: try Self.instant("2027-01-15T12:00:00Z").seconds) == 3600)
        // Two changes a year up to 2100.
        #expect(berlin.offset(at: try Self.instant("2099-07-01T00:00:00Z").seconds) == 7200)
    }

    @Test func shanghaiIsAlwaysEightHoursAhead() throws {
        let shanghai = try #require(ZoneRulesBuilder.rules(for: "Asia/Shanghai"))
        // China last observed daylight saving time in 1991.
        let since1992 = try Self.instant("1992-01-01T00:00:00Z").seconds
        #expect(shanghai.transitions.filter { $0.at >= since1992 }.isEmpty)
        for text in ["2026-01-01T00:00:00Z", "2026-03-29T01:00:00Z", "2026-07-01T12:00:00Z", "2026-10-25T01:00:00Z"] {
            #expect(shanghai.offset(at: try Self.instant(text).seconds) == 28_800)
        }
        #expect(shanghai.local(try Self.instant("2026-11-27T10:00:00Z")).asteriskText == "2026-11-27 18:00:00")
    }

    @Test func aSkippedLocalTimeMovesForwardByTheGap() throws {
        let berlin = try #require(ZoneRulesBuilder.rules(for: "Europe/Berlin"))
        // 02:30 never happens on 2026-03-29 in Berlin; read as 03:30 CEST.
        #expect(berlin.instant(try Self.local("2026-03-29 02:30:00")) == (try Self.instant("2026-03-29T01:30:00Z")))
        #expect(berlin.instant(try Self.local("2026-03-29 01:59:59")) == (try Self.instant("2026-03-29T00:59:59Z")))
        #expect(berlin.instant(try Self.local("2026-03-29 03:00:00")) == (try Self.instant("2026-03-29T01:00:00Z")))
    }

    @Test func aRepeatedLocalTimeMeansTheFirstOccurrence() throws {
        let berlin = try #require(ZoneRulesBuilder.rules(for: "Europe/Berlin"))
        // 02:30 happens twice on 2026-10-25: first in CEST (00:30Z), then in CET (01:30Z).
        #expect(berlin.instant(try Self.local("2026-10-25 02:30:00")) == (try Self.instant("2026-10-25T00:30:00Z")))
        #expect(berlin.instant(try Self.local("2026-10-25 03:00:00")) == (try Self.instant("2026-10-25T02:00:00Z")))
    }

    @Test func changesOfStandardTimeAreKept() throws {
        // Moscow moved to permanent +4 in 2011 and back to +3 in 2014, without "daylight saving".
        let moscow = try #require(ZoneRulesBuilder.rules(for: "Europe/Moscow"))
        #expect(moscow.offset(at: try Self.instant("2013-01-01T00:00:00Z").seconds) == 14_400)
        #expect(moscow.offset(at: try Self.instant("2026-01-01T00:00:00Z").seconds) == 10_800)
    }

    @Test(arguments: ["Nowhere/Town", "", "asia/shanghai"])
    func unknownZonesGiveNil(_ identifier: String) {
        #expect(ZoneRulesBuilder.rules(for: identifier) == nil)
    }

    @Test func utcHasNoTransitions() throws {
        let utc = try #require(ZoneRulesBuilder.rules(for: "UTC"))
        #expect(utc.identifier == "UTC")
        #expect(utc.transitions.count == 1)
        #expect(utc.offset(at: 0) == 0)
    }
}
