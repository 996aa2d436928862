import FirstContactCore
import Foundation
import Testing

@testable import FirstContactIngest

@Suite("IVR event XML decoder")
struct IVREventDecoderTests {
    static let position = SourcePosition(source: "ivr.xml", line: 1, offset: 0)

    static func decode(_ text: String) -> [IngestRecord] {
        IVREventDecoder().decode(Array(text.utf8), position: Self.position)
    }

    @Test(
        "the fixture's four kinds decode, with times, caller, digit and keyed number; the same event in other formatting has the same key"
    )
    func fixture() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/ivr/day.xml")
        let records = IVREventDecoder().decode(Array(try Data(contentsOf: url)), position: Self.position)
        let events = records.compactMap { record -> IVRRecord? in
            if case .record(.ivr(let event)) = record { return event }
            return nil
        }
        #expect(events.count == 4)
        #expect(
            events.map(\.kind) == [
                .menuChoice(digit: "2"), .callbackRequest(number: "13912345678"), .voicemail, .menuHangup,
            ])
        #expect(events.first?.time.iso8601 == "2026-11-27T02:00:05Z")
        #expect(events.first?.caller == "13800004444")
        #expect(events.first?.callReference == "1795744800.31")
        #expect(events.map(\.position.line) == [1, 2, 3, 4])

        let single = Self.decode(
            #"<ivr-event   digit="2" caller="13800004444" call="1795744800.31" at="2026-11-27T10:00:05+08:00" kind="menu-choice" />"#
        )
        guard case .record(.ivr(let again)) = single.first else {
            Issue.record("not decoded")
            return
        }
        #expect(again.key == events.first?.key)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let xml: String
        let reason: String
        var testDescription: String { reason }
    }

    @Test(
        "a bad event is rejected with its ordinal and a reason; the others in the document go on",
        arguments: [
            Bad(
                xml: #"<ivr-event kind="press" at="2026-11-27T10:00:05+08:00" caller="1"/>"#,
                reason: #"unknown kind "press""#),
            Bad(
                xml: #"<ivr-event kind="voicemail" at="2026-11-27 10:00:05" caller="1"/>"#,
                reason: "is not a time with its offset"),
            Bad(xml: #"<ivr-event kind="voicemail" caller="1"/>"#, reason: "no at attribute"),
            Bad(
                xml: #"<ivr-event kind="callback-request" at="2026-11-27T10:00:05+08:00"/>"#,
                reason: "nobody to call back"),
            Bad(
                xml: #"<ivr-event kind="menu-choice" at="2026-11-27T10:00:05+08:00" caller="1" digit="x"/>"#,
                reason: "menu-choice needs digit"),
        ])
    func badEvent(_ bad: Bad) throws {
        let records = Self.decode(
            "<ivr-events>\(bad.xml)<ivr-event kind=\"voicemail\" at=\"2026-11-27T10:00:05+08:00\" caller=\"13800006666\"/></ivr-events>"
        )
        #expect(records.count == 2)
        guard case .reject(let reject) = records.first else {
            Issue.record("not rejected: \(records)")
            return
        }
        #expect(reject.reason.hasPrefix("IVR event 1: "))
        #expect(reject.reason.contains(bad.reason))
        #expect(!reject.raw.isEmpty)
        guard case .record(.ivr) = records.last else {
            Issue.record("the good event was lost")
            return
        }
    }

    @Test("hostile or foreign documents are one reject with the XML layer's reason")
    func refusedDocuments() {
        let cases = [
            (
                #"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ivr-event kind="voicemail" at="2026-11-27T10:00:05+08:00" caller="&e;"/>"#,
                "refused (doctype)"
            ),
            (#"<ivr-events><ivr-event kind="voicemail""#, "refused ("),
            (#"<cdr><variables/></cdr>"#, "the root element is <cdr>"),
            (#"<ivr-events></ivr-events>"#, "no <ivr-event> element"),
        ]
        for (xml, reason) in cases {
            let records = Self.decode(xml)
            #expect(records.count == 1)
            guard case .reject(let reject) = records.first else {
                Issue.record("not rejected: \(xml)")
                continue
            }
            #expect(reject.reason.contains(reason), "\(reject.reason)")
        }
    }

    @Test("the percent-encoded body FreeSWITCH's curl application posts (dialplans/freeswitch) decodes like the XML")
    func percentEncodedBody() {
        let posted =
            "%3Civr-event%20xmlns=%22urn:firstcontact:ivr-events:1%22%20kind=%22callback-request%22%20at=%222026-11-27T02:20:08Z%22%20caller=%2213800005555%22%20number=%2213912345678%22%20call=%22a1b2%22/%3E"
        guard case .record(.ivr(let event)) = Self.decode(posted).first else {
            Issue.record("not decoded")
            return
        }
        #expect(event.kind == .callbackRequest(number: "13912345678"))
        #expect(event.time.iso8601 == "2026-11-27T02:20:08Z")
    }

    @Test("files are detected as ivr-events by their root element")
    func detected() {
        #expect(
            InputFormatDetector.detect(
                path: "x.xml",
                head: Array(#"<?xml version="1.0"?><ivr-events xmlns="urn:firstcontact:ivr-events:1">"#.utf8))
                == .ivrEvents)
        #expect(
            InputFormatDetector.detect(path: "x.xml", head: Array(#"<ivr-event kind="voicemail"/>"#.utf8)) == .ivrEvents
        )
    }
}
