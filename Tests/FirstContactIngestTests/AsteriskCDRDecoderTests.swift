import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

/// A CSV field as Asterisk writes a string: in quotes, embedded quotes doubled.
private func q(_ value: String) -> String {
    "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The 16 base fields of a cdr_csv row (FORMATS §1.1), each already CSV-encoded.
struct CDRRow {
    var accountcode = q("")
    var src = q("1001")
    var dst = q("2000")
    var dcontext = q("internal")
    var clid = q("\"Li Lei\" <1001>")
    var channel = q("PJSIP/1001-00000001")
    var dstchannel = q("PJSIP/2000-00000002")
    var lastapp = q("Dial")
    var lastdata = q("PJSIP/2000,30")
    var start = q("2026-03-02 10:00:00")
    var answer = q("2026-03-02 10:00:03")
    var end = q("2026-03-02 10:01:03")
    var duration = "63"
    var billsec = "60"
    var disposition = q("ANSWERED")
    var amaflags = q("DOCUMENTATION")

    var fields: [String] {
        [
            self.accountcode, self.src, self.dst, self.dcontext, self.clid, self.channel, self.dstchannel,
            self.lastapp, self.lastdata, self.start, self.answer, self.end, self.duration, self.billsec,
            self.disposition, self.amaflags,
        ]
    }

    /// The row with optional cdr_csv columns appended (already encoded).
    func line(_ extra: [String] = []) -> [UInt8] {
        Array((self.fields + extra).joined(separator: ",").utf8)
    }

    /// With loguniqueid + loguserfield, the "stock sample cdr.conf" layout.
    func line18() -> [UInt8] { self.line([q("1772445600.1"), q("")]) }
}

/// 2026-03-02 10:00:00 read as UTC.
private let tenOClock: Int64 = 1_772_445_600

private let utcDecoder = AsteriskCDRDecoder(options: AsteriskOptions(), zone: .utc)
private let shanghai = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)

/// The cdr_custom template of the corpus file (Asterisk's legacy sample, FORMATS §1.9).
private let sampleCustomColumns = [
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer", "end",
    "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield", "sequence",
]

@Suite("AsteriskCDRDecoder: cdr_csv layouts")
struct AsteriskCDRLayoutTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        var name: String
        var extra: [String]
        var uniqueID: String
        var call: String
        var sequence: Int?
        var testDescription: String { self.name }
    }

    @Test(
        "every legal field count picks the right optional columns",
        arguments: [
            Variant(
                name: "16 fields: no optional columns",
                extra: [],
                uniqueID: "",
                call: "chan:PJSIP/1001-00000001@\(tenOClock)",
                sequence: nil
            ),
            Variant(
                name: "17 fields: uniqueid",
                extra: [q("1772445600.1")],
                uniqueID: "1772445600.1",
                call: "1772445600.1",
                sequence: nil
            ),
            Variant(
                name: "17 fields: uniqueid with a systemname prefix",
                extra: [q("pbx-east-1772445600.1")],
                uniqueID: "pbx-east-1772445600.1",
                call: "pbx-east-1772445600.1",
                sequence: nil
            ),
            Variant(
                name: "17 fields: userfield",
                extra: [q("vip")],
                uniqueID: "",
                call: "chan:PJSIP/1001-00000001@\(tenOClock)",
                sequence: nil
            ),
            Variant(
                name: "17 fields: empty userfield",
                extra: [q("")],
                uniqueID: "",
                call: "chan:PJSIP/1001-00000001@\(tenOClock)",
                sequence: nil
            ),
            Variant(
                name: "18 fields: uniqueid and userfield",
                extra: [q("1772445600.1"), q("vip")],
                uniqueID: "1772445600.1",
                call: "1772445600.1",
                sequence: nil
            ),
            Variant(
                name: "19 fields: newcdrcolumns",
                extra: [q(""), q("1772445500.0"), "7"],
                uniqueID: "",
                call: "1772445500.0",
                sequence: 7
            ),
            Variant(
                name: "20 fields: uniqueid and newcdrcolumns",
                extra: [q("1772445600.1"), q(""), q("1772445500.0"), "8"],
                uniqueID: "1772445600.1",
                call: "1772445500.0",
                sequence: 8
            ),
            Variant(
                name: "20 fields: userfield and newcdrcolumns",
                extra: [q("vip"), q(""), q("1772445500.0"), "9"],
                uniqueID: "",
                call: "1772445500.0",
                sequence: 9
            ),
            Variant(
                name: "21 fields: everything",
                extra: [q("1772445600.1"), q("vip"), q("acct"), q("1772445500.0"), "10"],
                uniqueID: "1772445600.1",
                call: "1772445500.0",
                sequence: 10
            ),
            Variant(
                name: "21 fields: empty linkedid falls back to uniqueid",
                extra: [q("1772445600.1"), q(""), q(""), q(""), "0"],
                uniqueID: "1772445600.1",
                call: "1772445600.1",
                sequence: 0
            ),
        ]
    )
    func layouts(_ variant: Variant) throws {
        let leg = try #require(utcDecoder.decode(line: CDRRow().line(variant.extra), position: testPosition()).leg)
        #expect(leg.uniqueID == variant.uniqueID)
        #expect(leg.call == CallKey(variant.call))
        #expect(leg.sequence == variant.sequence)
        // The base columns are the same whatever the optional groups.
        #expect(leg.source == "1001")
        #expect(leg.callerName == "Li Lei")
        #expect(leg.destination == "2000")
        #expect(leg.context == "internal")
        #expect(leg.channel == "PJSIP/1001-00000001")
        #expect(leg.peerChannel == "PJSIP/2000-00000002")
        #expect(leg.application == "Dial")
        #expect(leg.applicationData == "PJSIP/2000,30")
        #expect(leg.start == Timestamp(seconds: tenOClock))
        #expect(leg.answer == Timestamp(seconds: tenOClock + 3))
        #expect(leg.end == Timestamp(seconds: tenOClock + 63))
        #expect(leg.billsec == 60)
        #expect(leg.disposition == .answered)
    }

    @Test("a 16-column file with an unanswered BUSY row", .tags(.fixture))
    func sixteenColumnFixture() throws {
        let records = try TestFiles.decode(TestFiles.fixture("cdr_csv_16_columns.csv"), with: utcDecoder.decode)
        let legs = records.compactMap(\.leg)
        try #require(legs.count == 2)
        #expect(legs[0].callerName == "Li Lei")
        #expect(legs[1].callerName == "", "a number-only clid has no name")
        #expect(legs[1].answer == nil)
        #expect(legs[1].disposition == .busy)
        #expect(legs[1].call == CallKey("chan:PJSIP/1001-00000003@\(tenOClock + 300)"))
    }

    @Test("a 21-column newcdrcolumns file groups every leg under the linkedid", .tags(.fixture))
    func twentyOneColumnFixture() throws {
        let decoder = AsteriskCDRDecoder(options: AsteriskOptions(), zone: shanghai)
        let records = try TestFiles.decode(TestFiles.fixture("cdr_csv_21_newcdrcolumns.csv"), with: decoder.decode)
        let legs = records.compactMap(\.leg)
        try #require(legs.count == 3)
        #expect(Set(legs.map(\.call)) == [CallKey("1772413200.1")])
        #expect(legs.map(\.sequence) == [11, 12, 13])
        #expect(legs.map(\.uniqueID) == ["1772413200.1", "1772413201.4", "1772413206.2"])
        #expect(legs.map(\.callerName) == ["张敏", "张敏", "张敏"])
        #expect(legs[0].peerChannel == "Local/8001@agents-00000002;1")
        #expect(legs[0].applicationData == "hotline,t")
        #expect(legs[1].answer == nil)
        #expect(legs[1].disposition == .noAnswer)
    }
}

@Suite("AsteriskCDRDecoder: times and zones")
struct AsteriskCDRTimeTests {
    @Test("local times are converted to UTC with the PBX zone (+08:00)")
    func fixedZone() throws {
        let decoder = AsteriskCDRDecoder(options: AsteriskOptions(), zone: shanghai)
        let records = try TestFiles.decode(TestFiles.fixture("cdr_csv_21_newcdrcolumns.csv"), with: decoder.decode)
        let leg = try #require(records.first?.leg)
        // 2026-03-02 09:00:00 in Shanghai is 01:00:00 UTC.
        #expect(leg.start == (try Timestamp.utc("2026-03-02T01:00:00Z")))
        #expect(leg.answer == (try Timestamp.utc("2026-03-02T01:00:15Z")))
        #expect(leg.end == (try Timestamp.utc("2026-03-02T01:03:20Z")))
    }

    @Test("usegmtime takes the written times as UTC and ignores the zone")
    func useGMTime() throws {
        let decoder = AsteriskCDRDecoder(options: AsteriskOptions(usegmtime: true), zone: shanghai)
        let records = try TestFiles.decode(TestFiles.fixture("cdr_csv_21_newcdrcolumns.csv"), with: decoder.decode)
        let leg = try #require(records.first?.leg)
        #expect(leg.start == (try Timestamp.utc("2026-03-02T09:00:00Z")))
        #expect(leg.end == (try Timestamp.utc("2026-03-02T09:03:20Z")))
    }

    @Test("the synthetic call key uses the UTC start, so it does not depend on the zone's display")
    func syntheticKeyIsUTC() throws {
        let decoder = AsteriskCDRDecoder(options: AsteriskOptions(), zone: shanghai)
        let leg = try #require(decoder.decode(line: CDRRow().line(), position: testPosition()).leg)
        #expect(leg.call == CallKey("chan:PJSIP/1001-00000001@\(tenOClock - 28_800)"))
    }
}

@Suite("AsteriskCDRDecoder: caller-ID names and quoting")
struct AsteriskCDRCallerIDTests {
    struct CLIDCase: CustomTestStringConvertible, Sendable {
        var clid: String
        var name: String
        var testDescription: String { "clid \(self.clid)" }
    }

    @Test(
        "the name part of clid, with Asterisk's escapes undone",
        arguments: [
            CLIDCase(clid: "\"Test User\" <test>", name: "Test User"),
            CLIDCase(clid: "1001", name: ""),
            CLIDCase(clid: "+86 (10) 1234-5678", name: ""),
            CLIDCase(clid: "\"\" <client1>", name: ""),
            CLIDCase(clid: "", name: ""),
            CLIDCase(clid: "apptel", name: "apptel"),
            CLIDCase(clid: "\"张敏\" <13900000001>", name: "张敏"),
            CLIDCase(clid: "\"Elès 45\" <1045>", name: "Elès 45"),
            CLIDCase(clid: #""\"Boss\" Wang" <8001>"#, name: #""Boss" Wang"#),
            CLIDCase(clid: #""Wang\\Li" <8002>"#, name: #"Wang\Li"#),
            CLIDCase(clid: "Li Lei <1001>", name: "Li Lei"),
            CLIDCase(clid: "\"Only A Name\"", name: "Only A Name"),
            CLIDCase(clid: "\"a, b\" <1003>", name: "a, b"),
        ]
    )
    func callerName(_ testCase: CLIDCase) throws {
        var row = CDRRow()
        row.clid = q(testCase.clid)
        let leg = try #require(utcDecoder.decode(line: row.line18(), position: testPosition()).leg)
        #expect(leg.callerName == testCase.name)
    }

    @Test("the corpus's doubled-quote clid reads as name Test User, number in src")
    func corpusQuoting() throws {
        let line = Array(
            #""","test","100","context","""Test User"" <test>","SIP/test-02897fd8","","Hangup","","2009-01-14 23:51:15","2009-01-14 23:51:15","2009-01-14 23:51:20",5,5,"ANSWERED","DOCUMENTATION","1231977075.0","""#
                .utf8
        )
        let leg = try #require(utcDecoder.decode(line: line, position: testPosition()).leg)
        #expect(leg.callerName == "Test User")
        #expect(leg.source == "test")
        #expect(leg.peerChannel == "")
    }

    @Test("a comma and doubled quotes inside lastdata stay in the value")
    func commasAndQuotesInValues() throws {
        var row = CDRRow()
        row.lastdata = q("PJSIP/2000&PJSIP/2001,30,tT\"x\"")
        let leg = try #require(utcDecoder.decode(line: row.line18(), position: testPosition()).leg)
        #expect(leg.applicationData == "PJSIP/2000&PJSIP/2001,30,tT\"x\"")
    }

    @Test("invalid UTF-8 in a name becomes U+FFFD; the row is not rejected and the raw bytes keep the key")
    func invalidUTF8() throws {
        var line = Array(#""","1001","2000","internal",""""#.utf8)
        line += [0xFF, 0xFE]
        line += Array(
            #""" <1001>","PJSIP/1001-00000001","","Dial","","2026-03-02 10:00:00",,"2026-03-02 10:00:05",5,0,"NO ANSWER","DOCUMENTATION","1772445600.1","""#
                .utf8
        )
        let leg = try #require(utcDecoder.decode(line: line, position: testPosition()).leg)
        #expect(leg.callerName == "\u{FFFD}\u{FFFD}")
        #expect(leg.key == EventKey.hashing("cdr", line))
    }
}

@Suite("AsteriskCDRDecoder: rejects")
struct AsteriskCDRRejectTests {
    struct BadRow: CustomTestStringConvertible, Sendable {
        var name: String
        var edit: @Sendable (inout CDRRow) -> Void
        var reason: String
        var testDescription: String { self.name }
    }

    private static let prefix = "18 fields read as cdr_csv with loguniqueid and loguserfield, but "

    @Test(
        "a bad value is rejected with its column number, name and value",
        arguments: [
            BadRow(
                name: "impossible month",
                edit: { $0.start = q("2026-13-01 00:00:00") },
                reason: #"column 10 (start) is "2026-13-01 00:00:00", not a timestamp (YYYY-MM-DD HH:MM:SS)"#
            ),
            BadRow(
                name: "words for a start time",
                edit: { $0.start = q("yesterday") },
                reason: #"column 10 (start) is "yesterday", not a timestamp"#
            ),
            BadRow(
                name: "missing start",
                edit: { $0.start = "" },
                reason: "column 10 (start) is empty; every CDR has a start time"
            ),
            BadRow(
                name: "end without seconds",
                edit: { $0.end = q("2026-03-02 10:01") },
                reason: #"column 12 (end) is "2026-03-02 10:01", not a timestamp"#
            ),
            BadRow(
                name: "answer as quoted empty",
                edit: { $0.answer = q("") },
                reason: #"column 11 (answer) is "" (quoted); cdr_csv writes an unset time as an empty unquoted field"#
            ),
            BadRow(
                name: "quoted duration",
                edit: { $0.duration = q("63") },
                reason: #"column 13 (duration) is "63" in quotes; cdr_csv writes numbers unquoted"#
            ),
            BadRow(
                name: "billsec with letters",
                edit: { $0.billsec = "6x" },
                reason: #"column 14 (billsec) is "6x", not a whole number"#
            ),
            BadRow(
                name: "negative billsec",
                edit: { $0.billsec = "-1" },
                reason: #"column 14 (billsec) is "-1", not a whole number"#
            ),
            BadRow(
                name: "unknown disposition",
                edit: { $0.disposition = q("MAYBE") },
                reason:
                    #"column 15 (disposition) is "MAYBE", not one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION, CANCEL, UNKNOWN"#
            ),
            BadRow(
                name: "lower-case disposition",
                edit: { $0.disposition = q("answered") },
                reason: #"column 15 (disposition) is "answered", not one of"#
            ),
        ]
    )
    func badValue(_ bad: BadRow) throws {
        var row = CDRRow()
        bad.edit(&row)
        let line = row.line18()
        let reject = try #require(utcDecoder.decode(line: line, position: testPosition(7, offset: 700)).reject)
        #expect(reject.reason.hasPrefix(Self.prefix + bad.reason), "\(reject.reason)")
        #expect(reject.reason.hasSuffix("; if this is a cdr_custom file set asterisk.cdr_columns"))
        #expect(reject.raw == line)
        #expect(reject.position == testPosition(7, offset: 700))
    }

    @Test("a quoted sequence is rejected under newcdrcolumns")
    func quotedSequence() throws {
        let line = CDRRow().line([q("1772445600.1"), q(""), q(""), q("1772445600.1"), q("3")])
        let reject = try #require(utcDecoder.decode(line: line, position: testPosition()).reject)
        #expect(reject.reason.contains(#"column 21 (sequence) is "3" in quotes"#))
    }

    @Test("field counts Asterisk never writes are rejected", arguments: [1, 2, 15, 22, 30])
    func wrongFieldCount(count: Int) throws {
        let line = Array(Array(repeating: q("x"), count: count).joined(separator: ",").utf8)
        let reject = try #require(utcDecoder.decode(line: line, position: testPosition()).reject)
        #expect(reject.reason.hasPrefix("\(count) field"))
        #expect(reject.reason.contains("a cdr_csv row has 16 to 21"))
    }

    @Test("a long bad value is cut in the reason, but kept whole in the raw bytes")
    func longValueTruncated() throws {
        var row = CDRRow()
        let long = String(repeating: "WHY", count: 100)
        row.disposition = q(long)
        let line = row.line18()
        let reject = try #require(utcDecoder.decode(line: line, position: testPosition()).reject)
        #expect(reject.reason.contains("\"" + String(long.prefix(40)) + "…\""))
        #expect(!reject.reason.contains(long))
        #expect(reject.raw == line)
    }

    @Test("a broken quote is rejected with the scanner's reason")
    func brokenQuote() throws {
        let line = Array((CDRRow().fields.joined(separator: ",") + #","1772445600.1",""#).utf8)
        let reject = try #require(utcDecoder.decode(line: line, position: testPosition()).reject)
        #expect(reject.reason.hasPrefix("unterminated quoted field starting at column 18"))
    }

    @Test("blank lines are ignored, not rejected", arguments: ["", " ", "\t  ", "\r"])
    func blankLines(text: String) {
        #expect(utcDecoder.decode(line: Array(text.utf8), position: testPosition()).isIgnored)
    }

    @Test("a quote left open in the middle line rejects only that line", .tags(.fixture))
    func unterminatedMiddleLine() throws {
        let path = TestFiles.fixture("cdr_csv_unterminated_middle.csv")
        let records = try TestFiles.decode(path, with: utcDecoder.decode)
        try #require(records.count == 3)
        #expect(records[0].leg?.source == "1001")
        #expect(records[2].leg?.source == "1003")
        let reject = try #require(records[1].reject)
        #expect(reject.position.line == 2)
        #expect(reject.reason.hasPrefix("unterminated quoted field starting at column 16"))
        let fileLines = try Data(contentsOf: URL(fileURLWithPath: path)).split(
            separator: 10,
            omittingEmptySubsequences: false
        )
        #expect(reject.raw == Array(fileLines[1]))
        #expect(reject.position.offset == Int64(fileLines[0].count + 1))
    }
}

@Suite("AsteriskCDRDecoder: line endings, offsets and keys")
struct AsteriskCDRLineTests {
    @Test("CRLF lines and a last line without newline decode, with exact byte offsets")
    func crlfAndUnterminated() throws {
        let first = CDRRow().line18()
        var second = CDRRow()
        second.channel = q("PJSIP/1001-00000009")
        let secondLine = second.line18()
        let path = try TestFiles.temporaryFile(first + [13, 10] + secondLine, name: "Master.csv")
        defer { TestFiles.removeTemporaryFile(path) }
        let records = try TestFiles.decode(path, with: utcDecoder.decode)
        let legs = records.compactMap(\.leg)
        try #require(legs.count == 2)
        #expect(legs.map(\.position.line) == [1, 2])
        #expect(legs.map(\.position.offset) == [0, Int64(first.count + 2)])
        #expect(legs[1].channel == "PJSIP/1001-00000009")
        #expect(legs[0].key == EventKey.hashing("cdr", first), "the CR is not part of the record")
    }

    @Test("a rejected CRLF line keeps its bytes without the CR")
    func rejectRawWithoutCR() throws {
        let bad = Array(#""only","three","fields""#.utf8)
        let path = try TestFiles.temporaryFile(bad + [13, 10])
        defer { TestFiles.removeTemporaryFile(path) }
        let records = try TestFiles.decode(path, with: utcDecoder.decode)
        #expect(records.count == 1)
        #expect(records.first?.reject?.raw == bad)
    }

    @Test("offsets of the 21-column fixture match the file's bytes", .tags(.fixture))
    func offsetsMatchFile() throws {
        let path = TestFiles.fixture("cdr_csv_21_newcdrcolumns.csv")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let records = try TestFiles.decode(path, with: utcDecoder.decode)
        var expected: [Int64] = [0]
        for (index, byte) in bytes.enumerated() where byte == 10 && index + 1 < bytes.count {
            expected.append(Int64(index + 1))
        }
        #expect(records.compactMap(\.leg).map(\.position.offset) == expected)
    }

    @Test("the key depends on the line's bytes only: same row anywhere, same key")
    func keyIsContentHash() throws {
        let line = CDRRow().line18()
        let a = try #require(utcDecoder.decode(line: line, position: testPosition(1, offset: 0)).leg)
        let b = try #require(utcDecoder.decode(line: line + [13], position: testPosition(90, offset: 9000)).leg)
        var other = CDRRow()
        other.billsec = "59"
        let c = try #require(utcDecoder.decode(line: other.line18(), position: testPosition()).leg)
        #expect(a.key == b.key)
        #expect(a.key != c.key)
        #expect(a.key.rawValue.hasPrefix("cdr:"))
        #expect(b.position.line == 90)
    }

    @Test("a line inside a larger buffer decodes from its slice")
    func sliceInput() throws {
        let line = CDRRow().line18()
        let buffer = Array("garbage\n".utf8) + line + Array("\nmore".utf8)
        let leg = try #require(utcDecoder.decode(line: buffer[8..<(8 + line.count)], position: testPosition()).leg)
        #expect(leg.key == EventKey.hashing("cdr", line))
    }
}

@Suite("AsteriskCDRDecoder: cdr_custom layouts")
struct AsteriskCDRCustomTests {
    private let custom = AsteriskCDRDecoder(options: AsteriskOptions(cdrColumns: sampleCustomColumns), zone: .utc)

    @Test("quoted numbers, a quoted empty answer and fractional seconds are accepted")
    func lenientValues() throws {
        let fields = [
            q("\"\" <client1>"), q("client1"), q("6789"), q("default"), q("PJSIP/client1-00000002"),
            q("PJSIP/client2-00000003"), q("Dial"), q("PJSIP/client2"), q("2023-07-26 01:51:32"), q(""),
            q("2023-07-26 01:52:04"), q("31"), q("13.456"), q("NO ANSWER"), q("DOCUMENTATION"), q(""),
            q("1690325492.2"), q(""), "2",
        ]
        let leg = try #require(
            self.custom.decode(line: Array(fields.joined(separator: ",").utf8), position: testPosition()).leg
        )
        #expect(leg.answer == nil)
        #expect(leg.billsec == 13)
        #expect(leg.sequence == 2)
        #expect(leg.call == CallKey("1690325492.2"))
    }

    @Test("a row with another field count is rejected")
    func wrongCount() throws {
        let reject = try #require(self.custom.decode(line: CDRRow().line18(), position: testPosition()).reject)
        #expect(reject.reason.hasPrefix("18 fields, but asterisk.cdr_columns lists 19 columns"))
    }

    @Test("a bad value names the configured column")
    func badValue() throws {
        let decoder = AsteriskCDRDecoder(
            options: AsteriskOptions(cdrColumns: ["channel", "start", "end", "disposition"]),
            zone: .utc
        )
        let line = Array(#""PJSIP/1-1","2026-03-02 10:00:00","soon","ANSWERED""#.utf8)
        let reject = try #require(decoder.decode(line: line, position: testPosition()).reject)
        #expect(
            reject.reason
                == #"4 fields read with asterisk.cdr_columns, but column 3 (end) is "soon", not a timestamp (YYYY-MM-DD HH:MM:SS)"#
        )
    }

    @Test("unknown column names are skipped; billsec is derived when the layout has none")
    func minimalLayout() throws {
        let decoder = AsteriskCDRDecoder(
            options: AsteriskOptions(cdrColumns: ["start", "answer", "end", "disposition", "myvar"]),
            zone: .utc
        )
        let line = Array(#""2026-03-02 10:00:00","2026-03-02 10:00:10","2026-03-02 10:01:00","ANSWERED","x""#.utf8)
        let leg = try #require(decoder.decode(line: line, position: testPosition()).leg)
        #expect(leg.billsec == 50)
        #expect(leg.call == CallKey("chan:@\(tenOClock)"))
        #expect(leg.sequence == nil)
    }

    @Test("a layout without start, end or disposition rejects every row and says why")
    func missingRequiredColumn() throws {
        let decoder = AsteriskCDRDecoder(
            options: AsteriskOptions(cdrColumns: ["channel", "end", "disposition"]),
            zone: .utc
        )
        let reject = try #require(
            decoder.decode(line: Array(#""PJSIP/1-1","2026-03-02 10:00:00","ANSWERED""#.utf8), position: testPosition())
                .reject
        )
        #expect(reject.reason == "asterisk.cdr_columns has no start column; every row needs one")
    }

    @Test("problems(inColumns:) reports typos, duplicates and missing required columns")
    func columnProblems() {
        #expect(AsteriskCDRDecoder.problems(inColumns: sampleCustomColumns).isEmpty)
        let problems = AsteriskCDRDecoder.problems(inColumns: ["strat", "end", "end", "disposition"])
        #expect(problems.count == 3)
        #expect(problems.contains { $0.hasPrefix("column 1 \"strat\" is not a CDR field name") })
        #expect(problems.contains("column 3 \"end\" is listed twice"))
        #expect(problems.contains("the list has no start column; it is required"))
    }
}

@Suite("AsteriskCDRDecoder: the real files in shared/corpus/asterisk-csv", .tags(.corpus))
struct AsteriskCDRCorpusTests {
    static let malformed = "testsuite_cdrlib_buggy_MALFORMED.csv"
    static let topLevelFiles = TestFiles.corpusFiles(in: "asterisk-csv")

    @Test("the corpus folder holds the four cdr_csv files SOURCES.md lists")
    func corpusPresent() {
        #expect(
            Self.topLevelFiles == [
                "bugadm_telephonyswitching_Master.csv", Self.malformed, "testsuite_cdrlib_good.csv",
                "testsuite_self_test_Master.csv",
            ]
        )
    }

    @Test("every top-level file parses completely; only the MALFORMED one has its one reject", arguments: topLevelFiles)
    func topLevelFile(name: String) throws {
        let records = try TestFiles.decode(TestFiles.corpus("asterisk-csv/\(name)"), with: utcDecoder.decode)
        let rejects = records.compactMap(\.reject)
        if name == Self.malformed {
            try #require(rejects.count == 1)
            #expect(rejects[0].position.line == 1)
            #expect(rejects[0].reason.hasPrefix("unterminated quoted field starting at column 18"))
            let bytes = try Data(contentsOf: TestFiles.corpus.appendingPathComponent("asterisk-csv/\(name)"))
            #expect(rejects[0].raw == Array(bytes.dropLast()), "the raw bytes are the whole line")
            #expect(records.count == 1)
        } else {
            #expect(rejects.isEmpty, "\(rejects.map(\.reason))")
            #expect(!records.isEmpty)
            #expect(records.allSatisfy { $0.leg != nil })
        }
    }

    @Test("testsuite good.csv: doubled-quote clid, all four dispositions, billsec > duration kept as written")
    func goodFile() throws {
        let legs = try TestFiles.decode(
            TestFiles.corpus("asterisk-csv/testsuite_cdrlib_good.csv"),
            with: utcDecoder.decode
        )
        .compactMap(\.leg)
        try #require(legs.count == 5)
        #expect(legs.map(\.disposition) == [.answered, .answered, .failed, .noAnswer, .busy])
        #expect(legs.map(\.billsec) == [5, 7, 0, 0, 0])
        #expect(legs.allSatisfy { $0.callerName == "Test User" && $0.source == "test" })
        #expect(legs.allSatisfy { $0.call == CallKey("1231977075.0") })
        #expect(legs[0].start == (try Timestamp.utc("2009-01-14T23:51:15Z")))
    }

    @Test("BugaDM Master.csv: 105 rows, name-only clid, unanswered rows, BUSY with answer time")
    func bugadmFile() throws {
        let legs = try TestFiles.decode(
            TestFiles.corpus("asterisk-csv/bugadm_telephonyswitching_Master.csv"),
            with: utcDecoder.decode
        ).compactMap(\.leg)
        try #require(legs.count == 105)
        #expect(legs.filter { $0.disposition == .answered }.count == 94)
        #expect(legs.filter { $0.disposition == .noAnswer }.count == 7)
        #expect(legs.filter { $0.answer == nil }.count == 6)
        let playback = try #require(legs.first { $0.position.line == 59 })
        #expect(playback.callerName == "apptel")
        #expect(playback.source == "")
        #expect(playback.application == "Playback")
        let busy = try #require(legs.first { $0.position.line == 74 })
        #expect(busy.disposition == .busy)
        #expect(busy.answer != nil)
        #expect(busy.billsec == 27)
    }

    @Test("the cdr_custom file is rejected row by row under cdr_csv, never mis-read")
    func customFileUnderCDRCSV() throws {
        let records = try TestFiles.decode(
            TestFiles.corpus("asterisk-csv/cdr_custom/kelysaina_cdr_custom_Master.csv"),
            with: utcDecoder.decode
        )
        #expect(records.count == 14)
        let rejects = records.compactMap(\.reject)
        #expect(rejects.count == 14)
        #expect(
            rejects.first?.reason
                == #"19 fields read as cdr_csv with newcdrcolumns, but column 12 (end) is "31", not a timestamp (YYYY-MM-DD HH:MM:SS); if this is a cdr_custom file set asterisk.cdr_columns"#
        )
        #expect(rejects.allSatisfy { $0.reason.hasSuffix("if this is a cdr_custom file set asterisk.cdr_columns") })
    }

    @Test("the cdr_custom file parses fully with the sample template's columns")
    func customFileWithColumns() throws {
        let decoder = AsteriskCDRDecoder(options: AsteriskOptions(cdrColumns: sampleCustomColumns), zone: .utc)
        let records = try TestFiles.decode(
            TestFiles.corpus("asterisk-csv/cdr_custom/kelysaina_cdr_custom_Master.csv"),
            with: decoder.decode
        )
        let legs = records.compactMap(\.leg)
        #expect(legs.count == 14)
        #expect(records.count == 14)
        let first = try #require(legs.first)
        #expect(first.callerName == "")
        #expect(first.source == "client1")
        #expect(first.destination == "6789")
        #expect(first.context == "default")
        #expect(first.channel == "PJSIP/client1-00000002")
        #expect(first.peerChannel == "PJSIP/client2-00000003")
        #expect(first.application == "Dial")
        #expect(first.applicationData == "PJSIP/client2")
        #expect(first.start == (try Timestamp.utc("2023-07-26T01:51:32Z")))
        #expect(first.answer == (try Timestamp.utc("2023-07-26T01:51:50Z")))
        #expect(first.end == (try Timestamp.utc("2023-07-26T01:52:04Z")))
        #expect(first.billsec == 13)
        #expect(first.disposition == .answered)
        #expect(first.uniqueID == "1690325492.2")
        #expect(first.call == CallKey("1690325492.2"))
        #expect(first.sequence == 2)
        let second = try #require(legs.dropFirst().first)
        #expect(second.answer == nil)
        #expect(second.disposition == .noAnswer)
    }
}

extension Tag {
    /// Reads the real exports in `../shared/corpus`.
    @Tag static var corpus: Self
    /// Reads a hand-written file in `Fixtures/`.
    @Tag static var fixture: Self
}
