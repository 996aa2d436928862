import FirstContactCore
import Foundation

/// Builds Core's `ZoneRules` (a plain table of UTC offsets) from the system's IANA zone database.
///
/// Core stays free of Foundation, so the one place that reads `TimeZone` is here, once per zone
/// at start-up. The table covers 1970–2100; after 2100 the last offset is assumed to hold, which
/// is later than any deadline FirstContact computes.
package enum ZoneRulesBuilder {
    /// Start of the table: 1970-01-01T00:00:00Z (PBX records never predate it).
    package static let tableStart: Int64 = 0
    /// End of the table: 2100-01-01T00:00:00Z.
    package static let tableEnd: Int64 = 4_102_444_800

    /// The offsets of an IANA zone (`Asia/Shanghai`, `Europe/Berlin`, `UTC`).
    ///
    /// - Parameter identifier: the zone name exactly as the IANA database spells it (case matters).
    /// - Returns: the zone's transitions between 1970 and 2100, or nil when the system does not
    ///   know the zone.
    package static func rules(for identifier: String) -> ZoneRules? {
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else { return nil }
        let start = Date(timeIntervalSince1970: TimeInterval(self.tableStart))
        let end = Date(timeIntervalSince1970: TimeInterval(self.tableEnd))
        let initialOffset = zone.secondsFromGMT(for: start)

        var transitions: [ZoneRules.Transition] = []
        var previousOffset = initialOffset
        var cursor = start
        // ICU reports every transition, not only daylight-saving ones (Europe/Moscow 2011 and 2014,
        // Asia/Pyongyang 2015), so this walk also catches changes of standard time.
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < end, next > cursor {
            let offset = zone.secondsFromGMT(for: next)
            // A transition that changes only the zone's name or DST flag changes no wall clock.
            if offset != previousOffset {
                let at = Int64(next.timeIntervalSince1970.rounded(.down))
                transitions.append(ZoneRules.Transition(at: at, offset: offset))
                previousOffset = offset
            }
            cursor = next
        }
        return ZoneRules(identifier: identifier, initialOffset: initialOffset, transitions: transitions)
    }
}
