/// One field of a CSV line, as a view into the line's bytes.
package struct CSVField: Hashable, Sendable {
    /// The field's bytes between the quotes (for a quoted field) with doubled quotes still doubled.
    package var content: ArraySlice<UInt8>
    /// The field was written inside `"…"`: `""` (quoted empty) differs from an empty unquoted field.
    package var quoted: Bool
    /// `content` holds `""` pairs that stand for one `"` each.
    package var hasDoubledQuotes: Bool
    /// 1-based byte column of the field's first byte (its opening quote, if quoted) in the line.
    package var column: Int

    package init(content: ArraySlice<UInt8>, quoted: Bool, hasDoubledQuotes: Bool, column: Int) {
        self.content = content
        self.quoted = quoted
        self.hasDoubledQuotes = hasDoubledQuotes
        self.column = column
    }

    /// The field's value with `""` undone.
    package var bytes: ArraySlice<UInt8> {
        guard self.hasDoubledQuotes else { return self.content }
        var value: [UInt8] = []
        value.reserveCapacity(self.content.count)
        var skipNext = false
        for byte in self.content {
            if skipNext {
                skipNext = false
                continue
            }
            value.append(byte)
            if byte == CSVLineScanner.quote { skipNext = true }
        }
        return value[...]
    }

    /// The value decoded as UTF-8; invalid bytes become U+FFFD instead of failing the row.
    package var string: String { String(decoding: self.bytes, as: UTF8.self) }

    /// True when the value is empty, quoted or not.
    package var isEmpty: Bool { self.content.isEmpty }
}

/// Why a line is not valid CSV.
package struct CSVScanError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Kind: Hashable, Sendable {
        /// A `"` opened a field and the line ended before it closed.
        case unterminatedQuote
        /// Something other than a separator followed a closing quote (`"a"b,`).
        case junkAfterClosingQuote
        /// A `"` inside a field that did not start with one (`ab"c`).
        case quoteInUnquotedField
    }

    package var kind: Kind
    /// 1-based number of the field (the CSV column) where the problem is.
    package var field: Int
    /// 1-based byte position in the line where the offending field starts (or the junk byte).
    package var byte: Int

    package init(kind: Kind, field: Int, byte: Int) {
        self.kind = kind
        self.field = field
        self.byte = byte
    }

    package var description: String {
        switch self.kind {
        case .unterminatedQuote:
            "unterminated quoted field starting at column \(self.field) (byte \(self.byte));"
                + " the line ends inside quotes"
        case .junkAfterClosingQuote:
            "unexpected byte after the closing quote of column \(self.field) (byte \(self.byte)); expected a separator"
        case .quoteInUnquotedField:
            "stray quote in unquoted column \(self.field) (byte \(self.byte))"
        }
    }
}

/// Splits one line into fields with RFC 4180 quoting, as Asterisk's CSV writers produce it.
///
/// Asterisk wraps strings in `"` and doubles embedded quotes; numbers and empty times are bare.
/// The scanner works on exactly one line: a quote still open at the end of the line is an
/// error, never a reason to read the following line, because cdr_csv never writes multi-line
/// records and swallowing the next line would turn one bad row into two lost ones.
package enum CSVLineScanner {
    static let quote = UInt8(ascii: "\"")

    /// The fields of `line` (no terminator). An empty line is one empty field.
    /// - Parameter separator: the field separator byte (`,` for Asterisk).
    /// - Throws: ``CSVScanError`` when the quoting is broken.
    package static func fields(
        in line: ArraySlice<UInt8>,
        separator: UInt8 = UInt8(ascii: ",")
    ) throws(CSVScanError) -> [CSVField] {
        var fields: [CSVField] = []
        fields.reserveCapacity(24)
        let start = line.startIndex
        let end = line.endIndex
        var index = start
        while true {
            let fieldStart = index
            let fieldNumber = fields.count + 1
            let column = fieldStart - start + 1
            if index < end, line[index] == Self.quote {
                index += 1
                let contentStart = index
                var doubled = false
                var closed = false
                while index < end {
                    if line[index] == Self.quote {
                        if index + 1 < end, line[index + 1] == Self.quote {
                            doubled = true
                            index += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    index += 1
                }
                guard closed else {
                    throw CSVScanError(kind: .unterminatedQuote, field: fieldNumber, byte: column)
                }
                fields.append(
                    CSVField(
                        content: line[contentStart..<index],
                        quoted: true,
                        hasDoubledQuotes: doubled,
                        column: column
                    )
                )
                index += 1  // past the closing quote
                if index == end { return fields }
                guard line[index] == separator else {
                    throw CSVScanError(kind: .junkAfterClosingQuote, field: fieldNumber, byte: index - start + 1)
                }
                index += 1
            } else {
                while index < end, line[index] != separator {
                    if line[index] == Self.quote {
                        throw CSVScanError(kind: .quoteInUnquotedField, field: fieldNumber, byte: index - start + 1)
                    }
                    index += 1
                }
                fields.append(
                    CSVField(content: line[fieldStart..<index], quoted: false, hasDoubledQuotes: false, column: column)
                )
                if index == end { return fields }
                index += 1
            }
        }
    }
}
