import Foundation
import Testing

@testable import FirstContactCore
@testable import FirstContactIngest

extension IngestRecord {
    var cel: CELRecord? {
        if case .record(.cel(let cel)) = self { return cel }
        return nil
    }
}

private let shanghai = ZoneRules.fixed(identifier: "Asia/Shanghai", offset: 28_800)
private let decoder = AsteriskCELDecoder(options: AsteriskOptions(), zone: shanghai)

private func position(_ line: Int = 1) -> SourcePosition {
    SourcePosition(source: "cel-custom/Master.csv", line: line, offset: Int64(line * 100))
}

private func decode(_ line: String, with decoder: AsteriskCELDecoder = decoder) -> IngestRecord {
    decoder.decode(line: Array(line.utf8), position: position())
}

@Suite("AsteriskCELDecoder: cel_custom Master.csv rows")
struct AsteriskCELDecoderTests {
    @Test(
        "pre-12 file (the testsuite's shape): BRIDGE_START/END as bridge enter/exit, HANGUP extra as cause,source,dialstatus"
    )
    func pre12() throws {
        let records = try TestFiles.decode(TestFiles.fixture("asterisk-cel/pre12_local_dial.csv"), with: decoder.decode)
        #expect(records.allSatisfy { $0.cel != nil })
        let rows = records.compactMap(\.cel)
        #expect(rows.count == 9)
        #expect(Set(rows.map(\.call)) == [CallKey("1764120000.10")])
        let first = rows[0]
        #expect(first.event == .channelStart)
        #expect(first.time == Timestamp(seconds: 1_764_120_000))
        #expect(first.microseconds == 100_200)
        #expect(first.channel == "SIP/trunk-00000001")
        #expect(first.uniqueID == "1764120000.10")
        #expect(rows[4].event == .bridgeEnter)
        #expect(rows[4].peer == "Local/1001@agents-00a1;1")
        #expect(rows[5].event == .bridgeExit)
        #expect(rows[6].extra.hangupCause == 16)
        #expect(rows[6].extra.dialStatus == "")
        #expect(rows[7].extra.dialStatus == "ANSWER")
        #expect(rows[8].event == .linkedIDEnd)
        #expect(rows[3].application == "Dial")
        #expect(rows[3].applicationData == "Local/1001@agents")
    }

    @Test("Asterisk 12+ file: JSON extra gives the hangup cause, bridge id and both transfers' targets")
    func asterisk13() throws {
        let records = try TestFiles.decode(
            TestFiles.fixture("asterisk-cel/asterisk13_queue_transfer.csv"), with: decoder.decode)
        #expect(records.compactMap(\.reject).isEmpty)
        let rows = records.compactMap(\.cel)
        try #require(rows.count == 6)
        #expect(rows[0].callerName == "张三")
        #expect(rows[0].callerNumber == "13812345678")
        #expect(rows[0].exten == "96116")
        #expect(rows[1].event == .appStart)
        #expect(rows[1].applicationData == "hotline,t,,,300")
        #expect(rows[2].extra.hangupCause == 26)
        #expect(rows[3].extra.bridgeID == "6f1a-b1")
        #expect(rows[4].event == .blindTransfer)
        #expect(rows[4].extra.transferExtension == "billing")
        #expect(rows[4].extra.transferContext == "from-internal")
        #expect(rows[4].extra.transfereeChannel == "PJSIP/trunk-0000002a")
        #expect(rows[5].event == .attendedTransfer)
        #expect(rows[5].extra.transferTargetChannel == "PJSIP/1021-0000002e")
        #expect(rows[5].extra.bridgeID == "6f1a-b1")
        #expect(Set(rows.map(\.call)) == [CallKey("1764120300.42")])
    }

    @Test("a dateformat time (%F %T) is read in the PBX's zone; a fraction after it is kept as microseconds")
    func dateformat() throws {
        let row = try #require(
            decode(
                #""ANSWER","2026-11-26 10:00:01","","1001","","","","1001","from-internal","PJSIP/1001-0001","","","3","","1.2","1.1","","","","""#
            ).cel)
        #expect(row.time == shanghai.instant(try #require(LocalDateTime(bytes: Array("2026-11-26 10:00:01".utf8)))))
        #expect(row.microseconds == 0)
        let fraction = try #require(
            decode(
                #""ANSWER","2026-11-26 10:00:01.25","","1001","","","","1001","from-internal","PJSIP/1001-0001","","","3","","1.2","1.1","","","","""#
            ).cel)
        #expect(fraction.microseconds == 250_000)
    }

    @Test("asterisk.cel_columns reads another cel_custom template; a row of another width is a reject naming it")
    func customMapping() throws {
        let custom = AsteriskCELDecoder(
            options: AsteriskOptions(celColumns: [
                "eventtime", "eventtype", "channame", "uniqueid", "linkedid", "extra",
            ]),
            zone: .utc)
        let row = try #require(
            decode(#""1764120000.5","HANGUP","PJSIP/1001-01","1.2","1.1","{""hangupcause"":17}""#, with: custom).cel)
        #expect(row.event == .hangup)
        #expect(row.extra.hangupCause == 17)
        #expect(row.call == CallKey("1.1"))
        let reject = try #require(decode(#""1764120000.5","HANGUP""#, with: custom).reject)
        #expect(reject.reason.contains("asterisk.cel_columns has 6 columns"))
        #expect(AsteriskCELDecoder.problems(inColumns: ["eventtype", "eventtime", "chan"]).count == 4)
    }

    @Test("rows that cannot be read are rejects naming the column: a bad time, broken JSON, the wrong width")
    func rejects() throws {
        let badTime = try #require(
            decode(#""ANSWER","yesterday","","","","","","","","PJSIP/1-1","","","3","","1.2","1.1","","","","""#)
                .reject)
        #expect(badTime.reason.hasPrefix("column 2 (eventtime) is \"yesterday\""))
        let badJSON = try #require(
            decode(
                #""HANGUP","1.5","","","","","","","","PJSIP/1-1","","","3","","1.2","1.1","","","","{""hangupcause"":""#
            )
            .reject)
        #expect(badJSON.reason.hasPrefix("column 20 (extra) starts like JSON"))
        let short = try #require(decode(#""ANSWER","1.5""#).reject)
        #expect(short.reason.contains("2 fields"))
        #expect(decode("").isIgnored)
    }

    @Test("the same row read twice has the same key; another row has another")
    func keys() throws {
        let line = #""ANSWER","1764120000.5","","","","","","","","PJSIP/1-1","","","3","","1.2","1.1","","","","""#
        let a = try #require(decode(line).cel)
        let b = try #require(decoder.decode(line: Array(line.utf8), position: position(9)).cel)
        #expect(a.key == b.key)
        let other = try #require(decode(line.replacingOccurrences(of: "ANSWER", with: "HANGUP")).cel)
        #expect(other.key != a.key)
    }
}

@Suite("AsteriskCELDecoder: the real files in shared/corpus/asterisk-cel", .tags(.corpus))
struct AsteriskCELCorpusTests {
    static let files = TestFiles.corpusFiles(in: "asterisk-cel")

    @Test("the corpus folder holds the two cel_custom files")
    func present() {
        #expect(Self.files == ["testsuite_CELMaster1.csv", "testsuite_CELMaster2.csv"])
    }

    @Test("every row of each file is read, none rejected; each file is one linkedid", arguments: files)
    func readsWhole(name: String) throws {
        let records = try TestFiles.decode(TestFiles.corpus("asterisk-cel/\(name)"), with: decoder.decode)
        #expect(!records.isEmpty)
        #expect(records.compactMap(\.reject).isEmpty)
        let rows = records.compactMap(\.cel)
        #expect(rows.count == records.count)
        #expect(Set(rows.map(\.call)).count == 1)
        #expect(rows.last?.event == .linkedIDEnd)
        #expect(rows.contains { $0.event == .hangup && $0.extra.hangupCause == 16 })
    }
}
