import FirstContactCore

/// The CDR field names Asterisk's CDR backends use (`${CDR(name)}`), in `cdr_csv` order.
package enum CDRColumn: String, CaseIterable, Hashable, Sendable {
    case accountcode
    case src
    case dst
    case dcontext
    case clid
    case channel
    case dstchannel
    case lastapp
    case lastdata
    case start
    case answer
    case end
    case duration
    case billsec
    case disposition
    case amaflags
    case uniqueid
    case userfield
    case peeraccount
    case linkedid
    case sequence

    /// Position in ``allCases``, used to index the per-layout column table.
    var ordinal: Int {
        switch self {
        case .accountcode: 0
        case .src: 1
        case .dst: 2
        case .dcontext: 3
        case .clid: 4
        case .channel: 5
        case .dstchannel: 6
        case .lastapp: 7
        case .lastdata: 8
        case .start: 9
        case .answer: 10
        case .end: 11
        case .duration: 12
        case .billsec: 13
        case .disposition: 14
        case .amaflags: 15
        case .uniqueid: 16
        case .userfield: 17
        case .peeraccount: 18
        case .linkedid: 19
        case .sequence: 20
        }
    }
}

/// Decodes one Asterisk CDR line (`cdr_csv` Master.csv or a configured `cdr_custom` layout)
/// into a ``LegRecord``, or a ``Reject`` that names the column and the value at fault.
///
/// `cdr_csv` (FORMATS §1.1) has 16 fixed columns plus independent optional groups —
/// uniqueid, userfield, then peeraccount+linkedid+sequence — so a row has 16 to 21 fields.
/// The layout is chosen per row by its field count; 17 and 20 are ambiguous between
/// uniqueid and userfield and are resolved by whether field 17 looks like a uniqueid.
/// Because a `cdr_custom` row can have a legal `cdr_csv` count (the sample template has 19),
/// every row is validated strictly against Asterisk's writer (bare integers, timestamps
/// where times belong, known dispositions) so that such a file is rejected, never mis-read.
package struct AsteriskCDRDecoder: Sendable {
    package let options: AsteriskOptions
    package let zone: ZoneRules
    /// The explicit `cdr_custom` layout, when `options.cdrColumns` is set.
    private let customLayout: Layout?

    /// - Parameters:
    ///   - options: `asterisk:` from the configuration (`usegmtime`, `cdr_columns`).
    ///   - zone: the PBX's zone, used to read local times when `usegmtime` is off.
    package init(options: AsteriskOptions, zone: ZoneRules) {
        self.options = options
        self.zone = zone
        self.customLayout = options.cdrColumns.map(Layout.custom)
    }

    /// Problems with a `cdr_custom` column list, for configuration checks (empty when usable).
    ///
    /// Unknown names are allowed by the decoder (their fields are skipped), but are reported
    /// here because they are usually typos.
    package static func problems(inColumns columns: [String]) -> [String] {
        var problems: [String] = []
        var seen: Set<CDRColumn> = []
        for (index, name) in columns.enumerated() {
            guard let column = CDRColumn(rawValue: name.lowercased()) else {
                let known = CDRColumn.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append("column \(index + 1) \"\(name)\" is not a CDR field name (expected one of \(known))")
                continue
            }
            if !seen.insert(column).inserted {
                problems.append("column \(index + 1) \"\(name)\" is listed twice")
            }
        }
        for required in Layout.requiredCustomColumns where !seen.contains(required) {
            problems.append("the list has no \(required.rawValue) column; it is required")
        }
        return problems
    }

    /// Decodes one line (without its line feed; a trailing CR is ignored).
    /// - Returns: `.record(.leg)`, `.reject` with the exact line bytes, or `.ignored` for a blank line.
    package func decode(line: ArraySlice<UInt8>, position: SourcePosition) -> IngestRecord {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
            return .ignored(position)
        }
        switch self.leg(from: line, position: position) {
        case .success(let leg): return .record(.leg(leg))
        case .failure(let problem): return .reject(Reject(position: position, reason: problem.reason, raw: Array(line)))
        }
    }

    /// Decodes one line held in an array.
    package func decode(line: [UInt8], position: SourcePosition) -> IngestRecord {
        self.decode(line: line[...], position: position)
    }

    // MARK: - Row

    private func leg(from line: ArraySlice<UInt8>, position: SourcePosition) -> Result<LegRecord, Problem> {
        let fields: [CSVField]
        do {
            fields = try CSVLineScanner.fields(in: line)
        } catch {
            return .failure(Problem(error.description))
        }

        let layout: Layout
        if let custom = self.customLayout {
            guard fields.count == custom.fieldCount else {
                return .failure(
                    Problem(
                        "\(fields.count) fields, but asterisk.cdr_columns lists \(custom.fieldCount) columns"
                            + " (\(custom.summary))"
                    )
                )
            }
            if let missing = custom.missingRequired {
                return .failure(Problem("asterisk.cdr_columns has no \(missing.rawValue) column; every row needs one"))
            }
            layout = custom
        } else {
            guard let detected = Layout.cdrCSV(for: fields) else {
                return .failure(
                    Problem(
                        "\(fields.count) fields; a cdr_csv row has 16 to 21 (16 base columns plus loguniqueid,"
                            + " loguserfield, newcdrcolumns)" + Layout.customHint
                    )
                )
            }
            layout = detected
        }

        do {
            return .success(try self.leg(from: Row(fields: fields, layout: layout), line: line, position: position))
        } catch {
            // cdr_csv reasons suggest cdr_custom: a wrong-layout file is the usual cause there.
            let hint = layout.isCustom ? "" : Layout.customHint
            return .failure(Problem("\(layout.summary), but \(error.text)\(hint)"))
        }
    }

    private func leg(from row: Row, line: ArraySlice<UInt8>, position: SourcePosition) throws(FieldProblem) -> LegRecord
    {
        let strict = !row.layout.isCustom
        let start = self.instant(try row.requiredTime(.start))
        let answer = try row.time(.answer, strict: strict).map(self.instant)
        let end = self.instant(try row.requiredTime(.end))
        _ = try row.integer(.duration, strict: strict)
        let billsec = try row.integer(.billsec, strict: strict)
        let disposition = try row.disposition()
        let sequence = try row.integer(.sequence, strict: strict)

        let uniqueID = row.string(.uniqueid)
        let linkedID = row.string(.linkedid)
        let channel = row.string(.channel)
        let call: CallKey
        if !linkedID.isEmpty {
            call = CallKey(linkedID)
        } else if !uniqueID.isEmpty {
            call = CallKey(uniqueID)
        } else {
            // No id columns (16-column layout): the channel name is unique while it exists.
            call = CallKey("chan:\(channel)@\(start.seconds)")
        }

        return LegRecord(
            key: EventKey.hashing("cdr", line),
            position: position,
            call: call,
            uniqueID: uniqueID,
            source: row.string(.src),
            callerName: CallerID.name(in: row.bytes(.clid)),
            destination: row.string(.dst),
            context: row.string(.dcontext),
            channel: channel,
            peerChannel: row.string(.dstchannel),
            application: row.string(.lastapp),
            applicationData: row.string(.lastdata),
            start: start,
            answer: answer,
            end: end,
            billsec: billsec ?? max(0, answer.map { Int(end - $0) } ?? 0),
            disposition: disposition ?? .unknown,
            sequence: sequence
        )
    }

    private func instant(_ local: LocalDateTime) -> Timestamp {
        self.options.usegmtime ? Timestamp(seconds: local.secondsAsIfUTC) : self.zone.instant(local)
    }
}

// MARK: - Layouts

extension AsteriskCDRDecoder {
    /// Which field holds which CDR column, for one row shape.
    fileprivate struct Layout: Sendable {
        /// Field index per ``CDRColumn/ordinal``; nil when the layout lacks the column.
        var fieldIndex: [Int?]
        var names: [String]
        var fieldCount: Int
        var isCustom: Bool
        /// Human description used as the reason's prefix.
        var summary: String

        static let requiredCustomColumns: [CDRColumn] = [.start, .end, .disposition]
        static let customHint = "; if this is a cdr_custom file set asterisk.cdr_columns"

        init(columns: [CDRColumn?], names: [String], isCustom: Bool, summary: String) {
            var fieldIndex = [Int?](repeating: nil, count: CDRColumn.allCases.count)
            for (index, column) in columns.enumerated() {
                if let column { fieldIndex[column.ordinal] = index }
            }
            self.fieldIndex = fieldIndex
            self.names = names
            self.fieldCount = columns.count
            self.isCustom = isCustom
            self.summary = summary
        }

        func index(of column: CDRColumn) -> Int? { self.fieldIndex[column.ordinal] }

        var missingRequired: CDRColumn? {
            Self.requiredCustomColumns.first { self.index(of: $0) == nil }
        }

        static func custom(_ names: [String]) -> Layout {
            let columns = names.map { CDRColumn(rawValue: $0.lowercased()) }
            return Layout(
                columns: columns,
                names: names,
                isCustom: true,
                summary: "\(names.count) fields read with asterisk.cdr_columns"
            )
        }

        private static let base: [CDRColumn] = Array(CDRColumn.allCases.prefix(16))

        private static func csv(_ extra: [CDRColumn], _ options: String) -> Layout {
            let columns = base + extra
            return Layout(
                columns: columns,
                names: columns.map(\.rawValue),
                isCustom: false,
                summary: "\(columns.count) fields read as cdr_csv\(options)"
            )
        }

        private static let csv16 = csv([], " (no optional columns)")
        private static let csv17UniqueID = csv([.uniqueid], " with loguniqueid")
        private static let csv17UserField = csv([.userfield], " with loguserfield")
        private static let csv18 = csv([.uniqueid, .userfield], " with loguniqueid and loguserfield")
        private static let csv19 = csv([.peeraccount, .linkedid, .sequence], " with newcdrcolumns")
        private static let csv20UniqueID = csv(
            [.uniqueid, .peeraccount, .linkedid, .sequence],
            " with loguniqueid and newcdrcolumns"
        )
        private static let csv20UserField = csv(
            [.userfield, .peeraccount, .linkedid, .sequence],
            " with loguserfield and newcdrcolumns"
        )
        private static let csv21 = csv(
            [.uniqueid, .userfield, .peeraccount, .linkedid, .sequence],
            " with loguniqueid, loguserfield and newcdrcolumns"
        )

        /// The cdr_csv layout for a row, or nil when its field count is not one Asterisk writes.
        static func cdrCSV(for fields: [CSVField]) -> Layout? {
            switch fields.count {
            case 16: csv16
            case 17: looksLikeUniqueID(fields[16].content) ? csv17UniqueID : csv17UserField
            case 18: csv18
            case 19: csv19
            case 20: looksLikeUniqueID(fields[16].content) ? csv20UniqueID : csv20UserField
            case 21: csv21
            default: nil
            }
        }

        /// `<digits>.<digits>`, optionally after `<systemname>-` (FORMATS §1.5).
        static func looksLikeUniqueID(_ bytes: ArraySlice<UInt8>) -> Bool {
            var body = bytes
            if let dash = bytes.lastIndex(of: UInt8(ascii: "-")) {
                guard dash > bytes.startIndex else { return false }
                body = bytes[(dash + 1)...]
            }
            guard let dot = body.firstIndex(of: UInt8(ascii: ".")) else { return false }
            return Digits.parse(body[..<dot]) != nil && Digits.parse(body[(dot + 1)...]) != nil
        }
    }

    /// The failure of a whole row, as reported.
    fileprivate struct Problem: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The failure of one field; the layout prefix is added by the caller.
    fileprivate struct FieldProblem: Error {
        var text: String
    }

    /// The fields of one row seen through its layout.
    fileprivate struct Row {
        var fields: [CSVField]
        var layout: Layout

        func field(_ column: CDRColumn) -> (number: Int, field: CSVField)? {
            guard let index = self.layout.index(of: column) else { return nil }
            return (index + 1, self.fields[index])
        }

        func bytes(_ column: CDRColumn) -> ArraySlice<UInt8> {
            self.field(column)?.field.bytes ?? []
        }

        func string(_ column: CDRColumn) -> String {
            guard let (_, field) = self.field(column) else { return "" }
            return field.string
        }

        func describe(_ number: Int) -> String {
            "column \(number) (\(self.layout.names[number - 1]))"
        }

        /// A time that every CDR has (start, end).
        func requiredTime(_ column: CDRColumn) throws(FieldProblem) -> LocalDateTime {
            guard let (number, field) = self.field(column) else {
                // Unreachable: cdr_csv layouts have the column and custom layouts are checked for it.
                throw FieldProblem(text: "the layout has no \(column.rawValue) column")
            }
            guard !field.isEmpty else {
                throw FieldProblem(text: "\(self.describe(number)) is empty; every CDR has a \(column.rawValue) time")
            }
            return try self.parseTime(field, number: number)
        }

        /// A time that may be unset (answer): nil when the column is absent or empty.
        ///
        /// cdr_csv writes an unset time as an empty *unquoted* field; a quoted `""` there is the
        /// mark of a cdr_custom template, so in strict mode it is rejected.
        func time(_ column: CDRColumn, strict: Bool) throws(FieldProblem) -> LocalDateTime? {
            guard let (number, field) = self.field(column) else { return nil }
            guard !field.isEmpty else {
                if strict, field.quoted {
                    throw FieldProblem(
                        text: "\(self.describe(number)) is \"\" (quoted); cdr_csv writes an unset time as an empty"
                            + " unquoted field"
                    )
                }
                return nil
            }
            return try self.parseTime(field, number: number)
        }

        private func parseTime(_ field: CSVField, number: Int) throws(FieldProblem) -> LocalDateTime {
            guard !field.hasDoubledQuotes, let local = LocalDateTime(bytes: field.content) else {
                throw FieldProblem(
                    text: "\(self.describe(number)) is \(Self.show(field)), not a timestamp (YYYY-MM-DD HH:MM:SS)"
                )
            }
            return local
        }

        /// A whole number of seconds (or the sequence). cdr_csv writes numbers bare; cdr_custom
        /// templates quote them and `CDR(billsec,f)` adds a fraction, which is truncated.
        func integer(_ column: CDRColumn, strict: Bool) throws(FieldProblem) -> Int? {
            guard let (number, field) = self.field(column) else { return nil }
            if strict, field.quoted {
                throw FieldProblem(
                    text: "\(self.describe(number)) is \(Self.show(field)) in quotes; cdr_csv writes numbers unquoted"
                )
            }
            var digits = field.content
            if !strict, let dot = digits.firstIndex(of: UInt8(ascii: ".")),
                Digits.parse(digits[(dot + 1)...]) != nil
            {
                digits = digits[..<dot]
            }
            guard let value = Digits.parse(digits) else {
                throw FieldProblem(text: "\(self.describe(number)) is \(Self.show(field)), not a whole number")
            }
            return value
        }

        func disposition() throws(FieldProblem) -> LegDisposition? {
            guard let (number, field) = self.field(.disposition) else { return nil }
            guard let disposition = LegDisposition(rawValue: field.string) else {
                let known = LegDisposition.allCases.map(\.rawValue).joined(separator: ", ")
                throw FieldProblem(text: "\(self.describe(number)) is \(Self.show(field)), not one of \(known)")
            }
            return disposition
        }

        /// The value in quotes, cut to 40 characters so a reason stays one readable line.
        static func show(_ field: CSVField) -> String {
            let text = field.string
            guard text.count > 40 else { return "\"\(text)\"" }
            return "\"\(text.prefix(40))…\""
        }
    }
}

/// Asterisk caller-ID text (`clid`) → the name part, as `ast_callerid_parse` reads it.
enum CallerID {
    /// `"Name" <number>` → `Name` (backslash escapes undone); `number` alone → empty;
    /// a bare name (no number) → that name. Bytes that are not UTF-8 become U+FFFD.
    static func name(in clid: ArraySlice<UInt8>) -> String {
        let text = self.trimmed(clid)
        if let open = text.lastIndex(of: UInt8(ascii: "<")) {
            let namePart = self.trimmed(text[..<open])
            return self.unquoted(namePart) ?? String(decoding: namePart, as: UTF8.self)
        }
        if let name = self.unquoted(text) { return name }
        if self.isPhoneNumber(text) { return "" }
        return String(decoding: text, as: UTF8.self)
    }

    /// The content of `"…"` with `\x` → `x`, or nil when `bytes` is not wrapped in quotes.
    private static func unquoted(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        var name: [UInt8] = []
        name.reserveCapacity(bytes.count)
        var escaped = false
        for byte in bytes.dropFirst().dropLast() {
            if !escaped, byte == UInt8(ascii: "\\") {
                escaped = true
                continue
            }
            escaped = false
            name.append(byte)
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// `ast_isphonenumber` after `ast_shrink_phone_number`: digits, `*#+`, ignoring `( ) - .` and spaces.
    private static func isPhoneNumber(_ bytes: ArraySlice<UInt8>) -> Bool {
        var sawDigit = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "*"), UInt8(ascii: "#"), UInt8(ascii: "+"):
                sawDigit = true
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: " "):
                continue
            default:
                return false
            }
        }
        return sawDigit
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var bytes = bytes
        while let first = bytes.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            bytes = bytes.dropFirst()
        }
        while let last = bytes.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            bytes = bytes.dropLast()
        }
        return bytes
    }
}
