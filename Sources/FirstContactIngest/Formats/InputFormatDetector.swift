import FirstContactCore

/// Guesses a file's input format from its name and first bytes (`ingest DIR` without `--format`).
///
/// Only positive signs count: a file that matches none returns nil and is reported, never
/// decoded with a guessed format.
package enum InputFormatDetector {
    /// How many leading bytes ``detect(path:head:)`` wants to see.
    package static let headLength = 4096

    /// - Parameters:
    ///   - path: the file's path; only its name is looked at (`.cdr.xml`).
    ///   - head: the file's first bytes (up to ``headLength``); may end mid-line.
    /// - Returns: the format, or nil when nothing identifies it.
    package static func detect(path: String, head: [UInt8]) -> InputFormat? {
        var bytes = head[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }  // UTF-8 BOM
        guard let line = self.firstNonEmptyLine(bytes) else { return nil }

        if line.first == UInt8(ascii: "<") {
            return self.xmlFormat(path: path, text: bytes.prefix(self.headLength))
        }
        if path.lowercased().hasSuffix(".cdr.xml") { return .freeswitchXMLCDR }
        // Kamailio first: a flatstore CDR row (`start|end|duration|…`) also starts like queue_log.
        if KamailioAccDecoder.header(line) != nil || self.isFlatstoreAccRow(line) { return .kamailioAcc }
        if self.isQueueLogLine(line) { return .asteriskQueueLog }
        if line.starts(with: Array("Content-Length:".utf8)) || line.starts(with: Array("Event-Name:".utf8)) {
            return .freeswitchEvents
        }
        let fields = try? CSVLineScanner.fields(in: line)
        if let fields, self.isCELLine(fields) { return .asteriskCEL }
        if line.first == UInt8(ascii: "\"") { return .asteriskCSV }
        if let fields, fields.count >= 16 { return .asteriskCSV }
        return nil
    }

    /// A cel_custom row of the sample mapping: an upper-case event name, then `eventtime` as
    /// `<epoch>.<microseconds>` or, with a `dateformat`, as `YYYY-MM-DD HH:MM:SS`. A CDR row
    /// never starts so: its first two columns are accountcode and a caller number.
    private static func isCELLine(_ fields: [CSVField]) -> Bool {
        guard fields.count >= 2, fields[0].quoted, !fields[0].isEmpty else { return false }
        let isEventName = fields[0].content.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
        guard isEventName else { return false }
        let time = fields[1].content
        if let dot = time.firstIndex(of: UInt8(ascii: ".")) {
            if Digits.parse(time[..<dot]) != nil && Digits.parse(time[(dot + 1)...]) != nil { return true }
            return LocalDateTime(bytes: time[..<dot]) != nil && Digits.parse(time[(dot + 1)...]) != nil
        }
        // A date alone could be an accountcode and a start time: only with a known event name.
        return LocalDateTime(bytes: time) != nil && Self.celEventNames.contains(fields[0].string)
    }

    private static let celEventNames: Set<String> = [
        "CHAN_START", "CHAN_END", "ANSWER", "HANGUP", "APP_START", "APP_END", "BRIDGE_ENTER", "BRIDGE_EXIT",
        "BRIDGE_START", "BRIDGE_END", "LINKEDID_END", "BLINDTRANSFER", "ATTENDEDTRANSFER", "PICKUP", "FORWARD",
        "PARK_START", "PARK_END", "LOCAL_OPTIMIZE", "LOCAL_OPTIMIZE_BEGIN", "USER_DEFINED",
    ]

    /// A db_flatstore row of the Kamailio accounting layouts (dialplans/kamailio): a transaction
    /// `METHOD|from_tag|to_tag|callid|NNN|…` (7 or 14 fields) or a CDR
    /// `start|end|duration|callid|…` (10 fields, duration with a fraction).
    private static func isFlatstoreAccRow(_ line: ArraySlice<UInt8>) -> Bool {
        let fields = line.split(separator: UInt8(ascii: "|"), omittingEmptySubsequences: false)
        func isDecimal(_ field: ArraySlice<UInt8>) -> Bool {
            guard let dot = field.firstIndex(of: UInt8(ascii: ".")) else { return false }
            return Digits.parse(field[..<dot]) != nil && Digits.parse(field[(dot + 1)...]) != nil
        }
        switch fields.count {
        case 7, 14:
            let method = fields[0]
            return !method.isEmpty && method.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
                && fields[4].count == 3 && Digits.parse(fields[4]) != nil
        case 10:
            return Digits.parse(fields[0]) != nil && Digits.parse(fields[1]) != nil && isDecimal(fields[2])
        default:
            return false
        }
    }

    /// `^\d+\|[^|]*\|`: whole seconds, a callid, then the next separator.
    private static func isQueueLogLine(_ line: ArraySlice<UInt8>) -> Bool {
        guard let bar = line.firstIndex(of: UInt8(ascii: "|")), Digits.parse(line[..<bar]) != nil else { return false }
        return line[(bar + 1)...].contains(UInt8(ascii: "|"))
    }

    private static func xmlFormat(path: String, text: ArraySlice<UInt8>) -> InputFormat? {
        // The root element decides; an XML declaration or comments may come first.
        if path.lowercased().hasSuffix(".cdr.xml") || self.containsElement("cdr", in: text) { return .freeswitchXMLCDR }
        if self.containsElement("ivr-events", in: text) || self.containsElement("ivr-event", in: text) {
            return .ivrEvents
        }
        if self.containsElement("event", in: text) { return .freeswitchEvents }
        return nil
    }

    /// `<name` followed by whitespace, `>` or `/` (so `<cdr` does not match `<cdrs` by accident).
    private static func containsElement(_ name: String, in text: ArraySlice<UInt8>) -> Bool {
        let needle = [UInt8(ascii: "<")] + Array(name.utf8)
        var index = text.startIndex
        while index + needle.count <= text.endIndex {
            if text[index..<(index + needle.count)].elementsEqual(needle) {
                let after = index + needle.count
                if after == text.endIndex { return true }
                switch text[after] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
                    UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default:
                    break
                }
            }
            index += 1
        }
        return false
    }

    /// The first line with something other than blanks, without its terminator or leading blanks.
    private static func firstNonEmptyLine(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var rest = bytes
        while !rest.isEmpty {
            let end = rest.firstIndex(of: UInt8(ascii: "\n")) ?? rest.endIndex
            var line = rest[..<end]
            while let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                line = line.dropFirst()
            }
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if !line.isEmpty { return line }
            rest = end < rest.endIndex ? rest[(end + 1)...] : []
        }
        return nil
    }
}
