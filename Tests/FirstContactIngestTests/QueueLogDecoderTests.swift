import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

private let decoder = QueueLogDecoder()

private func decode(_ text: String) -> IngestRecord {
    decoder.decode(line: Array(text.utf8), position: testPosition())
}

@Suite("QueueLogDecoder: queue_log lines")
struct QueueLogDecoderTests {
    struct EventCase: CustomTestStringConvertible, Sendable {
        var line: String
        var event: QueueEvent
        var testDescription: String { self.line }
    }

    @Test(
        "each call event maps to the queue event it means",
        arguments: [
            EventCase(
                line: "1772413201|1772413200.1|hotline|NONE|ENTERQUEUE||13900000001|1",
                event: .entered(callerNumber: "13900000001")
            ),
            EventCase(line: "1772413201|1772413200.1|hotline|NONE|ENTERQUEUE||", event: .entered(callerNumber: "")),
            EventCase(line: "1772413201|1772413200.1|hotline|NONE|ENTERQUEUE", event: .entered(callerNumber: "")),
            EventCase(
                line: "1772413215|1772413200.1|hotline|PJSIP/8001|CONNECT|14|1772413206.2|9",
                event: .connected(holdSeconds: 14, memberUniqueID: "1772413206.2")
            ),
            EventCase(line: "1772413206|1772413200.1|hotline|PJSIP/8002|RINGNOANSWER|5000", event: .ringNoAnswer),
            EventCase(line: "1772413530|1772413500.7|hotline|NONE|ABANDON|1|1|30", event: .abandoned(waitSeconds: 30)),
            EventCase(
                line: "1772413530|1772413500.7|hotline|NONE|EXITWITHTIMEOUT|2|1|300",
                event: .exited(reason: "EXITWITHTIMEOUT", waitSeconds: 300)
            ),
            EventCase(
                line: "1772413530|1772413500.7|hotline|NONE|EXITEMPTY|1|1|0",
                event: .exited(reason: "EXITEMPTY", waitSeconds: 0)
            ),
            EventCase(
                line: "1772413530|1772413500.7|hotline|NONE|EXITWITHKEY|5|1|1|42",
                event: .exited(reason: "EXITWITHKEY", waitSeconds: 42)
            ),
            EventCase(
                line: "1772413530|1772413500.7|hotline|NONE|WITHDRAW|1|1|17|customer called back",
                event: .exited(reason: "WITHDRAW", waitSeconds: 17)
            ),
            EventCase(line: "1772413400|1772413200.1|hotline|PJSIP/8001|COMPLETECALLER|14|185|1", event: .completed),
            EventCase(line: "1772413400|1772413200.1|hotline|PJSIP/8001|COMPLETEAGENT|14|185|1", event: .completed),
            EventCase(
                line: "1772413400|1772413200.1|hotline|PJSIP/8001|BLINDTRANSFER|8100|billing|14|60|1",
                event: .transferred(extension: "8100", context: "billing")
            ),
            EventCase(
                line: "1772413400|1772413200.1|hotline|Agent/8001|TRANSFER|8100|billing|14|60",
                event: .transferred(extension: "8100", context: "billing")
            ),
            EventCase(
                line: "1772413400|1772413200.1|hotline|PJSIP/8001|ATTENDEDTRANSFER|BRIDGE|4f5c-bridge|14|60|1",
                event: .transferred(extension: "", context: "BRIDGE")
            ),
            EventCase(
                line:
                    "1772413400|1772413200.1|hotline|PJSIP/8001|ATTENDEDTRANSFER|LINK|PJSIP/8001-00000007|PJSIP/8100-00000008|14|60|1",
                event: .transferred(extension: "", context: "LINK")
            ),
            EventCase(
                line: "1772413210|1772413200.1|hotline|PJSIP/8001|RINGCANCELED|800",
                event: .other(name: "RINGCANCELED")
            ),
            EventCase(line: "1772413210|1772413200.1|hotline|PJSIP/8001|AGENTDUMP", event: .other(name: "AGENTDUMP")),
            EventCase(line: "1772413202|1772413200.1|hotline|NONE|DID|96116", event: .other(name: "DID")),
        ]
    )
    func events(_ testCase: EventCase) throws {
        let record = try #require(decode(testCase.line).queue, "\(decode(testCase.line))")
        #expect(record.event == testCase.event)
    }

    @Test("call, time, queue, agent and key come from the fixed columns")
    func fixedColumns() throws {
        let line = "1772413215|1772413200.1|hotline|PJSIP/8001|CONNECT|14|1772413206.2|9"
        let record = try #require(decode(line).queue)
        #expect(record.call == CallKey("1772413200.1"))
        #expect(record.time == Timestamp(seconds: 1_772_413_215))
        #expect(record.queue == "hotline")
        #expect(record.agent == "PJSIP/8001")
        #expect(record.key == EventKey.hashing("qlog", Array(line.utf8)))
        #expect(record.position == testPosition())
    }

    @Test("agent NONE becomes empty")
    func agentNone() throws {
        let record = try #require(decode("1772413201|1772413200.1|hotline|NONE|ENTERQUEUE||13900000001|1").queue)
        #expect(record.agent == "")
    }

    @Test(
        "lines that are not about a caller are ignored",
        arguments: [
            "1767569446|NONE|NONE|NONE|QUEUESTART|",
            "1767664271|NONE|NONE|NONE|CONFIGRELOAD|",
            "1772413191|NONE|hotline|PJSIP/8001|MEMBERDUMP|",
            "",
            "   ",
            "\r",
        ]
    )
    func ignored(line: String) {
        #expect(decode(line).isIgnored)
    }

    @Test(
        "member events about no caller are read for routing (presence), not as call records",
        arguments: [
            ("1772413191|MANAGER|hotline|PJSIP/8001|ADDMEMBER|", "ADDMEMBER"),
            ("1772413191|REALTIME|hotline|PJSIP/8001|REMOVEMEMBER|", "REMOVEMEMBER"),
            ("1772413191|CLI|hotline|PJSIP/8001|PAUSE|lunch", "PAUSE"),
            ("1772413191|NONE|NONE|PJSIP/8001|PAUSEALL|", "PAUSEALL"),
        ]
    )
    func presence(line: String, event: String) throws {
        guard case .presence(let member) = decode(line) else {
            Issue.record("\(line) is not read as presence")
            return
        }
        #expect(member.agent == "PJSIP/8001")
        #expect(member.event == .other(name: event))
        #expect(member.time == Timestamp(seconds: 1_772_413_191))
    }

    struct RejectCase: CustomTestStringConvertible, Sendable {
        var line: String
        var reason: String
        var testDescription: String { self.line.isEmpty ? "(empty)" : self.line }
    }

    @Test(
        "bad lines are rejected with the column and value at fault",
        arguments: [
            RejectCase(
                line: "1772413201|1772413200.1|hotline|NONE",
                reason: "4 fields; a queue_log line has at least 5 (epoch|callid|queuename|agent|event)"
            ),
            RejectCase(line: "hello world", reason: "1 field; a queue_log line has at least 5"),
            RejectCase(
                line: "2026-03-02 09:00:00|1772413200.1|hotline|NONE|ENTERQUEUE||1|1",
                reason: #"column 1 (epoch) is "2026-03-02 09:00:00", not whole Unix seconds"#
            ),
            RejectCase(line: "-5|1772413200.1|hotline|NONE|ENTERQUEUE||1|1", reason: #"column 1 (epoch) is "-5""#),
            RejectCase(line: "1772413201|1772413200.1|hotline|NONE||x", reason: "column 5 (event) is empty"),
            RejectCase(
                line: "1772413201||hotline|NONE|CONNECT|1|x|1",
                reason: "column 2 (callid) is empty; a CONNECT line needs the caller's uniqueid (or NONE)"
            ),
            RejectCase(
                line: "1772413215|1772413200.1|hotline|PJSIP/8001|CONNECT|soon|1772413206.2|9",
                reason: #"column 6 (data1, hold seconds) of CONNECT is "soon", not a whole number"#
            ),
            RejectCase(
                line: "1772413215|1772413200.1|hotline|PJSIP/8001|CONNECT",
                reason: "CONNECT needs data1 (hold seconds) in column 6, but the line has 0 data fields"
            ),
            RejectCase(
                line: "1772413530|1772413500.7|hotline|NONE|ABANDON|1|1",
                reason: "ABANDON needs data3 (wait seconds) in column 8, but the line has 2 data fields"
            ),
            RejectCase(
                line: "1772413530|1772413500.7|hotline|NONE|ABANDON|1|1|",
                reason: #"column 8 (data3, wait seconds) of ABANDON is "", not a whole number"#
            ),
            RejectCase(
                line: "1772413530|1772413500.7|hotline|NONE|EXITWITHTIMEOUT|1",
                reason: "EXITWITHTIMEOUT needs data3 (wait seconds)"
            ),
            RejectCase(
                line: "1772413530|1772413500.7|hotline|NONE|EXITWITHKEY|5|1|1",
                reason: "EXITWITHKEY needs data4 (wait seconds) in column 9, but the line has 3 data fields"
            ),
            RejectCase(
                line: "1772413530|1772413500.7|hotline|NONE|WITHDRAW|1|1|x",
                reason: #"column 8 (data3, wait seconds) of WITHDRAW is "x""#
            ),
        ]
    )
    func rejects(_ testCase: RejectCase) throws {
        let bytes = Array(testCase.line.utf8)
        let reject = try #require(decoder.decode(line: bytes, position: testPosition(3, offset: 120)).reject)
        #expect(reject.reason.hasPrefix(testCase.reason), "\(reject.reason)")
        #expect(reject.raw == bytes)
        #expect(reject.position == testPosition(3, offset: 120))
    }

    @Test("a trailing CR is not part of the record or its key")
    func carriageReturn() throws {
        let line = "1772413530|1772413500.7|hotline|NONE|ABANDON|1|1|30"
        let plain = try #require(decode(line).queue)
        let crlf = try #require(decoder.decode(line: Array(line.utf8) + [13], position: testPosition()).queue)
        #expect(plain == crlf)
    }

    @Test("a whole call from a queue_log file, with system lines in between", .tags(.fixture))
    func fixtureFile() throws {
        let records = try TestFiles.decode(TestFiles.fixture("queue_log_calls.log"), with: decoder.decode)
        #expect(records.count == 8)
        #expect(records.first?.isIgnored == true)
        if case .presence = records[1] {} else { Issue.record("ADDMEMBER is not read as presence: \(records[1])") }
        let queue = records.compactMap(\.queue)
        #expect(queue.count == 6)
        #expect(records.allSatisfy { $0.reject == nil })
        #expect(
            queue.map(\.event) == [
                .entered(callerNumber: "13900000001"), .ringNoAnswer,
                .connected(holdSeconds: 14, memberUniqueID: "1772413206.2"), .completed,
                .entered(callerNumber: "13900000002"), .abandoned(waitSeconds: 30),
            ]
        )
        #expect(
            queue.map(\.call.rawValue) == Array(repeating: "1772413200.1", count: 4) + ["1772413500.7", "1772413500.7"]
        )
        #expect(queue.map(\.position.line) == [3, 4, 5, 6, 7, 8])
        #expect(Set(queue.map(\.key)).count == 6)
    }

    @Test("the corpus queue_log (system lines only) decodes with no rejects", .tags(.corpus))
    func corpusFile() throws {
        let files = TestFiles.corpusFiles(in: "asterisk-queue-log")
        #expect(files == ["ivrlab_queue_log.log"])
        for name in files {
            let records = try TestFiles.decode(TestFiles.corpus("asterisk-queue-log/\(name)"), with: decoder.decode)
            #expect(!records.isEmpty)
            #expect(records.allSatisfy { $0.reject == nil }, "\(records.compactMap(\.reject).map(\.reason))")
            // Every line is QUEUESTART or CONFIGRELOAD: nothing about a call.
            #expect(records.allSatisfy { $0.isIgnored })
        }
    }
}
