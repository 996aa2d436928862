/// Parses the configuration's durations: `90s`, `30m`, `2h`, `1d` (an integer and one unit).
package enum DurationSpec {
    /// - Returns: the duration in seconds, or nil when the text is not a duration.
    package static func seconds(from text: String) -> Int64? {
        guard let unit = text.last, text.count >= 2, let value = Digits.parse(text.utf8.dropLast()) else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        // `99999999999999999d` is not a duration, and must not trap.
        let (seconds, overflow) = Int64(value).multipliedReportingOverflow(by: scale)
        return overflow ? nil : seconds
    }

    /// The shortest spelling of a duration, for messages and the `check-config` summary.
    package static func text(_ seconds: Int64) -> String {
        if seconds != 0, seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
