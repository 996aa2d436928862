/// Parses the configuration's durations: `90s`, `30m`, `2h`, `1d` (an integer and one unit).
package enum DurationSpec {
    /// - Returns: the duration in seconds, or nil when the text is not a duration.
    package static func seconds(from text: String) -> Int64? {
        guard let unit = text.last, text.count >= 2, let value = Digits.parse(text.utf8.dropLast()) else { return nil }
        switch unit {
        case "s": return Int64(value)
        case "m": return Int64(value) * 60
        case "h": return Int64(value) * 3600
        case "d": return Int64(value) * 86_400
        default: return nil
        }
    }

    /// The shortest spelling of a duration, for messages and the `check-config` summary.
    package static func text(_ seconds: Int64) -> String {
        if seconds != 0, seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds != 0, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds != 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
