import Testing

@testable import FirstContactCore

// SPEC rules 1 and 3 for IVR events: a menu choice routes the contact (the ivr map), a callback
// request or voicemail makes the call a miss however short, and a callback requested for another
// number is owed to that number on the caller's contact. Times as in ScenarioKit (2026-11-26 is
// a Thursday; office hours 08:30-12:00 at +08:00; service callback SLA 30 min).

private let keyed = "13912345678"

private func ivr(_ id: String, _ time: String, _ kind: IVRRecord.Kind, caller: String = ScenarioKit.customer)
    -> IVRRecord
{
    IVRRecord(
        key: EventKey(rawValue: "ivr:\(id)"), position: SourcePosition(source: "ivr.xml", line: 1, offset: 0),
        time: at(time), caller: caller, callReference: "", kind: kind)
}

private func directory() -> Directory {
    var configuration = ScenarioKit.configuration()
    configuration.ivr = [
        "2": IVRRoute(department: ScenarioKit.repairs, category: .report),
        "9": IVRRoute(callback: true),
    ]
    return Directory(configuration: configuration)
}

private func derive(_ pbx: PBX, _ events: [IVRRecord], related: [Call] = [], clock: String) -> Derivation {
    let directory = directory()
    let calls = ScenarioKit.calls(from: pbx.records, directory: directory).filter {
        $0.customerKey == ScenarioKit.customerKey
    }
    return Correlator(directory: directory).derive(
        customerKey: ScenarioKit.customerKey, calls: calls, ivr: events, related: related, clock: at(clock))
}

@Suite("IVR events — routing and callback requests (rules 1 and 3)")
struct IVRCorrelationTests {
    @Test("a menu choice routes the contact to the digit's department and category, over the DID's")
    func menuChoiceRoutes() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:40", until: "09:04:00")
        let contact = try #require(
            derive(pbx, [ivr("a", "2026-11-26 09:00:12", .menuChoice(digit: "2"))], clock: "2026-11-26 09:10:00")
                .contacts.first)
        #expect(contact.department == ScenarioKit.repairs)
        #expect(contact.category == .report)
        #expect(contact.why.contains { $0.rule == .ivr && $0.message.contains("pressed 2") })
    }

    @Test("a callback request in a 3-second IVR call is a miss despite the abandon grace, owed by the DID's department")
    func callbackRequestDefeatsGrace() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 10:00:00").hangsUp(at: "10:00:03")
        #expect(derive(pbx, [], clock: "2026-11-26 10:10:00").contacts.isEmpty)  // under the grace: nothing

        let derivation = derive(
            pbx, [ivr("a", "2026-11-26 10:00:02", .menuChoice(digit: "9"))], clock: "2026-11-26 10:10:00")
        let contact = try #require(derivation.contacts.first)
        let callback = try #require(contact.obligations.first)
        #expect(callback.kind == .callback)
        #expect(callback.owner == Owner(department: ScenarioKit.service, agent: nil))
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:03Z")
        #expect(callback.callbackNumber == nil)
    }

    @Test(
        "a callback requested for a keyed number is owed to that number on the caller's contact, and a call to the keyed number settles it"
    )
    func keyedNumber() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 10:00:00").hangsUp(at: "10:00:20")
        let request = ivr("a", "2026-11-26 10:00:15", .callbackRequest(number: keyed))
        let owed = try #require(derive(pbx, [request], clock: "2026-11-26 10:05:00").contacts.first?.obligations.first)
        #expect(owed.callbackNumber == .e164("+86\(keyed)"))

        // The agent's call to the keyed number is another customer's call: it comes in as related.
        let other = PBX()
        other.outbound("o1", by: "1002", to: keyed, at: "2026-11-26 10:12:00", answered: "10:12:10", until: "10:14:00")
        let related = ScenarioKit.calls(from: other.records, directory: directory())
        let derivation = derive(pbx, [request], related: related, clock: "2026-11-26 11:00:00")
        let callback = try #require(derivation.contacts.first?.obligations.first)
        #expect(callback.state == .satisfied)
        #expect(callback.satisfiedBy == AgentID("1002"))
        #expect(callback.satisfiedVia == .callback)
        #expect(derivation.contacts.first?.firstResponder?.agent == AgentID("1002"))
        #expect(derivation.contacts.first?.calls == [CallKey("c1"), CallKey("o1")])
        #expect(derivation.violations.isEmpty)

        // An unanswered attempt at the keyed number counts as an attempt.
        let missed = PBX()
        missed.outbound("o2", by: "1002", to: keyed, at: "2026-11-26 10:12:00", until: "10:12:30")
        let attempt = derive(
            pbx, [request], related: ScenarioKit.calls(from: missed.records, directory: directory()),
            clock: "2026-11-26 10:20:00")
        #expect(attempt.contacts.first?.obligations.first?.attempts == 1)
    }

    @Test(
        "a call to the keyed number after the resume point settles the callback the resume point carries, with no IVR event after it"
    )
    func keyedNumberAfterResumePoint() throws {
        let directory = directory()
        let correlator = Correlator(directory: directory)
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 10:00:00").hangsUp(at: "10:00:20")
        // Calling again: a point carries at least two calls (ResumePoint.fewestCalls).
        pbx.inbound("c2", at: "2026-11-26 10:02:00").hangsUp(at: "10:02:20")
        let calls = ScenarioKit.calls(from: pbx.records, directory: directory)
        let request = ivr("a", "2026-11-26 10:00:15", .callbackRequest(number: keyed))
        let earlier = correlator.derive(
            customerKey: ScenarioKit.customerKey, calls: calls, ivr: [request], clock: at("2026-11-26 10:05:00"),
            explaining: false)
        let point = try #require(earlier.resume)

        let other = PBX()
        other.outbound("o1", by: "1002", to: keyed, at: "2026-11-26 10:12:00", answered: "10:12:10", until: "10:14:00")
        let related = ScenarioKit.calls(from: other.records, directory: directory)
        #expect(related.allSatisfy { $0.start >= point.before })
        let resumed = correlator.derive(
            customerKey: ScenarioKit.customerKey, calls: [], related: related, clock: at("2026-11-26 11:00:00"),
            explaining: false, after: earlier.settled, resuming: point)
        #expect(resumed.contacts.first?.obligations.first?.state == .satisfied)
        let full = correlator.derive(
            customerKey: ScenarioKit.customerKey, calls: calls, ivr: [request], related: related,
            clock: at("2026-11-26 11:00:00"), explaining: false)
        #expect(resumed.contacts == full.contacts)
        #expect(resumed.resume == full.resume)
    }

    @Test("a voicemail is a miss however short the call")
    func voicemail() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 10:00:00").hangsUp(at: "10:00:04")
        let derivation = derive(pbx, [ivr("v", "2026-11-26 10:00:03", .voicemail)], clock: "2026-11-26 10:10:00")
        #expect(derivation.contacts.first?.obligations.map(\.kind) == [.callback])
    }

    @Test(
        "a callback request whose call record has not arrived still opens the contact and the callback, at the request's time"
    )
    func requestWithoutCall() throws {
        let derivation = derive(
            PBX(), [ivr("a", "2026-11-26 10:00:15", .callbackRequest(number: nil))], clock: "2026-11-26 10:10:00")
        let contact = try #require(derivation.contacts.first)
        #expect(contact.createdAt.iso8601 == "2026-11-26T02:00:15Z")
        #expect(contact.obligations.first?.dueAt.iso8601 == "2026-11-26T02:30:15Z")
        // A menu choice alone routes nothing and opens nothing.
        #expect(
            derive(PBX(), [ivr("m", "2026-11-26 10:00:15", .menuChoice(digit: "2"))], clock: "2026-11-26 10:10:00")
                .contacts.isEmpty)
    }

    @Test(
        "a withheld caller's callback request is owed at the number they keyed; without one it opens nothing (the PBX's record counts the miss)"
    )
    func withheldCaller() throws {
        let directory = directory()
        let keyedKey = "+86\(keyed)"
        let request = ivr("w", "2026-11-26 10:00:15", .callbackRequest(number: keyed), caller: "anonymous")
        let derivation = Correlator(directory: directory).derive(
            customerKey: keyedKey, calls: [], ivr: [request], clock: at("2026-11-26 10:10:00"))
        let contact = try #require(derivation.contacts.first)
        #expect(contact.customer == .e164(keyedKey))
        #expect(contact.obligations.map(\.kind) == [.callback])
        #expect(contact.obligations.first?.callbackNumber == nil)  // the contact's own number

        let bare = ivr("b", "2026-11-26 10:00:15", .callbackRequest(number: nil), caller: "anonymous")
        #expect(
            Correlator(directory: directory).derive(
                customerKey: "withheld", calls: [], ivr: [bare], clock: at("2026-11-26 10:10:00")
            ).contacts.isEmpty)
    }
}
