import FirstContactIngest
import Testing

@Suite("CSVLineScanner: RFC 4180 quoting as Asterisk writes it, one line at a time")
struct CSVLineScannerTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var line: String
        var values: [String]
        var quoted: [Bool]
        var testDescription: String { self.line.isEmpty ? "(empty line)" : self.line }
    }

    @Test(
        "splits fields, undoes doubled quotes and records which fields were quoted",
        arguments: [
            Case(line: #""a","b""#, values: ["a", "b"], quoted: [true, true]),
            Case(line: #""a,b",c"#, values: ["a,b", "c"], quoted: [true, false]),
            // `#"""` would open a multi-line raw string, so lines that start with three quotes are escaped.
            Case(line: "\"\"\"Test User\"\" <test>\"", values: [#""Test User" <test>"#], quoted: [true]),
            Case(line: "\"\"\"\"\" <client1>\"", values: ["\"\" <client1>"], quoted: [true]),
            Case(line: #""x""y","""""#, values: [#"x"y"#, "\""], quoted: [true, true]),
            Case(line: "a,,b", values: ["a", "", "b"], quoted: [false, false, false]),
            Case(
                line: #""2015-03-24 16:22:44",,3"#,
                values: ["2015-03-24 16:22:44", "", "3"],
                quoted: [true, false, false]
            ),
            Case(line: "\"\"", values: [""], quoted: [true]),
            Case(line: "", values: [""], quoted: [false]),
            Case(line: "a,", values: ["a", ""], quoted: [false, false]),
            Case(line: #""a","#, values: ["a", ""], quoted: [true, false]),
            Case(line: #""张敏 <8001>",7"#, values: ["张敏 <8001>", "7"], quoted: [true, false]),
        ]
    )
    func splits(_ testCase: Case) throws {
        let fields = try CSVLineScanner.fields(in: Array(testCase.line.utf8)[...])
        #expect(fields.map(\.string) == testCase.values)
        #expect(fields.map(\.quoted) == testCase.quoted)
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        var line: String
        var kind: CSVScanError.Kind
        var field: Int
        var byte: Int
        var testDescription: String { self.line }
    }

    @Test(
        "rejects broken quoting with the field and byte where it happened",
        arguments: [
            Failure(line: #""abc"#, kind: .unterminatedQuote, field: 1, byte: 1),
            Failure(line: #""a","b,c"#, kind: .unterminatedQuote, field: 2, byte: 5),
            Failure(line: #""a"""#, kind: .unterminatedQuote, field: 1, byte: 1),
            Failure(line: #""a"x,b"#, kind: .junkAfterClosingQuote, field: 1, byte: 4),
            Failure(line: #""a" ,"b""#, kind: .junkAfterClosingQuote, field: 1, byte: 4),
            Failure(line: #"x,ab"c"#, kind: .quoteInUnquotedField, field: 2, byte: 5),
        ]
    )
    func rejects(_ failure: Failure) {
        #expect(throws: CSVScanError(kind: failure.kind, field: failure.field, byte: failure.byte)) {
            _ = try CSVLineScanner.fields(in: Array(failure.line.utf8)[...])
        }
    }

    @Test("the unterminated-quote message names the column it started in")
    func unterminatedMessage() {
        let error = CSVScanError(kind: .unterminatedQuote, field: 18, byte: 190)
        #expect(error.description.hasPrefix("unterminated quoted field starting at column 18"))
    }

    @Test("fields of a slice report columns relative to the slice")
    func sliceColumns() throws {
        let bytes = Array(#"junk|"a","b""#.utf8)
        let fields = try CSVLineScanner.fields(in: bytes[5...])
        #expect(fields.map(\.column) == [1, 5])
        #expect(fields.map(\.string) == ["a", "b"])
    }
}
