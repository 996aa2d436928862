import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

/// Decodes a whole file the way the ingest pipeline does: one stateful decoder per file.
private func decodeFile(_ path: String) throws -> [IngestRecord] {
    let file = KamailioAccFileDecoder()
    return try TestFiles.decode(path, with: file.decode)
}

/// Decodes lines given as text, header first, with one decoder.
private func decodeLines(_ lines: [String]) -> [IngestRecord] {
    let file = KamailioAccFileDecoder()
    return lines.enumerated().map { index, line in
        file.decode(line: Array(line.utf8)[...], position: testPosition(index + 1))
    }
}

private let accHeader =
    "id(int,auto) method(string) from_tag(string,null) to_tag(string,null) callid(string)"
    + " sip_code(string) sip_reason(string,null) time(int) ts_sec(int,null) ts_usec(int,null)"
    + " src_user(string,null) src_ip(string,null) dst_ouser(string,null) dst_user(string,null) agent(string,null)"
private let cdrHeader =
    "id(int,auto) start_time(int,null) end_time(int,null) duration(double,null)"
    + " callid(string,null) caller(string,null) callee(string,null) agent(string,null) sip_code(string,null)"
    + " sip_reason(string,null) answer_ts(string,null)"

extension IngestRecord {
    var sip: SIPRecord? {
        if case .record(.sip(let sip)) = self { return sip }
        return nil
    }
}

@Suite("KamailioAccDecoder: acc, missed_calls and acc_cdrs from db_text and db_flatstore")
struct KamailioAccDecoderTests {
    // MARK: Real db_text output (scripts/sip-e2e.sh)

    @Test("db_text acc: header ignored, INVITE 200 and BYE rows with escaped colons and empty fields")
    func dbTextAcc() throws {
        let records = try decodeFile(TestFiles.fixture("kamailio/dbtext/acc"))
        #expect(records.count == 7)
        #expect(records.first?.isIgnored == true)
        #expect(records.allSatisfy { $0.reject == nil }, "\(records.compactMap(\.reject).map(\.reason))")
        let rows = records.compactMap(\.sip)
        #expect(rows.count == 6)
        // Newest first, as db_text writes them: the round-2 callback's BYE (id 24) leads.
        #expect(rows.map(\.method) == ["BYE", "INVITE", "BYE", "BYE", "INVITE", "INVITE"])

        // id 2: the INVITE answered by 1001; the agent column is `sip\:127.0.0.1\:5081`.
        let invite = try #require(rows.first { $0.call.rawValue == "1-13828@127.0.0.1" && $0.method == "INVITE" })
        #expect(invite.kind == .transaction)
        #expect(invite.code == 200)
        #expect(invite.reason == "OK")
        #expect(invite.fromTag == "13828SIPpTag001")
        #expect(invite.toTag == "13815SIPpTag011")
        #expect(invite.caller == "5550101")
        #expect(invite.dialled == "1001")
        #expect(invite.target == "1001")
        #expect(invite.agent == "sip:127.0.0.1:5081")
        #expect(invite.time == Timestamp(seconds: 1_795_938_536))
        #expect(invite.start == nil)
        #expect(invite.answer == nil)
        #expect(invite.position.line == 6)

        // id 11: the customer's BYE: the Request-URI user is the agent's Contact user, agent empty.
        let bye = try #require(rows.first { $0.call.rawValue == "1-13828@127.0.0.1" && $0.method == "BYE" })
        #expect(bye.caller == "5550101")
        #expect(bye.target == "agent")
        #expect(bye.agent == "")
        #expect(bye.time == Timestamp(seconds: 1_795_938_539))

        // id 9: the agent (1005) hung up: the BYE's From user is the agent.
        let agentBye = try #require(rows.first { $0.call.rawValue == "1-13829@127.0.0.1" && $0.method == "BYE" })
        #expect(agentBye.caller == "1005")
        #expect(agentBye.dialled == "5550501")

        // id 17: agent 1002 calling a customer back.
        let callback = try #require(rows.first { $0.call.rawValue == "1-14257@127.0.0.1" && $0.method == "INVITE" })
        #expect(callback.caller == "1002")
        #expect(callback.dialled == "5550201")
        #expect(callback.agent == "sip:127.0.0.1:5091")
        #expect(Set(rows.map(\.key)).count == 6)
    }

    @Test("db_text missed_calls: 486 busy, 487 cancelled, 408 timeout with the routed user")
    func dbTextMissedCalls() throws {
        let records = try decodeFile(TestFiles.fixture("kamailio/dbtext/missed_calls"))
        #expect(records.count == 4)
        let rows = records.compactMap(\.sip)
        #expect(rows.map(\.code) == [408, 487, 486])
        #expect(rows.map(\.reason) == ["Request Timeout", "Request Terminated", "Busy Here"])
        #expect(rows.map(\.caller) == ["5550401", "5550301", "5550201"])
        // The hotline call: dialled 96116, routed to 1004 (dst_ouser vs dst_user).
        #expect(rows.map(\.dialled) == ["96116", "1003", "1002"])
        #expect(rows.map(\.target) == ["1004", "1003", "1002"])
        #expect(rows[0].toTag == "25483a2a9fa04090c2dd4f1854d1ed2b-1843f467")
        #expect(rows[0].time == Timestamp(seconds: 1_795_938_541))
        #expect(rows.allSatisfy { $0.method == "INVITE" && $0.agent.hasPrefix("sip:127.0.0.1:50") })
    }

    @Test("db_text acc_cdrs: one dialog per call; empty answer_ts on failed calls")
    func dbTextCDRs() throws {
        let records = try decodeFile(TestFiles.fixture("kamailio/dbtext/acc_cdrs"))
        #expect(records.count == 7)
        let rows = records.compactMap(\.sip)
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.kind == .dialog && $0.method.isEmpty })
        let answered = try #require(rows.first { $0.call.rawValue == "1-13828@127.0.0.1" })
        #expect(answered.start == Timestamp(seconds: 1_795_938_535))
        #expect(answered.time == Timestamp(seconds: 1_795_938_539))
        #expect(answered.answer == Timestamp(seconds: 1_795_938_536))
        #expect(answered.caller == "5550101")
        #expect(answered.dialled == "1001")
        #expect(answered.agent == "sip:127.0.0.1:5081")
        #expect(answered.code == 200)
        let busy = try #require(rows.first { $0.call.rawValue == "1-13830@127.0.0.1" })
        #expect(busy.start == busy.time)
        #expect(busy.answer == nil)
        #expect(busy.code == 486)
        #expect(busy.reason == "Busy Here")
        let hotline = try #require(rows.first { $0.call.rawValue == "1-13832@127.0.0.1" })
        #expect(hotline.dialled == "96116")
        #expect(hotline.code == 408)
    }

    @Test("db_text version table: recognised, its rows ignored")
    func versionTable() throws {
        let records = try decodeFile(TestFiles.fixture("kamailio/dbtext/version"))
        #expect(records.count == 5)
        #expect(records.allSatisfy { $0.isIgnored })
    }

    // MARK: Real db_flatstore output

    @Test("db_flatstore rows: transactions (14 fields) and CDRs (10 fields) without a header")
    func flatstore() throws {
        let acc = try decodeFile(TestFiles.fixture("kamailio/flatstore/acc.log")).compactMap(\.sip)
        #expect(acc.map(\.method) == ["INVITE", "INVITE", "BYE"])
        #expect(acc[0].call.rawValue == "1-14623@127.0.0.1")
        #expect(acc[0].agent == "sip:127.0.0.1:5081")
        #expect(acc[0].time == Timestamp(seconds: 1_795_938_558))
        #expect(acc[2].target == "agent")
        #expect(acc[2].agent == "")

        let missed = try decodeFile(TestFiles.fixture("kamailio/flatstore/missed_calls.log")).compactMap(\.sip)
        #expect(missed.map(\.code) == [408, 486])
        #expect(missed.map(\.dialled) == ["96116", "1002"])

        let cdrs = try decodeFile(TestFiles.fixture("kamailio/flatstore/acc_cdrs.log"))
        #expect(cdrs.allSatisfy { $0.reject == nil }, "\(cdrs.compactMap(\.reject).map(\.reason))")
        let dialogs = cdrs.compactMap(\.sip)
        #expect(dialogs.map(\.code) == [408, 486, 200])
        #expect(dialogs[2].start == Timestamp(seconds: 1_795_938_557))
        #expect(dialogs[2].time == Timestamp(seconds: 1_795_938_561))
        #expect(dialogs[2].answer == Timestamp(seconds: 1_795_938_558))
        #expect(dialogs[0].answer == nil)
    }

    @Test("the same transaction in db_text and flatstore gets different keys (the bytes differ)")
    func keysDependOnBytes() throws {
        let first = decodeLines([accHeader, "2:INVITE:a:b:c@h:200:OK:100:100:5:5550101:127.0.0.1:1001:1001:"])
        let again = decodeLines([accHeader, "2:INVITE:a:b:c@h:200:OK:100:100:5:5550101:127.0.0.1:1001:1001:"])
        let flat = decodeLines(["INVITE|a|b|c@h|200|OK|100|100|5|5550101|127.0.0.1|1001|1001|"])
        #expect(first[1].sip?.key == again[1].sip?.key)
        #expect(first[1].sip?.key != flat[0].sip?.key)
        #expect(flat[0].sip?.call == first[1].sip?.call)
    }

    // MARK: Corpus (header-only tables)

    @Test("corpus kamailio-acc: header-only tables parse with no records and no rejects", .tags(.corpus))
    func corpus() throws {
        let files = TestFiles.corpusFiles(in: "kamailio-acc")
        #expect(files == ["kamailio_dbtext_acc.txt", "kamailio_dbtext_acc_cdrs.txt", "ser_dbtext_acc.txt"])
        for name in files {
            let records = try decodeFile(TestFiles.corpus("kamailio-acc/\(name)"))
            #expect(records.count == 1, "\(name)")
            #expect(records.allSatisfy { $0.isIgnored }, "\(name): \(records)")
        }
        // The headers themselves, as the detector and decoder read them.
        let stock = try #require(
            KamailioAccDecoder.header(
                Array(
                    "id(int,auto) method(string) from_tag(string) to_tag(string) callid(string) sip_code(string) sip_reason(string) time(int) "
                        .utf8)[...]))
        #expect(stock.kind == .transaction)
        #expect(stock.names == ["id", "method", "from_tag", "to_tag", "callid", "sip_code", "sip_reason", "time"])
        let ser = try #require(
            KamailioAccDecoder.header(
                Array(
                    try String(contentsOfFile: TestFiles.corpus("kamailio-acc/ser_dbtext_acc.txt"), encoding: .utf8)
                        .utf8)[...]))
        #expect(ser.kind == .transaction)  // sip_method
        #expect(ser.index[.callID] == 14)  // sip_callid
        #expect(ser.index[.code] == 8)  // sip_status
    }

    // MARK: Escapes, NULLs and malformed rows

    @Test("db_text escapes: \\: \\\\ \\n \\t \\r \\0 are undone; empty fields are empty")
    func escapes() throws {
        let records = decodeLines([
            accHeader,
            #"7:INVITE:ft:tt:x\:y@h:486:Busy\tHere\\now\nline\r\0:1795931558:::caller\:1::1002::sip\:1002@pbx\;transport=udp"#,
        ])
        #expect(records[1].reject?.reason == #"field 15 has the escape \;; db_text escapes only \n \r \t \\ \: \0"#)
        let good = decodeLines([
            accHeader,
            #"7:INVITE:ft:tt:x\:y@h:486:Busy\tHere\\now\nline\r\0:1795931558:::caller\:1::1002::sip\:1002@pbx"#,
        ])
        let row = try #require(good[1].sip)
        #expect(row.call.rawValue == "x:y@h")
        #expect(row.reason == "Busy\tHere\\now\nline\r\0")
        #expect(row.caller == "caller:1")
        #expect(row.dialled == "1002")
        #expect(row.target == "")
        #expect(row.agent == "sip:1002@pbx")
        #expect(row.time == Timestamp(seconds: 1_795_931_558))
    }

    struct RejectCase: CustomTestStringConvertible, Sendable {
        var name: String
        var lines: [String]
        var reason: String
        var testDescription: String { self.name }
    }

    @Test(
        "malformed rows are rejected with a reason and their bytes",
        arguments: [
            RejectCase(
                name: "too few fields", lines: [accHeader, "1:INVITE:a:b:c@h:200:OK:1795931558"],
                // The header is not quoted: a 100,000-column header would be stored once per row.
                reason: "8 :-separated fields, but the db_text header has 15 columns"),
            RejectCase(
                name: "cut-off escape", lines: [accHeader, #"1:INVITE:a:b:c@h:200:OK:1795931558:::::::x\"#],
                reason: "the row ends in a lone backslash (a cut-off escape)"),
            RejectCase(
                name: "empty Call-ID", lines: [accHeader, "1:INVITE:a:b::200:OK:1795931558:::::::"],
                reason: "column 5 (callid) is empty"),
            RejectCase(
                name: "code not a SIP status", lines: [accHeader, "1:INVITE:a:b:c@h:OK:OK:1795931558:::::::"],
                reason: "column 6 (sip_code) is \"OK\", not a SIP status code"),
            RejectCase(
                name: "time not epoch seconds",
                lines: [accHeader, "1:INVITE:a:b:c@h:200:OK:2026-11-29 10\\:00\\:00:::::::"],
                reason: "column 8 (time) is \"2026-11-29 10:00:00\", not epoch seconds"),
            RejectCase(
                name: "stock acc_cdrs has no callid",
                lines: [
                    "id(int,auto) start_time(int) end_time(int) duration(double) ", "1:1795931558:1795931562:4.01",
                ],
                reason: "the acc_cdrs table has no callid column; calls are grouped by SIP Call-ID: add"
                    + " callid=$dlg(callid) to acc's cdr_extra (dialplans/kamailio)"),
            RejectCase(
                name: "CDR ends before it starts",
                lines: [cdrHeader, "1:1795931562:1795931558:0.00:c@h:5550101:1001::486:Busy Here:"],
                reason: "column 3 (end_time) 1795931558 is before column 2 (start_time) 1795931562"),
            RejectCase(
                name: "not an accounting table",
                lines: ["id(int,auto) username(string) domain(string)", "1:1001:pbx"],
                reason: "a db_text table with columns id, username, domain is not a Kamailio accounting table (acc and"
                    + " missed_calls have method, acc_cdrs has start_time)"),
            RejectCase(
                name: "flatstore row of an unknown layout", lines: ["INVITE|a|b|c@h|200|OK"],
                reason: "6 |-separated fields; a db_flatstore row of the dialplans/kamailio layout has 14 (acc,"
                    + " missed_calls: method first), 7 (stock acc) or 10 (acc_cdrs: start_time first)"),
            RejectCase(
                name: "no header and no bars", lines: ["hello world"],
                reason: "neither a db_text header (name(type) …) before it nor a db_flatstore row (|-separated):"
                    + " not a Kamailio accounting row"),
        ]
    )
    func rejects(_ example: RejectCase) throws {
        let records = decodeLines(example.lines)
        let last = try #require(records.last)
        let reject = try #require(last.reject, "\(last)")
        #expect(reject.reason == example.reason)
        #expect(reject.raw == Array(try #require(example.lines.last).utf8))
        #expect(reject.position.line == example.lines.count)
    }

    @Test("flatstore: stock 7-field rows and %7C (encode_delimiter) read as |")
    func flatstoreVariants() throws {
        let records = decodeLines([
            "INVITE|ft|tt|c@h|486|Busy %7C Here|1795931558",
            "1795931558|1795931562|4.010000|c@h|5550101|1001|sip:1001@pbx|200|OK|1795931559.152472",
        ])
        let stock = try #require(records[0].sip)
        #expect(stock.reason == "Busy | Here")
        #expect(stock.code == 486)
        #expect(stock.caller == "")
        let cdr = try #require(records[1].sip)
        #expect(cdr.answer == Timestamp(seconds: 1_795_931_559))
        #expect(cdr.agent == "sip:1001@pbx")
    }

    @Test("a header further down (tables concatenated) replaces the one before")
    func concatenatedTables() throws {
        let records = decodeLines([
            accHeader, "1:INVITE:a:b:c@h:486:Busy Here:1795931558:1795931558:0:5550201:127.0.0.1:1002:1002:",
            cdrHeader, "1:1795931558:1795931558:0.00:c@h:5550201:1002:sip\\:1002@pbx:486:Busy Here:",
        ])
        #expect(records.map(\.isIgnored) == [true, false, true, false])
        #expect(records.compactMap(\.sip).map(\.kind) == [.transaction, .dialog])
    }

    // MARK: Detection

    @Test("the detector recognises db_text headers and flatstore rows as kamailio-acc")
    func detection() throws {
        for path in [
            "kamailio/dbtext/acc", "kamailio/dbtext/acc_cdrs", "kamailio/dbtext/version",
            "kamailio/flatstore/acc.log", "kamailio/flatstore/acc_cdrs.log", "kamailio/flatstore/missed_calls.log",
        ] {
            let head = Array(try Data(contentsOf: URL(fileURLWithPath: TestFiles.fixture(path))))
            #expect(InputFormatDetector.detect(path: path, head: head) == .kamailioAcc, "\(path)")
        }
        for name in TestFiles.corpusFiles(in: "kamailio-acc") {
            let head = Array(try Data(contentsOf: URL(fileURLWithPath: TestFiles.corpus("kamailio-acc/\(name)"))))
            #expect(InputFormatDetector.detect(path: name, head: head) == .kamailioAcc, "\(name)")
        }
        // queue_log still wins for its own lines.
        let queueLog = Array("1772413201|1772413200.1|hotline|NONE|ENTERQUEUE||13900000001|1\n".utf8)
        #expect(InputFormatDetector.detect(path: "queue_log", head: queueLog) == .asteriskQueueLog)
    }
}
