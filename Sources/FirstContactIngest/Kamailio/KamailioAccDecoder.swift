import FirstContactCore

/// Decodes Kamailio accounting tables (FORMATS §6) into ``SIPRecord``s: `acc` and
/// `missed_calls` (one SIP transaction per row) and the dialog CDRs of `acc_cdrs`, as the
/// `db_text` and `db_flatstore` back ends write them.
///
/// **db_text**: the first line is the header, `name(type[,attr]) …` separated by spaces; every
/// row after it is `:`-separated in header order, with `\:` `\\` `\n` `\r` `\t` `\0` escaped
/// in string columns and NULL written as an empty field. Columns are found by name, so the
/// stock tables and tables with `db_extra` / `cdr_extra` columns in any order read the same.
/// Rows are written newest first; order does not matter here (calls are assembled from all
/// their rows). A table without accounting columns is Kamailio's `version` table (its rows
/// are ignored) or not an accounting table at all (its rows are rejected).
///
/// **db_flatstore**: no header, `|`-separated, a file per process (`acc_<rank>.log`). Its
/// columns cannot be named, so the rows must have the layout `dialplans/kamailio` configures:
/// transactions `method|from_tag|to_tag|callid|sip_code|sip_reason|time` (stock, 7 fields) or
/// that plus `ts_sec|ts_usec|src_user|src_ip|dst_ouser|dst_user|agent` (14 fields), and CDRs
/// `start_time|end_time|duration|callid|caller|callee|agent|sip_code|sip_reason|answer_ts`
/// (10 fields). `%7C` (flatstore's `encode_delimiter`) is read as `|`.
///
/// Times are epoch seconds (db_text and flatstore store DATETIME as an integer), optionally with
/// a fraction, which is dropped (FirstContact works in whole seconds).
package struct KamailioAccDecoder: Sendable {
    package init() {}

    /// The meanings FirstContact reads; each may be spelled several ways in a header.
    package enum Field: String, Sendable, Hashable, CaseIterable {
        case method, fromTag, toTag, callID, code, reason, time, caller, dialled, target, agent, start, end, answer

        /// Column names that carry the field, in preference order (Kamailio's `acc` names, the
        /// recipe's extras, the names SER's acc tables and the CDR extras use).
        var columnNames: [String] {
            switch self {
            case .method: ["method", "sip_method"]
            case .fromTag: ["from_tag"]
            case .toTag: ["to_tag"]
            case .callID: ["callid", "call_id", "sip_callid"]
            case .code: ["sip_code", "code", "sip_status"]
            case .reason: ["sip_reason", "reason"]
            case .time: ["time", "timestamp"]
            case .caller: ["src_user", "caller", "from_user"]
            case .dialled: ["dst_ouser", "callee", "to_user"]
            case .target: ["dst_user", "ruri_user"]
            case .agent: ["agent"]
            case .start: ["start_time"]
            case .end: ["end_time"]
            case .answer: ["answer_ts", "answer_time"]
            }
        }
    }

    /// One table layout: a db_text header, or one of the fixed flatstore layouts.
    package struct Table: Sendable, Hashable {
        package enum Kind: String, Sendable, Hashable {
            /// `acc` / `missed_calls`: has a method column.
            case transaction
            /// `acc_cdrs`: has start_time.
            case dialog
            /// db_text's `version` table (table_name, table_version), kept next to the acc tables.
            case version
            /// Any other table: its rows cannot be calls.
            case other
        }

        package var names: [String]
        package var kind: Kind
        /// Where each field is, by ``Field``; absent when the table lacks it.
        package var index: [Field: Int]
        /// db_text (`:` with backslash escapes) or flatstore (`|`, `%7C`).
        package var isFlatstore: Bool

        package init(names: [String], isFlatstore: Bool) {
            let lowered = names.map { $0.lowercased() }
            var index: [Field: Int] = [:]
            for field in Field.allCases {
                if let position = field.columnNames.lazy.compactMap({ lowered.firstIndex(of: $0) }).first {
                    index[field] = position
                }
            }
            self.names = names
            self.index = index
            self.isFlatstore = isFlatstore
            if index[.method] != nil {
                self.kind = .transaction
            } else if index[.start] != nil {
                self.kind = .dialog
            } else if lowered.contains("table_name"), lowered.contains("table_version") {
                self.kind = .version
            } else {
                self.kind = .other
            }
        }

        static let flatTransactionStock = Table(
            names: ["method", "from_tag", "to_tag", "callid", "sip_code", "sip_reason", "time"], isFlatstore: true)
        static let flatTransaction = Table(
            names: [
                "method", "from_tag", "to_tag", "callid", "sip_code", "sip_reason", "time", "ts_sec", "ts_usec",
                "src_user", "src_ip", "dst_ouser", "dst_user", "agent",
            ],
            isFlatstore: true)
        static let flatDialog = Table(
            names: [
                "start_time", "end_time", "duration", "callid", "caller", "callee", "agent", "sip_code",
                "sip_reason", "answer_ts",
            ],
            isFlatstore: true)
    }

    /// Parses a db_text header line (`id(int,auto) method(string) …`).
    /// - Returns: the layout, or nil when the line is not a header (a data row, anything else).
    package static func header(_ line: ArraySlice<UInt8>) -> Table? {
        var names: [String] = []
        var rest = line
        while true {
            while let first = rest.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                rest = rest.dropFirst()
            }
            if rest.isEmpty || rest.first == UInt8(ascii: "\r") || rest.first == UInt8(ascii: "\n") { break }
            // name: identifier characters up to `(`.
            guard let open = rest.firstIndex(of: UInt8(ascii: "(")), open > rest.startIndex,
                rest[..<open].allSatisfy(Self.isNameByte),
                let close = rest[open...].firstIndex(of: UInt8(ascii: ")"))
            else { return nil }
            // type[,attr]: db_text reads the type by its first letter (s, i, d, b, t) and the
            // attribute by its first (n = null, a = auto).
            let spec = rest[(open + 1)..<close].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            guard let type = spec.first?.first.map({ $0 | 0x20 }), Array("sidbt".utf8).contains(type), spec.count <= 2,
                spec.dropFirst().allSatisfy({ attr in
                    attr.first.map { [UInt8(ascii: "n"), UInt8(ascii: "a")].contains($0 | 0x20) } ?? false
                })
            else { return nil }
            names.append(String(decoding: rest[..<open], as: UTF8.self))
            rest = rest[(close + 1)...]
        }
        return names.isEmpty ? nil : Table(names: names, isFlatstore: false)
    }

    /// Decodes one row (without its line feed) under `table`; nil `table` means no db_text
    /// header was seen, so the row is read as db_flatstore.
    /// - Returns: `.record(.sip)`, `.ignored` for blank lines and `version` rows, or `.reject`.
    package func decode(line: ArraySlice<UInt8>, position: SourcePosition, table: Table?) -> IngestRecord {
        var line = line
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return .ignored(position) }
        do throws(Problem) {
            let (fields, layout) = try Self.fields(of: line, table: table)
            switch layout.kind {
            case .version:
                return .ignored(position)
            case .other:
                throw Problem(
                    "a db_text table with columns \(Self.someNames(layout.names)) is not a Kamailio accounting"
                        + " table (acc and missed_calls have method, acc_cdrs has start_time)")
            case .transaction, .dialog:
                return .record(.sip(try Self.record(fields, layout: layout, line: line, position: position)))
            }
        } catch {
            return .reject(Reject(position: position, reason: error.reason, raw: Array(line)))
        }
    }

    // MARK: - Rows

    /// The first few column names, each clipped: a header is input, and may be any length.
    private static func someNames(_ names: [String]) -> String {
        let shown = names.prefix(8).map { Self.clipped($0) }.joined(separator: ", ")
        return names.count > 8 ? "\(shown), … (\(names.count) in all)" : shown
    }

    private static func clipped(_ name: String) -> String { name.count > 40 ? "\(name.prefix(40))…" : name }

    struct Problem: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Splits a row into its values (nil = empty, which db_text uses for NULL) and picks the layout.
    private static func fields(of line: ArraySlice<UInt8>, table: Table?) throws(Problem) -> ([String?], Table) {
        if let table, !table.isFlatstore {
            let fields = try self.dbTextFields(line)
            guard fields.count == table.names.count else {
                throw Problem(
                    "\(fields.count) :-separated field\(fields.count == 1 ? "" : "s"), but the db_text header has"
                        + " \(table.names.count) columns")
            }
            return (fields, table)
        }
        guard line.contains(UInt8(ascii: "|")) else {
            throw Problem(
                "neither a db_text header (name(type) …) before it nor a db_flatstore row (|-separated):"
                    + " not a Kamailio accounting row")
        }
        let fields = line.split(separator: UInt8(ascii: "|"), omittingEmptySubsequences: false).map {
            field -> String? in
            field.isEmpty ? nil : Self.percentDecodedBars(field)
        }
        let first = fields.first.flatMap { $0 } ?? ""
        let startsWithMethod =
            !first.isEmpty && first.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        switch (fields.count, startsWithMethod) {
        case (14, true): return (fields, .flatTransaction)
        case (7, true): return (fields, .flatTransactionStock)
        case (10, false): return (fields, .flatDialog)
        default:
            throw Problem(
                "\(fields.count) |-separated fields; a db_flatstore row of the dialplans/kamailio layout has 14 (acc,"
                    + " missed_calls: method first), 7 (stock acc) or 10 (acc_cdrs: start_time first)")
        }
    }

    private static func record(
        _ fields: [String?], layout: Table, line: ArraySlice<UInt8>, position: SourcePosition
    ) throws(Problem) -> SIPRecord {
        func value(_ field: Field) -> String? {
            guard let index = layout.index[field] else { return nil }
            return fields[index]
        }
        func describe(_ field: Field) -> String {
            guard let index = layout.index[field] else { return field.rawValue }
            return "column \(index + 1) (\(Self.clipped(layout.names[index])))"
        }
        func required(_ field: Field) throws(Problem) -> String {
            guard layout.index[field] != nil else {
                let table = layout.kind == .dialog ? "acc_cdrs" : "acc"
                var reason = "the \(table) table has no \(field.columnNames[0]) column"
                if field == .callID, layout.kind == .dialog {
                    // The stock acc_cdrs has none: the CDR cannot be joined to its call without it.
                    reason +=
                        "; calls are grouped by SIP Call-ID: add callid=$dlg(callid) to acc's cdr_extra"
                        + " (dialplans/kamailio)"
                }
                throw Problem(reason)
            }
            guard let text = value(field), !text.isEmpty else { throw Problem("\(describe(field)) is empty") }
            return text
        }
        func time(_ field: Field, _ text: String) throws(Problem) -> Timestamp {
            guard let seconds = Self.epochSeconds(text) else {
                throw Problem("\(describe(field)) is \(Self.show(text)), not epoch seconds")
            }
            return Timestamp(seconds: seconds)
        }
        func code() throws(Problem) -> Int? {
            guard let text = value(.code), !text.isEmpty else { return nil }
            guard let code = Digits.parse(text.utf8), text.utf8.count == 3, (100...699).contains(code) else {
                throw Problem("\(describe(.code)) is \(Self.show(text)), not a SIP status code")
            }
            return code
        }

        let call = CallKey(try required(.callID))
        let key = EventKey.hashing(layout.isFlatstore ? "kamflat" : "kamdbt", line)
        switch layout.kind {
        case .dialog:
            let start = try time(.start, try required(.start))
            let end = try time(.end, try required(.end))
            guard end >= start else {
                throw Problem("\(describe(.end)) \(end.seconds) is before \(describe(.start)) \(start.seconds)")
            }
            let answer: Timestamp?
            if let text = value(.answer), !text.isEmpty { answer = try time(.answer, text) } else { answer = nil }
            return SIPRecord(
                key: key, position: position, call: call, kind: .dialog, method: "", code: try code(),
                reason: value(.reason) ?? "", fromTag: value(.fromTag) ?? "", toTag: value(.toTag) ?? "",
                caller: value(.caller) ?? "", dialled: value(.dialled) ?? "", target: value(.target) ?? "",
                agent: value(.agent) ?? "", time: end, start: start, answer: answer)
        case .transaction, .version, .other:
            let method = try required(.method)
            guard layout.index[.code] != nil else { throw Problem("the acc table has no sip_code column") }
            guard let code = try code() else { throw Problem("\(describe(.code)) is empty") }
            return SIPRecord(
                key: key, position: position, call: call, kind: .transaction, method: method, code: code,
                reason: value(.reason) ?? "", fromTag: value(.fromTag) ?? "", toTag: value(.toTag) ?? "",
                caller: value(.caller) ?? "", dialled: value(.dialled) ?? "", target: value(.target) ?? "",
                agent: value(.agent) ?? "", time: try time(.time, try required(.time)), start: nil, answer: nil)
        }
    }

    /// db_text's row syntax (`dbt_load_file`): `:` separates, a backslash escapes `n r t \ : 0`;
    /// any other escape, or a backslash at the end, makes the row unreadable for Kamailio too.
    private static func dbTextFields(_ line: ArraySlice<UInt8>) throws(Problem) -> [String?] {
        var fields: [String?] = []
        var current: [UInt8] = []
        var escaped = false
        for byte in line {
            if escaped {
                escaped = false
                switch byte {
                case UInt8(ascii: "n"): current.append(0x0A)
                case UInt8(ascii: "r"): current.append(0x0D)
                case UInt8(ascii: "t"): current.append(0x09)
                case UInt8(ascii: "0"): current.append(0x00)
                case UInt8(ascii: "\\"), UInt8(ascii: ":"): current.append(byte)
                default:
                    throw Problem(
                        "field \(fields.count + 1) has the escape \\\(String(decoding: [byte], as: UTF8.self)); db_text"
                            + " escapes only \\n \\r \\t \\\\ \\: \\0")
                }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: ":") {
                fields.append(current.isEmpty ? nil : String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            } else {
                current.append(byte)
            }
        }
        if escaped { throw Problem("the row ends in a lone backslash (a cut-off escape)") }
        fields.append(current.isEmpty ? nil : String(decoding: current, as: UTF8.self))
        return fields
    }

    /// A flatstore value with `%7C` (its encoded delimiter) turned back into `|`.
    private static func percentDecodedBars(_ field: ArraySlice<UInt8>) -> String {
        guard field.contains(UInt8(ascii: "%")) else { return String(decoding: field, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count)
        var index = field.startIndex
        while index < field.endIndex {
            if field[index] == UInt8(ascii: "%"), index + 2 < field.endIndex,
                field[index + 1] == UInt8(ascii: "7"), field[index + 2] | 0x20 == UInt8(ascii: "c")
            {
                bytes.append(UInt8(ascii: "|"))
                index += 3
            } else {
                bytes.append(field[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `1795931559` or `1795931559.152472` → whole seconds.
    static func epochSeconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        let whole = bytes.firstIndex(of: UInt8(ascii: ".")).map { bytes[..<$0] } ?? bytes[...]
        if whole.endIndex < bytes.endIndex, Digits.parse(bytes[(whole.endIndex + 1)...]) == nil { return nil }
        return Digits.parse(whole).map(Int64.init)
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    /// The value in quotes, cut to 40 characters.
    private static func show(_ text: String) -> String {
        text.count > 40 ? "\"\(text.prefix(40))…\"" : "\"\(text)\""
    }
}
