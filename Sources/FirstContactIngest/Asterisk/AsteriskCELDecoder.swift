import FirstContactCore

/// The CEL field names (`cel_custom` template variables, the database backends' columns).
package enum CELColumn: String, CaseIterable, Hashable, Sendable {
    case eventtype
    case eventtime
    case cidName = "cid_name"
    case cidNum = "cid_num"
    case cidAni = "cid_ani"
    case cidRdnis = "cid_rdnis"
    case cidDnid = "cid_dnid"
    case exten
    case context
    case channame
    case appname
    case appdata
    case amaflags
    case accountcode
    case peeraccount
    case uniqueid
    case linkedid
    case peer
    case userfield
    case userdeftype
    case extra
    case tenantid

    /// The `cel_custom.conf` sample mapping (`cel-custom/Master.csv`, FORMATS §3.1).
    package static let sampleMapping: [CELColumn] = [
        .eventtype, .eventtime, .cidName, .cidNum, .cidAni, .cidRdnis, .cidDnid, .exten, .context, .channame,
        .appname, .appdata, .amaflags, .accountcode, .uniqueid, .linkedid, .peer, .userfield, .userdeftype, .extra,
    ]
}

/// Decodes one line of the CSV Asterisk's `cel_custom` writes (`cel-custom/Master.csv`) into a
/// ``CELRecord``, or a ``Reject`` naming the column at fault.
///
/// The columns are the sample mapping (FORMATS §3.1) unless `asterisk.cel_columns` lists another.
/// `eventtime` is `<epoch>.<microseconds>` (the default) or a `dateformat` such as `%F %T`, read
/// in the PBX's zone. `extra` is Asterisk 12+ JSON or the pre-12 HANGUP string
/// `cause,source,dialstatus`.
package struct AsteriskCELDecoder: Sendable {
    package let zone: ZoneRules
    private let columns: [CELColumn?]
    private let names: [String]
    private let isCustom: Bool

    /// - Parameters:
    ///   - options: `asterisk:` from the configuration (`cel_columns`).
    ///   - zone: the PBX's zone, for `dateformat` times (which carry no offset).
    package init(options: AsteriskOptions, zone: ZoneRules) {
        self.zone = zone
        if let custom = options.celColumns {
            self.columns = custom.map { CELColumn(rawValue: $0.lowercased()) }
            self.names = custom
            self.isCustom = true
        } else {
            self.columns = CELColumn.sampleMapping
            self.names = CELColumn.sampleMapping.map(\.rawValue)
            self.isCustom = false
        }
    }

    /// The columns every row needs.
    package static let requiredColumns: [CELColumn] = [.eventtype, .eventtime, .channame, .uniqueid, .linkedid]

    /// Problems with an `asterisk.cel_columns` list, for configuration checks (empty when usable).
    package static func problems(inColumns columns: [String]) -> [String] {
        var problems: [String] = []
        var seen: Set<CELColumn> = []
        for (index, name) in columns.enumerated() {
            guard let column = CELColumn(rawValue: name.lowercased()) else {
                let known = CELColumn.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append("column \(index + 1) \"\(name)\" is not a CEL field name (expected one of \(known))")
                continue
            }
            if !seen.insert(column).inserted { problems.append("column \(index + 1) \"\(name)\" is listed twice") }
        }
        for required in Self.requiredColumns where !seen.contains(required) {
            problems.append("the list has no \(required.rawValue) column; it is required")
        }
        return problems
    }

    /// Decodes one line (without its line feed; a trailing CR is ignored).
    package func decode(line: ArraySlice<UInt8>, position: SourcePosition) -> IngestRecord {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return .ignored(position) }
        switch self.record(from: line, position: position) {
        case .success(let record): return .record(.cel(record))
        case .failure(let problem): return .reject(Reject(position: position, reason: problem.reason, raw: Array(line)))
        }
    }

    package func decode(line: [UInt8], position: SourcePosition) -> IngestRecord {
        self.decode(line: line[...], position: position)
    }

    struct Problem: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private func record(from line: ArraySlice<UInt8>, position: SourcePosition) -> Result<CELRecord, Problem> {
        let fields: [CSVField]
        do {
            fields = try CSVLineScanner.fields(in: line)
        } catch {
            return .failure(Problem(error.description))
        }
        let layout = self.isCustom ? "asterisk.cel_columns" : "the cel_custom sample mapping"
        guard fields.count == self.columns.count else {
            return .failure(
                Problem(
                    "\(fields.count) fields, but \(layout) has \(self.columns.count) columns"
                        + (self.isCustom ? "" : "; for another mapping set asterisk.cel_columns")))
        }
        var values: [CELColumn: CSVField] = [:]
        var numbers: [CELColumn: Int] = [:]
        for (index, column) in self.columns.enumerated() {
            if let column, values[column] == nil {
                values[column] = fields[index]
                numbers[column] = index + 1
            }
        }
        for required in Self.requiredColumns where values[required] == nil {
            return .failure(Problem("\(layout) has no \(required.rawValue) column; every row needs one"))
        }
        func text(_ column: CELColumn) -> String { values[column]?.string ?? "" }
        func describe(_ column: CELColumn) -> String {
            "column \(numbers[column] ?? 0) (\(self.names[(numbers[column] ?? 1) - 1]))"
        }

        let eventName = text(.eventtype)
        guard !eventName.isEmpty else { return .failure(Problem("\(describe(.eventtype)) is empty")) }
        guard let timeField = values[.eventtime], let (time, micros) = self.time(timeField.bytes) else {
            return .failure(
                Problem(
                    "\(describe(.eventtime)) is \(Reject.quoted(text(.eventtime))), not <epoch>.<microseconds>"
                        + " or YYYY-MM-DD HH:MM:SS"))
        }
        let linkedID = text(.linkedid)
        let uniqueID = text(.uniqueid)
        guard !linkedID.isEmpty || !uniqueID.isEmpty else {
            return .failure(
                Problem("\(describe(.linkedid)) and \(describe(.uniqueid)) are empty; no call to file it under"))
        }
        let event = CELRecord.Event(name: eventName)
        let extra: CELRecord.Extra
        switch Self.extra(values[.extra]?.bytes ?? [], event: event) {
        case .success(let parsed): extra = parsed
        case .failure(let problem): return .failure(Problem("\(describe(.extra)) \(problem.reason)"))
        }
        return .success(
            CELRecord(
                key: EventKey.hashing("cel", line), position: position,
                call: CallKey(linkedID.isEmpty ? uniqueID : linkedID),
                event: event, time: time, microseconds: micros, callerName: text(.cidName), callerNumber: text(.cidNum),
                exten: text(.exten), context: text(.context), channel: text(.channame), application: text(.appname),
                applicationData: text(.appdata), uniqueID: uniqueID, peer: text(.peer), extra: extra))
    }

    /// `1335310195.513823` (any 0–6 fraction digits) or a `dateformat` `YYYY-MM-DD HH:MM:SS[.ffffff]` in the zone.
    private func time(_ bytes: ArraySlice<UInt8>) -> (Timestamp, Int)? {
        let dot = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(dot ?? bytes.endIndex)]
        var micros = 0
        if let dot {
            let fraction = bytes[(dot + 1)...]
            guard !fraction.isEmpty, fraction.count <= 9, let value = Digits.parse(fraction) else { return nil }
            micros =
                fraction.count <= 6 ? value * Self.powers[6 - fraction.count] : value / Self.powers[fraction.count - 6]
        }
        if let seconds = Digits.parse(whole) { return (Timestamp(seconds: Int64(seconds)), micros) }
        guard let local = LocalDateTime(bytes: whole) else { return nil }
        return (self.zone.instant(local), micros)
    }

    private static let powers = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]

    /// The `extra` column: JSON (12+), the pre-12 HANGUP `cause,source,dialstatus`, or empty.
    static func extra(_ bytes: ArraySlice<UInt8>, event: CELRecord.Event) -> Result<CELRecord.Extra, Problem> {
        var extra = CELRecord.Extra()
        var trimmed = bytes
        while let first = trimmed.first, first == UInt8(ascii: " ") { trimmed = trimmed.dropFirst() }
        guard !trimmed.isEmpty else { return .success(extra) }
        guard trimmed.first == UInt8(ascii: "{") else {
            // Pre-12 HANGUP: `16,dialplan/builtin,` / `16,,ANSWER`; other events' free text is kept as evidence only.
            if event == .hangup {
                let parts = trimmed.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                extra.hangupCause = parts.first.flatMap { Digits.parse($0) }
                if parts.count >= 3 { extra.dialStatus = String(decoding: parts[parts.count - 1], as: UTF8.self) }
            }
            return .success(extra)
        }
        guard let object = FlatJSON.object(trimmed) else {
            return .failure(Problem("starts like JSON but is not a flat JSON object"))
        }
        extra.hangupCause = object["hangupcause"].flatMap { Int($0) }
        extra.dialStatus = object["dialstatus"] ?? ""
        extra.bridgeID = object["bridge_id"] ?? object["bridge1_id"] ?? ""
        extra.transferExtension = object["extension"] ?? ""
        extra.transferContext = object["context"] ?? ""
        extra.transfereeChannel = object["transferee_channel_name"] ?? ""
        extra.transferTargetChannel = object["transfer_target_channel_name"] ?? object["channel2_name"] ?? ""
        return .success(extra)
    }
}

/// A one-level JSON object with scalar values (what Asterisk writes in CEL `extra`), values as
/// their text (`16`, `"PJSIP/1001-0000002a"` → `PJSIP/1001-0000002a`); nested values are skipped.
enum FlatJSON {
    static func object(_ bytes: ArraySlice<UInt8>) -> [String: String]? {
        var parser = Parser(bytes: Array(bytes), index: 0)
        return parser.object()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index: Int

        mutating func skipSpace() {
            while self.index < self.bytes.count,
                [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(
                    self.bytes[self.index])
            {
                self.index += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            self.skipSpace()
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        mutating func object() -> [String: String]? {
            guard self.take(UInt8(ascii: "{")) else { return nil }
            var result: [String: String] = [:]
            if self.take(UInt8(ascii: "}")) { return self.atEnd() ? result : nil }
            while true {
                self.skipSpace()
                guard let key = self.string(), self.take(UInt8(ascii: ":")), let value = self.value() else {
                    return nil
                }
                result[key] = value
                if self.take(UInt8(ascii: ",")) { continue }
                guard self.take(UInt8(ascii: "}")) else { return nil }
                return self.atEnd() ? result : nil
            }
        }

        mutating func atEnd() -> Bool {
            self.skipSpace()
            return self.index == self.bytes.count
        }

        /// A scalar's text; a nested object or array is skipped whole and yields "".
        mutating func value() -> String? {
            self.skipSpace()
            guard self.index < self.bytes.count else { return nil }
            switch self.bytes[self.index] {
            case UInt8(ascii: "\""):
                return self.string()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                var inString = false
                while self.index < self.bytes.count {
                    let byte = self.bytes[self.index]
                    self.index += 1
                    if inString {
                        if byte == UInt8(ascii: "\\") {
                            self.index += 1
                        } else if byte == UInt8(ascii: "\"") {
                            inString = false
                        }
                        continue
                    }
                    switch byte {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { return "" }
                    default: break
                    }
                }
                return nil
            default:
                let start = self.index
                while self.index < self.bytes.count,
                    ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: " ")].contains(self.bytes[self.index])
                {
                    self.index += 1
                }
                let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
                return text.isEmpty ? nil : (text == "null" ? "" : text)
            }
        }

        mutating func string() -> String? {
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else { return nil }
            self.index += 1
            var out: [UInt8] = []
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard self.index < self.bytes.count else { return nil }
                    let escaped = self.bytes[self.index]
                    self.index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
                    case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
                    case UInt8(ascii: "r"): out.append(UInt8(ascii: "\r"))
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "u"):
                        guard self.index + 4 <= self.bytes.count,
                            let code = UInt32(
                                String(decoding: self.bytes[self.index..<(self.index + 4)], as: UTF8.self), radix: 16)
                        else { return nil }
                        self.index += 4
                        out += Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8)
                    default: out.append(escaped)
                    }
                default:
                    out.append(byte)
                }
            }
            return nil
        }
    }
}
