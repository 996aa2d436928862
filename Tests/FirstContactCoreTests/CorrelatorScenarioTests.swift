import Testing

@testable import FirstContactCore

// Scenario tests of the correlation engine against SPEC "Correlation" rules 1–9, its "Precise
// rules" and POLICY §5. Every expected value is worked out from the SPEC and the test
// configuration (ScenarioKit): office hours Mon–Fri 08:30-12:00 / 14:00-17:30 at +08:00,
// service: callback 30m, hand-off ack 15m / contact 2h, escalate 1h, head 8001;
// repairs: 24/7, callback 30m, ack 10m / contact 1h, escalate 30m, head 8003.
// 2026-11-26 is a Thursday; 10:00 local is 02:00Z.

private let service = ScenarioKit.service
private let repairs = ScenarioKit.repairs
private let billing = ScenarioKit.billing

private func agent(_ id: String) -> AgentID { AgentID(id) }

/// 10:00:00 the customer joins the hotline queue, 1001 rings until 10:00:15 without answering,
/// the customer hangs up at 10:00:40 (waited 40 s): a callback due 10:30:40 (02:30:40Z).
@discardableResult
private func missedHotlineCall(_ pbx: PBX, _ id: String = "m1") -> InboundCall {
    pbx.inbound(id, at: "2026-11-26 10:00:00").queue("hotline").rings("1001", until: "10:00:15").abandons(
        at: "10:00:40")
}

// MARK: - Rule 1: open or attach

@Suite("Rule 1 — an inbound call opens or attaches to the number's contact")
struct OpenOrAttachTests {
    @Test(
        "an answered hotline call opens a phone contact for the caller's E.164 number, routed to the queue's department"
    )
    func answeredCallOpensContact() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:10:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.customer == .e164("+8613812345678"))
        #expect(contact.customer.text == "+8613812345678")
        #expect(contact.customerRaw == "13812345678")
        #expect(contact.channel == .phone)
        #expect(contact.department == service)
        #expect(contact.category == .service)
        #expect(contact.status == .open)
        #expect(contact.repeatOf == nil)
        #expect(contact.calls == [CallKey("c1")])
        #expect(contact.createdAt.iso8601 == "2026-11-26T01:00:00Z")
        #expect(contact.obligations.isEmpty)
        #expect(derivation.violations.isEmpty)
    }

    struct Routing: Sendable, CustomTestStringConvertible {
        let queue: String
        let agent: String
        let department: DepartmentID
        let category: ContactCategory
        var testDescription: String { "queue \(queue) → \(department.rawValue)/\(category.rawValue)" }
    }

    @Test(
        "department and category of a contact come from the queue the caller entered",
        arguments: [
            Routing(queue: "hotline", agent: "1001", department: ScenarioKit.service, category: .service),
            Routing(queue: "repairs", agent: "1011", department: ScenarioKit.repairs, category: .service),
            Routing(queue: "billing", agent: "1021", department: ScenarioKit.billing, category: .inquiry),
        ])
    func departmentFromQueue(_ routing: Routing) throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue(routing.queue)
            .answered(by: routing.agent, at: "09:00:20", until: "09:05:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:10:00")).contacts.first)
        #expect(contact.department == routing.department)
        #expect(contact.category == routing.category)
        #expect(contact.firstResponder?.agent == agent(routing.agent))
    }

    @Test("without a queue the dialled DID routes the contact, before the answering agent's department")
    func departmentFromDID() throws {
        let pbx = PBX()
        // A ring group on 96116 (no queue): a repairs agent picks up.
        pbx.inbound("c1", dialled: "96116", at: "2026-11-26 09:00:00").answered(
            by: "1011", at: "09:00:10", until: "09:04:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:05:00")).contacts.first)
        #expect(contact.department == service)
        #expect(contact.firstResponder?.agent == agent("1011"))
    }

    @Test("a direct dial with no queue or DID is routed to the answering agent's department")
    func departmentFromAnsweringAgent() throws {
        let pbx = PBX()
        pbx.inbound("c1", dialled: "1021", at: "2026-11-26 09:00:00").answered(
            by: "1021", at: "09:00:06", until: "09:04:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:05:00")).contacts.first)
        #expect(contact.department == billing)
        #expect(contact.firstResponder?.agent == agent("1021"))
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T01:00:06Z")
    }

    @Test("a repeat caller attaches to the number's open contact instead of opening a second one")
    func repeatCallerAttaches() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("c2", at: "2026-11-26 15:00:00").queue("hotline").answered(
            by: "1002", at: "15:00:30", until: "15:06:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 16:00:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.calls == [CallKey("c1"), CallKey("c2")])
        #expect(contact.createdAt.iso8601 == "2026-11-26T01:00:00Z")
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.status == .open)
    }

    @Test("calls from two different numbers make two customers with one contact each")
    func twoNumbersTwoContacts() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("c2", from: ScenarioKit.otherCustomer, at: "2026-11-26 09:01:00").queue("hotline")
            .answered(by: "1002", at: "09:01:10", until: "09:03:00")
        let all = ScenarioKit.deriveAll(ScenarioKit.calls(from: pbx.records), clock: at("2026-11-26 09:10:00"))

        #expect(Set(all.keys) == [ScenarioKit.customerKey, ScenarioKit.otherCustomerKey])
        #expect(all[ScenarioKit.customerKey]?.contacts.map(\.calls) == [[CallKey("c1")]])
        #expect(all[ScenarioKit.otherCustomerKey]?.contacts.map(\.calls) == [[CallKey("c2")]])
        #expect(all[ScenarioKit.otherCustomerKey]?.contacts.first?.firstResponder?.agent == agent("1002"))
    }
}

// MARK: - Rule 2: the first responder

@Suite("Rule 2 — the first agent who really answered is bound as first responder")
struct FirstResponderTests {
    @Test(
        "the agent who answered the queue call is first responder, bound at the answer time of their leg; agents who rang without answering are recorded, not bound"
    )
    func answeringAgentIsBound() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline")
            .rings("1002", until: "09:00:17")
            .answered(by: "1001", at: "09:00:20", until: "09:05:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:10:00")).contacts.first)

        let responder = try #require(contact.firstResponder)
        #expect(responder.agent == agent("1001"))
        #expect(responder.boundAt.iso8601 == "2026-11-26T01:00:20Z")
        #expect(responder.via == .inbound)
        #expect(responder.call == CallKey("c1"))
        #expect(contact.ringNoAnswer == [agent("1002")])
    }

    @Test("with only the queue_log CONNECT known, bound_at is the CONNECT time")
    func boundAtConnectWhenOnlyQueueLogKnown() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:25", until: "09:05:00", writeCDR: false)
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:10:00")).contacts.first)

        #expect(contact.customer.text == "+8613812345678")
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T01:00:25Z")
        #expect(contact.firstResponder?.via == .inbound)
    }

    @Test(
        "a caller answered by the IVR at 10:29:58 and connected to agent 1001 by the queue at 10:30:08 binds 1001 at 10:30:08, when the agent answered"
    )
    func boundWhenTheAgentConnectedNotWhenTheIVRAnswered() throws {
        let pbx = PBX()
        let call = pbx.inbound("c1", at: "2026-11-26 10:29:55").queue("hotline", at: "10:30:00")
            .answered(by: "1001", at: "10:30:08", until: "10:35:00", writeCDR: false)
        // The caller's row: its channel was answered by the IVR's Answer() before the queue.
        pbx.cdr(
            call: call.key, src: ScenarioKit.customer, dst: "96116", context: "from-trunk",
            channel: pbx.channel("PJSIP/trunk"), dstChannel: pbx.channel("PJSIP/1001"), app: "Queue",
            data: "hotline,t", start: at("2026-11-26 10:29:55"), answer: at("2026-11-26 10:29:58"),
            end: at("2026-11-26 10:35:00"), disposition: .answered)
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00")).contacts.first)

        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T02:30:08Z")
    }

    @Test("the first responder is bound once: a later call answered by another agent does not replace them")
    func boundOnce() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("c2", at: "2026-11-26 11:00:00").queue("hotline").answered(
            by: "1002", at: "11:00:10", until: "11:04:00")
        pbx.outbound(
            "o1", by: "1021", to: "013812345678", at: "2026-11-26 14:10:00", answered: "14:10:08", until: "14:12:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 15:00:00"))

        #expect(derivation.contacts.count == 1)
        let responder = try #require(derivation.contacts.first?.firstResponder)
        #expect(responder.agent == agent("1001"))
        #expect(responder.boundAt.iso8601 == "2026-11-26T01:00:20Z")
        #expect(responder.via == .inbound)
        #expect(responder.call == CallKey("c1"))
        #expect(derivation.contacts.first?.calls == [CallKey("c1"), CallKey("c2"), CallKey("o1")])
    }

    @Test("a callback by another agent satisfies the callback but does not replace an existing first responder")
    func callbackKeepsExistingResponder() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        missedHotlineCall(pbx, "m1")
        pbx.outbound("o1", by: "1002", at: "2026-11-26 10:15:00", answered: "10:15:12", until: "10:18:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00")).contacts.first)

        #expect(contact.callbacks.first?.state == .satisfied)
        #expect(contact.callbacks.first?.satisfiedBy == agent("1002"))
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.via == .inbound)
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T01:00:20Z")
    }

    @Test("ring-no-answer agents of every call of the contact are recorded, each once")
    func ringNoAnswerAccumulates() throws {
        let pbx = PBX()
        pbx.inbound("m1", at: "2026-11-26 10:00:00").queue("hotline")
            .rings("1001", until: "10:00:15").rings("1002", until: "10:00:30").abandons(at: "10:00:50")
        pbx.inbound("m2", at: "2026-11-26 10:05:00").queue("hotline")
            .rings("1002", until: "10:05:15").abandons(at: "10:05:40")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:10:00")).contacts.first)

        #expect(Set(contact.ringNoAnswer) == [agent("1001"), agent("1002")])
        #expect(contact.ringNoAnswer.count == 2)
        #expect(contact.firstResponder == nil)
    }

    @Test("an ANSWERED leg with zero billed seconds binds nobody: the call counts as missed")
    func zeroBillsecIsNotAnAnswer() throws {
        let pbx = PBX()
        // Ring group on the DID, no queue: 1001's phone answers and drops at once.
        pbx.inbound("c1", at: "2026-11-26 10:00:00").answered(by: "1001", at: "10:00:15", until: "10:00:15")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:05:00")).contacts.first)

        #expect(contact.firstResponder == nil)
        #expect(contact.callbacks.count == 1)
        let callback = try #require(contact.callbacks.first)
        #expect(callback.owner == Owner(department: service, agent: nil))
        #expect(callback.createdAt.iso8601 == "2026-11-26T02:00:15Z")
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:15Z")
    }

    @Test("an internal call between two agents opens no contact")
    func internalCallsOpenNoContact() throws {
        let pbx = PBX()
        pbx.internalCall(
            "i1", from: "1001", to: "1011", at: "2026-11-26 09:30:00", answered: "09:30:05", until: "09:33:00")
        let calls = ScenarioKit.calls(from: pbx.records)

        #expect(calls.count == 1)
        #expect(calls.first?.direction == .internal)
        #expect(calls.first?.customerKey == nil)
        #expect(ScenarioKit.deriveAll(calls, clock: at("2026-11-26 12:00:00")).isEmpty)
    }

    @Test("a withheld caller who is answered opens a contact with customer \"withheld\" and a first responder")
    func withheldAnswered() throws {
        let pbx = PBX()
        pbx.inbound("w1", from: "anonymous", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:20", until: "09:05:00")
        let call = try #require(ScenarioKit.calls(from: pbx.records).first)
        let key = try #require(call.customerKey)
        let contact = try #require(
            ScenarioKit.derive(pbx.records, customer: key, clock: at("2026-11-26 09:10:00")).contacts.first)

        #expect(contact.customer == .withheld)
        #expect(contact.customer.text == "withheld")
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.via == .inbound)
    }

    @Test("a missed call from a withheld number opens a contact but creates no callback: it cannot be returned")
    func withheldMissed() throws {
        let pbx = PBX()
        pbx.inbound("w1", from: "anonymous", at: "2026-11-26 10:00:00").queue("hotline")
            .rings("1001", until: "10:00:15").abandons(at: "10:00:40")
        let call = try #require(ScenarioKit.calls(from: pbx.records).first)
        #expect(call.direction == .inbound)
        let key = try #require(call.customerKey)
        // Long after a callback would have been due: still nothing owed, nothing breached.
        let derivation = ScenarioKit.derive(pbx.records, customer: key, clock: at("2026-11-26 16:00:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.customer.text == "withheld")
        #expect(contact.obligations.isEmpty)
        #expect(contact.status != .awaitingCallback)
        #expect(derivation.violations.isEmpty)
    }
}

// MARK: - Rule 3: missed call → callback

@Suite("Rule 3 — a missed call creates a callback obligation")
struct MissedCallTests {
    @Test(
        "a missed queue call creates a callback owed by the queue's department, due 30 business minutes after the call ended"
    )
    func missedQueueCall() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:10:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.status == .awaitingCallback)
        #expect(contact.department == service)
        #expect(contact.firstResponder == nil)
        #expect(contact.ringNoAnswer == [agent("1001")])
        #expect(contact.obligations.count == 1)
        let callback = try #require(contact.callbacks.first)
        #expect(callback.owner == Owner(department: service, agent: nil))
        #expect(callback.createdAt.iso8601 == "2026-11-26T02:00:40Z")
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:40Z")
        #expect(callback.ackDueAt == nil)
        #expect(callback.state == .pending)
        #expect(callback.missedCount == 1)
        #expect(callback.attempts == 0)
        #expect(callback.escalationLevel == 0)
        #expect(callback.atRisk == false)
        #expect(callback.call == CallKey("m1"))
        #expect(derivation.violations.isEmpty)
    }

    @Test("a missed direct dial is owed by the dialled agent, on their department's clock")
    func missedDirectDial() throws {
        let pbx = PBX()
        pbx.inbound("d1", dialled: "1001", at: "2026-11-26 10:00:00").rings("1001", until: "10:00:30")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:10:00"))
        let contact = try #require(derivation.contacts.first)
        let callback = try #require(contact.callbacks.first)

        #expect(callback.owner == Owner(department: service, agent: agent("1001")))
        #expect(callback.createdAt.iso8601 == "2026-11-26T02:00:30Z")
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:30Z")
        #expect(callback.state == .pending)
        #expect(contact.department == service)
    }

    @Test("a breached direct-dial callback is a not_handled_in_time violation against the dialled agent")
    func directDialBreachAgainstAgent() throws {
        let pbx = PBX()
        pbx.inbound("d1", dialled: "1001", at: "2026-11-26 10:00:00").rings("1001", until: "10:00:30")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:45:00"))

        #expect(derivation.violations.count == 1)
        let violation = try #require(derivation.violations.first)
        #expect(violation.category == .notHandledInTime)
        #expect(violation.agent == agent("1001"))
        #expect(violation.department == service)
        #expect(violation.at.iso8601 == "2026-11-26T02:30:30Z")
        #expect(violation.obligation == derivation.contacts.first?.callbacks.first?.id)
        #expect(violation.contact == derivation.contacts.first?.id)
    }

    @Test("a busy signal on a direct dial is a missed call even when it lasted less than the abandon grace")
    func busyIsMissedWhateverItsLength() throws {
        let pbx = PBX()
        // SPEC rule 3: abandon_grace qualifies abandons only ("abandoned after abandon_grace; no answer;
        // busy; voicemail"), and it measures "the caller's wait before hanging up" — a busy line did not
        // make the caller wait.
        pbx.inbound("b1", dialled: "1001", at: "2026-11-26 10:00:00").rings(
            "1001", until: "10:00:02", disposition: .busy)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:10:00"))

        #expect(derivation.contacts.count == 1)
        let callback = try #require(derivation.contacts.first?.callbacks.first)
        #expect(callback.owner == Owner(department: service, agent: agent("1001")))
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:02Z")
    }

    @Test("a caller who leaves a voicemail is owed a callback")
    func voicemailIsMissed() throws {
        let pbx = PBX()
        pbx.inbound("v1", dialled: "1001", at: "2026-11-26 10:00:00")
            .rings("1001", until: "10:00:20").leavesVoicemail(for: "1001", until: "10:01:00")
        let callback = try #require(
            ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:10:00")).contacts.first?.callbacks.first)

        #expect(callback.owner == Owner(department: service, agent: agent("1001")))
        #expect(callback.createdAt.iso8601 == "2026-11-26T02:01:00Z")
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:31:00Z")
    }

    @Test("repeat misses fold into the pending callback: missed_count grows, the deadline stays the first miss's")
    func repeatMissesFold() throws {
        let pbx = PBX()
        missedHotlineCall(pbx, "m1")
        pbx.inbound("m2", at: "2026-11-26 10:10:00").queue("hotline").abandons(at: "10:11:00")
        pbx.inbound("m3", dialled: "1002", at: "2026-11-26 10:20:00").rings("1002", until: "10:20:30")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:25:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.calls == [CallKey("m1"), CallKey("m2"), CallKey("m3")])
        #expect(contact.callbacks.count == 1)
        let callback = try #require(contact.callbacks.first)
        #expect(callback.missedCount == 3)
        #expect(callback.owner == Owner(department: service, agent: nil))
        #expect(callback.createdAt.iso8601 == "2026-11-26T02:00:40Z")
        #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:40Z")
    }

    @Test("a miss while the callback is breached folds into it as well")
    func missWhileBreachedFolds() throws {
        let pbx = PBX()
        missedHotlineCall(pbx, "m1")
        pbx.inbound("m2", at: "2026-11-26 11:00:00").queue("hotline").abandons(at: "11:00:30")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:05:00")).contacts.first)

        #expect(contact.callbacks.count == 1)
        #expect(contact.callbacks.first?.state == .breached)
        #expect(contact.callbacks.first?.missedCount == 2)
        #expect(contact.callbacks.first?.dueAt.iso8601 == "2026-11-26T02:30:40Z")
    }

    @Test("a miss after the callback was satisfied opens a new callback with its own clock")
    func missAfterSatisfiedOpensNew() throws {
        let pbx = PBX()
        missedHotlineCall(pbx, "m1")
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:10:00", answered: "10:10:10", until: "10:12:00")
        pbx.inbound("m2", at: "2026-11-26 10:20:00").queue("hotline").abandons(at: "10:20:30")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:25:00"))

        #expect(derivation.contacts.count == 1)
        let callbacks = try #require(derivation.contacts.first?.callbacks)
        #expect(callbacks.count == 2)
        #expect(callbacks.map(\.state) == [.satisfied, .pending])
        #expect(callbacks.last?.missedCount == 1)
        #expect(callbacks.last?.createdAt.iso8601 == "2026-11-26T02:20:30Z")
        #expect(callbacks.last?.dueAt.iso8601 == "2026-11-26T02:50:30Z")
        #expect(callbacks.last?.call == CallKey("m2"))
        #expect(derivation.contacts.first?.status == .awaitingCallback)
    }

    struct DueCase: Sendable, CustomTestStringConvertible {
        let queue: String
        let enter: String
        let hangUp: String
        let department: DepartmentID
        let due: String
        let note: String
        var testDescription: String { self.note }
    }

    @Test(
        "the callback is due callback_sla of business time after the missed call ended",
        arguments: [
            DueCase(
                queue: "hotline", enter: "2026-11-26 10:00:00", hangUp: "10:00:40", department: ScenarioKit.service,
                due: "2026-11-26T02:30:40Z", note: "Thursday 10:00:40, in hours → 10:30:40"),
            DueCase(
                queue: "hotline", enter: "2026-11-26 11:49:20", hangUp: "11:50:00", department: ScenarioKit.service,
                due: "2026-11-26T06:20:00Z", note: "Thursday 11:50, across the lunch break → 14:20"),
            DueCase(
                queue: "hotline", enter: "2026-11-26 06:59:20", hangUp: "07:00:00", department: ScenarioKit.service,
                due: "2026-11-26T01:00:00Z", note: "Thursday 07:00, before opening → 09:00"),
            DueCase(
                queue: "hotline", enter: "2026-11-26 17:19:20", hangUp: "17:20:00", department: ScenarioKit.service,
                due: "2026-11-27T00:50:00Z", note: "Thursday 17:20 → 10 min that day, 20 min Friday → 08:50"),
            DueCase(
                queue: "hotline", enter: "2026-11-27 17:59:20", hangUp: "18:00:00", department: ScenarioKit.service,
                due: "2026-11-30T01:00:00Z", note: "Friday 18:00, after hours → next business day Monday 08:30 + 30m"),
            DueCase(
                queue: "hotline", enter: "2026-11-28 09:59:20", hangUp: "10:00:00", department: ScenarioKit.service,
                due: "2026-11-30T01:00:00Z", note: "Saturday 10:00 → Monday 09:00"),
            DueCase(
                queue: "repairs", enter: "2026-11-28 02:59:20", hangUp: "03:00:00", department: ScenarioKit.repairs,
                due: "2026-11-27T19:30:00Z", note: "repairs is 24/7: Saturday 03:00 → 03:30"),
        ])
    func callbackDueInBusinessTime(_ row: DueCase) throws {
        let pbx = PBX()
        pbx.inbound("m1", at: row.enter).queue(row.queue).abandons(at: row.hangUp)
        let derivation = ScenarioKit.derive(
            pbx.records, clock: at(InboundCall.full(row.hangUp, String(row.enter.prefix(10)))))
        let callback = try #require(derivation.contacts.first?.callbacks.first)

        #expect(callback.owner == Owner(department: row.department, agent: nil))
        #expect(callback.createdAt == at(InboundCall.full(row.hangUp, String(row.enter.prefix(10)))))
        #expect(callback.dueAt.iso8601 == row.due)
        #expect(callback.state == .pending)
    }

    @Test("a caller who hangs up within abandon_grace opens no contact and owes nothing")
    func underGraceNoContact() throws {
        let pbx = PBX()
        pbx.inbound("s1", at: "2026-11-26 10:00:00").queue("hotline").abandons(at: "10:00:03")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))

        #expect(derivation.contacts.isEmpty)
        #expect(derivation.violations.isEmpty)
        #expect(derivation.unattached == [CallKey("s1")])
    }

    @Test("abandon_grace compares the queue_log ABANDON wait, not the length of the caller's leg")
    func graceUsesQueueWait() throws {
        let pbx = PBX()
        // 60 s in the IVR menu, then 3 s in the queue.
        pbx.inbound("s1", at: "2026-11-26 09:59:00").queue("hotline", at: "10:00:00").abandons(at: "10:00:03")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))

        #expect(derivation.contacts.isEmpty)
        #expect(derivation.violations.isEmpty)
    }

    struct GraceCase: Sendable, CustomTestStringConvertible {
        let hangUp: String
        let opensContact: Bool
        var testDescription: String { "hung up in the IVR at \(hangUp) (\(opensContact ? "over" : "under") 5 s)" }
    }

    @Test(
        "without a queue_log wait, abandon_grace compares the caller leg's end − start",
        arguments: [
            GraceCase(hangUp: "10:00:04", opensContact: false), GraceCase(hangUp: "10:00:06", opensContact: true),
        ])
    func graceUsesLegLength(_ row: GraceCase) throws {
        let pbx = PBX()
        pbx.inbound("i1", at: "2026-11-26 10:00:00").hangsUp(at: row.hangUp)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:05:00"))

        #expect(derivation.contacts.count == (row.opensContact ? 1 : 0))
        if row.opensContact {
            let callback = try #require(derivation.contacts.first?.callbacks.first)
            #expect(callback.owner == Owner(department: service, agent: nil))
            #expect(callback.dueAt.iso8601 == "2026-11-26T02:30:06Z")
        }
    }

    @Test("a short abandon while the number has an open contact attaches to it without creating an obligation")
    func underGraceAttachesToOpenContact() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("s1", at: "2026-11-26 09:30:00").queue("hotline").abandons(at: "09:30:03")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))

        #expect(derivation.contacts.count == 1)
        #expect(derivation.contacts.first?.calls == [CallKey("c1"), CallKey("s1")])
        #expect(derivation.contacts.first?.obligations.isEmpty == true)
        #expect(derivation.violations.isEmpty)
    }
}

// MARK: - Rule 4: callbacks satisfied automatically

@Suite("Rule 4 — answered calls satisfy the callback automatically")
struct CallbackSatisfiedTests {
    @Test(
        "an answered outbound call from any agent to the customer satisfies the callback and binds that agent via callback"
    )
    func outboundCallbackSatisfies() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound(
            "o1", by: "1002", to: "013812345678", at: "2026-11-26 10:15:00", answered: "10:15:12", until: "10:18:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))

        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.calls == [CallKey("m1"), CallKey("o1")])
        let callback = try #require(contact.callbacks.first)
        #expect(callback.state == .satisfied)
        #expect(callback.satisfiedAt?.iso8601 == "2026-11-26T02:15:12Z")
        #expect(callback.satisfiedBy == agent("1002"))
        #expect(callback.satisfiedVia == .callback)
        #expect(callback.escalationLevel == 0)
        let responder = try #require(contact.firstResponder)
        #expect(responder.agent == agent("1002"))
        #expect(responder.boundAt.iso8601 == "2026-11-26T02:15:12Z")
        #expect(responder.via == .callback)
        #expect(responder.call == CallKey("o1"))
        #expect(contact.status == .open)
        #expect(derivation.violations.isEmpty)
    }

    @Test("a callback made after the deadline is satisfied_late, with a not_handled_in_time violation at the due time")
    func lateCallback() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:44:50", answered: "10:45:00", until: "10:50:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 16:00:00"))
        let contact = try #require(derivation.contacts.first)
        let callback = try #require(contact.callbacks.first)

        #expect(callback.state == .satisfiedLate)
        #expect(callback.satisfiedAt?.iso8601 == "2026-11-26T02:45:00Z")
        #expect(callback.satisfiedBy == agent("1001"))
        #expect(callback.satisfiedVia == .callback)
        #expect(callback.escalationLevel == 1)
        #expect(derivation.violations.count == 1)
        let violation = try #require(derivation.violations.first)
        #expect(violation.category == .notHandledInTime)
        #expect(violation.at.iso8601 == "2026-11-26T02:30:40Z")
        #expect(violation.department == service)
        #expect(violation.agent == nil)
        #expect(violation.obligation == callback.id)
    }

    @Test(
        "a customer who gets through satisfies the callback via customer_called_back, and the answering agent becomes first responder via inbound"
    )
    func customerCalledBack() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.inbound("c2", at: "2026-11-26 10:20:00").queue("hotline").answered(
            by: "1002", at: "10:20:10", until: "10:25:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))
        let contact = try #require(derivation.contacts.first)
        let callback = try #require(contact.callbacks.first)

        #expect(derivation.contacts.count == 1)
        #expect(callback.state == .satisfied)
        #expect(callback.satisfiedVia == .customerCalledBack)
        #expect(callback.satisfiedBy == agent("1002"))
        #expect(callback.satisfiedAt?.iso8601 == "2026-11-26T02:20:10Z")
        let responder = try #require(contact.firstResponder)
        #expect(responder.agent == agent("1002"))
        #expect(responder.via == .inbound)
        #expect(responder.boundAt.iso8601 == "2026-11-26T02:20:10Z")
        #expect(responder.call == CallKey("c2"))
        #expect(derivation.violations.isEmpty)
    }

    @Test("unanswered outbound attempts are counted while the callback stays pending")
    func attemptsCounted() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:05:00", until: "10:05:30")
        pbx.outbound("o2", by: "1002", at: "2026-11-26 10:10:00", until: "10:10:05", disposition: .busy)
        let callback = try #require(
            ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:15:00")).contacts.first?.callbacks.first)

        #expect(callback.state == .pending)
        #expect(callback.attempts == 2)
    }

    @Test("the max_attempts-th unanswered attempt makes the callback exhausted: supervisor review, no violation")
    func exhaustedAfterMaxAttempts() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:05:00", until: "10:05:30")
        pbx.outbound("o2", by: "1001", at: "2026-11-26 10:10:00", until: "10:10:30")
        pbx.outbound("o3", by: "1002", at: "2026-11-26 10:15:00", until: "10:15:30")
        // Well past the 10:30:40 deadline and the escalation steps.
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 16:00:00"))
        let callback = try #require(derivation.contacts.first?.callbacks.first)

        #expect(callback.state == .exhausted)
        #expect(callback.attempts == 3)
        #expect(callback.escalationLevel == 0)
        #expect(callback.satisfiedAt == nil)
        #expect(derivation.violations.isEmpty)
    }

    @Test("an outbound call to a number with no open matter attaches to nothing")
    func outboundWithoutContact() throws {
        let pbx = PBX()
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:05:00", answered: "10:05:10", until: "10:07:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))

        #expect(derivation.contacts.isEmpty)
        #expect(derivation.unattached == [CallKey("o1")])
    }
}

// MARK: - Rule 5: transfers and hand-offs

@Suite("Rule 5 — a transfer to another department is a hand-off")
struct TransferTests {
    @Test(
        "a warm transfer to another department's queue records a hand-off satisfied at once; the first responder stays")
    func warmTransferToQueue() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "repairs")
            .queue("repairs").answered(by: "1011", at: "09:03:20", until: "09:10:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:30:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T01:00:10Z")
        #expect(contact.department == service)
        #expect(contact.obligations.count == 1)
        let handoff = try #require(contact.handoffs.first)
        #expect(handoff.owner == Owner(department: repairs, agent: nil))
        #expect(handoff.state == .satisfied)
        #expect(handoff.satisfiedVia == .warmTransfer)
        #expect(handoff.satisfiedBy == agent("1011"))
        #expect(handoff.satisfiedAt?.iso8601 == "2026-11-26T01:03:20Z")
        #expect(handoff.acknowledgedAt?.iso8601 == "2026-11-26T01:03:20Z")
        #expect(contact.status == .handedOff)
        #expect(derivation.violations.isEmpty)
    }

    @Test("a later leg of the same call answered by another department's agent is a transfer to that agent (CDR only)")
    func implicitTransferToExtension() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "1021", writeQueueLog: false)
            .answered(by: "1021", at: "09:03:05", until: "09:08:00")
        let derivation = ScenarioKit.derive(
            pbx.records.filter { if case .leg = $0 { true } else { false } },
            clock: at("2026-11-26 09:30:00"))
        let contact = try #require(derivation.contacts.first)
        let handoff = try #require(contact.handoffs.first)

        #expect(contact.handoffs.count == 1)
        #expect(handoff.owner == Owner(department: billing, agent: agent("1021")))
        #expect(handoff.state == .satisfied)
        #expect(handoff.satisfiedVia == .warmTransfer)
        #expect(handoff.satisfiedBy == agent("1021"))
        #expect(handoff.satisfiedAt?.iso8601 == "2026-11-26T01:03:05Z")
        #expect(contact.firstResponder?.agent == agent("1001"))
    }

    /// 1001 answers at 09:00:10, blind-transfers to the repairs queue at 09:03:00; 1011 rings and
    /// does not answer; the caller gives up at 09:05:00 (call end).
    @discardableResult
    static func failedTransfer(_ pbx: PBX) -> InboundCall {
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "repairs")
            .queue("repairs").rings("1011", until: "09:03:20").abandons(at: "09:05:00")
    }

    @Test(
        "a transfer nobody answers leaves a pending hand-off owned by the receiving department, with acknowledge and contact clocks from the call's end"
    )
    func failedTransferPendingHandoff() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:06:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.firstResponder?.via == .inbound)
        // The abandon in the receiving queue creates no separate callback: the hand-off obliges the receiver.
        #expect(contact.obligations.count == 1)
        #expect(contact.callbacks.isEmpty)
        let handoff = try #require(contact.handoffs.first)
        #expect(handoff.owner == Owner(department: repairs, agent: nil))
        #expect(handoff.state == .pending)
        #expect(handoff.createdAt.iso8601 == "2026-11-26T01:05:00Z")
        #expect(handoff.ackDueAt?.iso8601 == "2026-11-26T01:15:00Z")
        #expect(handoff.dueAt.iso8601 == "2026-11-26T02:05:00Z")
        #expect(handoff.acknowledgedAt == nil)
        #expect(contact.status == .handedOff)
        #expect(contact.ringNoAnswer.contains(agent("1011")))
        #expect(derivation.violations.isEmpty)
    }

    @Test("a blind transfer to a numeric extension that leads into a queue hands off to the queue's department")
    func transferViaExtensionIntoQueue() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "8200")
            .queue("repairs").rings("1011", until: "09:03:20").abandons(at: "09:05:00")
        let handoff = try #require(
            ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:06:00")).contacts.first?.handoffs.first)

        #expect(handoff.owner == Owner(department: repairs, agent: nil))
        #expect(handoff.state == .pending)
    }

    @Test(
        "an answered outbound call from the receiving department acknowledges the hand-off and satisfies it via contacted"
    )
    func receiverCallsCustomer() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        pbx.outbound("o1", by: "1011", at: "2026-11-26 09:12:00", answered: "09:12:10", until: "09:15:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))
        let contact = try #require(derivation.contacts.first)
        let handoff = try #require(contact.handoffs.first)

        #expect(handoff.state == .satisfied)
        #expect(handoff.satisfiedVia == .contacted)
        #expect(handoff.satisfiedBy == agent("1011"))
        #expect(handoff.satisfiedAt?.iso8601 == "2026-11-26T01:12:10Z")
        #expect(handoff.acknowledgedAt?.iso8601 == "2026-11-26T01:12:10Z")
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(derivation.violations.isEmpty)
    }

    @Test("a failed transfer to an extension is a pending hand-off owed by that agent")
    func failedTransferToExtension() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "1011")
            .rings("1011", until: "09:03:30")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:20:00"))
        let handoff = try #require(derivation.contacts.first?.handoffs.first)

        #expect(handoff.owner == Owner(department: repairs, agent: agent("1011")))
        #expect(handoff.createdAt.iso8601 == "2026-11-26T01:03:30Z")
        #expect(handoff.ackDueAt?.iso8601 == "2026-11-26T01:13:30Z")
        #expect(handoff.dueAt.iso8601 == "2026-11-26T02:03:30Z")
        #expect(handoff.state == .breached)
        #expect(derivation.violations.count == 1)
        #expect(derivation.violations.first?.category == .handoffStalled)
        #expect(derivation.violations.first?.agent == agent("1011"))
        #expect(derivation.violations.first?.department == repairs)
        #expect(derivation.violations.first?.at.iso8601 == "2026-11-26T01:13:30Z")
    }

    @Test(
        "a receiver who reaches the customer after the acknowledge deadline satisfies the hand-off late, with one handoff_stalled at that deadline"
    )
    func receiverCallsAfterAckDeadline() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        pbx.outbound("o1", by: "1011", at: "2026-11-26 09:20:00", answered: "09:20:10", until: "09:25:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))
        let handoff = try #require(derivation.contacts.first?.handoffs.first)

        #expect(handoff.state == .satisfiedLate)
        #expect(handoff.satisfiedVia == .contacted)
        #expect(handoff.satisfiedBy == agent("1011"))
        #expect(handoff.satisfiedAt?.iso8601 == "2026-11-26T01:20:10Z")
        #expect(handoff.escalationLevel == 1)
        #expect(derivation.violationSummary == ["handoff_stalled@2026-11-26T01:15:00Z"])
    }

    @Test("an outbound call from outside the receiving department does not satisfy the hand-off")
    func nonReceiverDoesNotSatisfy() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        pbx.outbound("o1", by: "1002", at: "2026-11-26 09:08:00", answered: "09:08:10", until: "09:10:00")
        let handoff = try #require(
            ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:14:00")).contacts.first?.handoffs.first)

        #expect(handoff.state == .pending)
        #expect(handoff.acknowledgedAt == nil)
    }

    @Test(
        "a hand-off not acknowledged in handoff_ack_sla is breached once, handoff_stalled against the receiver at the acknowledge deadline"
    )
    func handoffStalled() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        // Past the acknowledge clock (09:15), before level 2 (09:45, escalate_after 30m on the 24/7 clock).
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:20:00"))
        let handoff = try #require(derivation.contacts.first?.handoffs.first)

        #expect(handoff.state == .breached)
        #expect(handoff.escalationLevel == 1)
        #expect(derivation.violations.count == 1)
        let violation = try #require(derivation.violations.first)
        #expect(violation.category == .handoffStalled)
        #expect(violation.department == repairs)
        #expect(violation.agent == nil)
        #expect(violation.at.iso8601 == "2026-11-26T01:15:00Z")
        #expect(violation.obligation == handoff.id)
    }

    @Test(
        "a stalled hand-off escalates on the receiver's 24/7 clock: level 2 after escalate_after, not_escalated against the receiving head after another escalate_after"
    )
    func handoffEscalation() throws {
        let pbx = PBX()
        Self.failedTransfer(pbx)
        // repairs: breach 09:15, level 2 at 09:45, not_escalated at 10:15 (escalate_after 30m, 24/7).
        let atLevelTwo = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:45:00"))
        #expect(atLevelTwo.contacts.first?.handoffs.first?.escalationLevel == 2)
        #expect(atLevelTwo.violationSummary == ["handoff_stalled@2026-11-26T01:15:00Z"])

        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:30:00"))
        #expect(
            derivation.violationSummary == [
                "handoff_stalled@2026-11-26T01:15:00Z", "not_escalated@2026-11-26T02:15:00Z",
            ])
        let neglect = try #require(derivation.violations.last)
        #expect(neglect.agent == agent("8003"))
        #expect(neglect.department == repairs)
        #expect(neglect.obligation == derivation.contacts.first?.handoffs.first?.id)
    }

    @Test("a transfer within the same department is no hand-off")
    func sameDepartmentTransfer() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:03:00", transferTo: "1002")
            .answered(by: "1002", at: "09:03:10", until: "09:08:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 12:00:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(contact.obligations.isEmpty)
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.status == .open)
        #expect(derivation.violations.isEmpty)
    }

    @Test("a ring-all answer is not a transfer: only the agent who answered counts")
    func ringAllIsNotATransfer() throws {
        let pbx = PBX()
        // The queue rings 1011 (repairs, also a hotline member) and 1001 together; 1001 answers.
        pbx.inbound("r1", at: "2026-11-26 09:00:00").queue("hotline")
            .rings("1011", from: "09:00:00", until: "09:00:08")
            .answered(by: "1001", at: "09:00:08", until: "09:06:00", ringingFrom: "09:00:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:30:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(contact.obligations.isEmpty)
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(contact.ringNoAnswer == [agent("1011")])
    }

    @Test("a transfer back to a department the contact already left is passed_around against the agent who made it")
    func transferBackIsPassedAround() throws {
        let pbx = PBX()
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:02:00", transferTo: "repairs")
            .queue("repairs").answered(by: "1011", at: "09:02:10", until: "09:04:00", transferTo: "1002")
            .answered(by: "1002", at: "09:04:10", until: "09:08:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:30:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(
            contact.handoffs.map(\.owner) == [
                Owner(department: repairs, agent: nil), Owner(department: service, agent: agent("1002")),
            ])
        #expect(contact.handoffs.map(\.state) == [.satisfied, .satisfied])
        #expect(contact.handoffs.map(\.satisfiedBy) == [agent("1011"), agent("1002")])
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(derivation.violations.count == 1)
        let violation = try #require(derivation.violations.first)
        #expect(violation.category == .passedAround)
        #expect(violation.agent == agent("1011"))
        #expect(violation.department == repairs)
        #expect(violation.at.iso8601 == "2026-11-26T01:04:00Z")
        #expect(violation.obligation == nil)
    }

    /// service 1001 → repairs 1011 → billing 1021: two transfers to other departments, none back.
    static func chainOfTwo(_ pbx: PBX) {
        pbx.inbound("t1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:02:00", transferTo: "repairs")
            .queue("repairs").answered(by: "1011", at: "09:02:10", until: "09:04:00", transferTo: "billing")
            .queue("billing").answered(by: "1021", at: "09:04:10", until: "09:09:00")
    }

    @Test("max_transfers transfers to other departments are allowed: two warm hand-offs, no violation")
    func chainWithinMaxTransfers() throws {
        let pbx = PBX()
        Self.chainOfTwo(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:30:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(
            contact.handoffs.map(\.owner) == [
                Owner(department: repairs, agent: nil), Owner(department: billing, agent: nil),
            ])
        #expect(contact.handoffs.map(\.satisfiedVia) == [.warmTransfer, .warmTransfer])
        #expect(contact.handoffs.map { $0.satisfiedAt?.iso8601 } == ["2026-11-26T01:02:10Z", "2026-11-26T01:04:10Z"])
        #expect(contact.firstResponder?.agent == agent("1001"))
        #expect(derivation.violations.isEmpty)
    }

    @Test("a transfer beyond max_transfers is passed_around against the agent who made the excess transfer")
    func beyondMaxTransfers() throws {
        let pbx = PBX()
        Self.chainOfTwo(pbx)
        let directory = ScenarioKit.directory { $0.maxTransfers = 1 }
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:30:00"), directory: directory)

        #expect(derivation.violations.count == 1)
        let violation = try #require(derivation.violations.first)
        #expect(violation.category == .passedAround)
        #expect(violation.agent == agent("1011"))
        #expect(violation.department == repairs)
        #expect(violation.at.iso8601 == "2026-11-26T01:04:00Z")
        #expect(derivation.contacts.first?.handoffs.count == 2)
    }
}

// MARK: - Rule 6: breach and escalation

@Suite("Rule 6 — unsatisfied obligations breach and escalate")
struct BreachAndEscalationTests {
    struct Step: Sendable, CustomTestStringConvertible {
        let clock: String
        let state: ObligationState
        let level: Int
        let violations: [String]
        var testDescription: String { "at \(clock): \(state.rawValue), level \(level)" }
    }

    // Missed at 10:00:40 → due 10:30:40 (02:30:40Z); level 2 at +1h business = 11:30:40;
    // not_escalated at +1h business more = 29m20s before noon + 30m40s after 14:00 = 14:30:40 (06:30:40Z).
    @Test(
        "a missed callback breaches at its due time (level 1), reaches level 2 after escalate_after, and is not_escalated after another escalate_after",
        arguments: [
            Step(clock: "2026-11-26 10:30:39", state: .pending, level: 0, violations: []),
            Step(
                clock: "2026-11-26 10:30:40", state: .breached, level: 1,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z"]),
            Step(
                clock: "2026-11-26 11:30:39", state: .breached, level: 1,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z"]),
            Step(
                clock: "2026-11-26 11:30:40", state: .breached, level: 2,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z"]),
            Step(
                clock: "2026-11-26 14:30:39", state: .breached, level: 2,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z"]),
            Step(
                clock: "2026-11-26 14:30:40", state: .breached, level: 2,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z", "not_escalated@2026-11-26T06:30:40Z"]),
            Step(
                clock: "2026-11-27 16:00:00", state: .breached, level: 2,
                violations: ["not_handled_in_time@2026-11-26T02:30:40Z", "not_escalated@2026-11-26T06:30:40Z"]),
        ])
    func escalationLadder(_ step: Step) throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at(step.clock))
        let callback = try #require(derivation.contacts.first?.callbacks.first)

        #expect(callback.state == step.state)
        #expect(callback.escalationLevel == step.level)
        #expect(derivation.violationSummary == step.violations)
    }

    @Test("the breach is against the owning department; not_escalated is against the department's head")
    func accountability() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 15:00:00"))
        let callback = try #require(derivation.contacts.first?.callbacks.first)

        #expect(derivation.violations.count == 2)
        let breach = try #require(derivation.violations.first)
        #expect(breach.category == .notHandledInTime)
        #expect(breach.department == service)
        #expect(breach.agent == nil)
        #expect(breach.obligation == callback.id)
        let neglect = try #require(derivation.violations.last)
        #expect(neglect.category == .notEscalated)
        #expect(neglect.department == service)
        #expect(neglect.agent == agent("8001"))
        #expect(neglect.at.iso8601 == "2026-11-26T06:30:40Z")
    }

    @Test("a callback satisfied late after reaching level 2 keeps level 2 and gets no not_escalated")
    func lateAfterLevelTwo() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 11:40:00", answered: "11:40:10", until: "11:45:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 17:00:00"))
        let callback = try #require(derivation.contacts.first?.callbacks.first)

        #expect(callback.state == .satisfiedLate)
        #expect(callback.escalationLevel == 2)
        #expect(derivation.violationSummary == ["not_handled_in_time@2026-11-26T02:30:40Z"])
    }

    struct RiskCase: Sendable, CustomTestStringConvertible {
        let enter: String
        let hangUp: String
        let clock: String
        let atRisk: Bool
        var testDescription: String { "missed at \(hangUp), at \(clock): \(atRisk ? "at risk" : "not yet")" }
    }

    // 80 % of 30m = 24 business minutes: 10:00:40 → 10:24:40; 11:50 → 10m before noon + 14m → 14:14.
    @Test(
        "a pending callback is flagged at_risk at 80 % of its SLA in business time",
        arguments: [
            RiskCase(enter: "2026-11-26 10:00:00", hangUp: "10:00:40", clock: "2026-11-26 10:24:39", atRisk: false),
            RiskCase(enter: "2026-11-26 10:00:00", hangUp: "10:00:40", clock: "2026-11-26 10:24:40", atRisk: true),
            RiskCase(enter: "2026-11-26 11:49:20", hangUp: "11:50:00", clock: "2026-11-26 13:59:00", atRisk: false),
            RiskCase(enter: "2026-11-26 11:49:20", hangUp: "11:50:00", clock: "2026-11-26 14:13:59", atRisk: false),
            RiskCase(enter: "2026-11-26 11:49:20", hangUp: "11:50:00", clock: "2026-11-26 14:14:00", atRisk: true),
        ])
    func atRisk(_ row: RiskCase) throws {
        let pbx = PBX()
        pbx.inbound("m1", at: row.enter).queue("hotline").abandons(at: row.hangUp)
        let callback = try #require(
            ScenarioKit.derive(pbx.records, clock: at(row.clock)).contacts.first?.callbacks.first)

        #expect(callback.state == .pending)
        #expect(callback.atRisk == row.atRisk)
    }

    @Test("an obligation satisfied in time is never flagged at risk afterwards")
    func satisfiedIsNotAtRisk() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:05:00", answered: "10:05:10", until: "10:07:00")
        let callback = try #require(
            ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:29:00")).contacts.first?.callbacks.first)

        #expect(callback.state == .satisfied)
        #expect(callback.atRisk == false)
    }
}

// MARK: - Rule 7: explainable

@Suite("Rule 7 — every binding and obligation keeps its records and rule")
struct ExplainableTests {
    @Test(
        "the first-responder binding is explained by an entry at bound_at citing the call and the source positions of its records"
    )
    func bindingIsExplained() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 09:10:00")).contacts.first)
        let positions = Set(pbx.records.map(\.position))

        let entry = contact.why.first { $0.at == at("2026-11-26 09:00:20") && $0.call == CallKey("c1") }
        let binding = try #require(entry)
        #expect(binding.rule == .bindFirstResponder)
        #expect(Set(binding.evidence) == positions)
        #expect(binding.evidence.contains { $0.source == PBX.cdrFile })
        #expect(binding.evidence.contains { $0.source == PBX.queueLogFile })
    }

    @Test("the callback and its breach are explained, the breach at the instant the clock ran out")
    func breachIsExplained() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:45:00")).contacts.first)

        let created = contact.why.filter { $0.call == CallKey("m1") && !$0.evidence.isEmpty }
        #expect(!created.isEmpty)
        #expect(contact.why.contains { $0.at.iso8601 == "2026-11-26T02:30:40Z" && $0.rule == .breach })
    }
}

// MARK: - Rule 8: late data

@Suite("Rule 8 — a late record re-derives the customer")
struct LateDataTests {
    @Test("a callback record that arrives late disproves the breach derived without it")
    func lateRecordReversesBreach() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let before = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))
        #expect(before.contacts.first?.callbacks.first?.state == .breached)
        #expect(before.violationSummary == ["not_handled_in_time@2026-11-26T02:30:40Z"])

        pbx.outbound("o1", by: "1002", at: "2026-11-26 10:15:00", answered: "10:15:12", until: "10:18:00")
        let after = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))
        #expect(after.contacts.first?.callbacks.first?.state == .satisfied)
        #expect(after.contacts.first?.callbacks.first?.satisfiedAt?.iso8601 == "2026-11-26T02:15:12Z")
        #expect(after.violations.isEmpty)
    }

    @Test("a late leg of a call that turns a miss into an answer removes the callback")
    func lateLegTurnsMissIntoAnswer() throws {
        let pbx = PBX()
        let call = pbx.inbound("c1", at: "2026-11-26 10:00:00").queue("hotline")
        call.rings("1002", until: "10:00:15")
        let withoutAnswer = pbx.records
        call.answered(by: "1001", at: "10:00:20", until: "10:06:00")

        let early = ScenarioKit.derive(withoutAnswer, clock: at("2026-11-26 10:05:00"))
        #expect(early.contacts.first?.callbacks.count == 1)
        let late = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 11:00:00"))
        #expect(late.contacts.first?.obligations.isEmpty == true)
        #expect(late.contacts.first?.firstResponder?.agent == agent("1001"))
        #expect(late.violations.isEmpty)
    }
}

// MARK: - Rule 9: auto-close and repeat_of (manual resolve/refer is not in the engine yet)

@Suite("Rule 9 — contacts close after auto_close; a call within repeat_window is a repeat")
struct AutoCloseAndRepeatTests {
    @Test(
        "a contact with no pending obligation closes auto_close (24 h) after its last activity",
        arguments: [("2026-11-27 09:04:59", ContactStatus.open), ("2026-11-27 09:05:00", ContactStatus.closed)])
    func autoClose(clock: String, status: ContactStatus) throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        let contact = try #require(ScenarioKit.derive(pbx.records, clock: at(clock)).contacts.first)
        #expect(contact.status == status)
    }

    @Test("a satisfied callback's contact closes 24 h after the callback call, its last activity")
    func autoCloseCountsOutboundActivity() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.outbound("o1", by: "1001", at: "2026-11-26 10:15:00", answered: "10:15:12", until: "10:18:00")
        #expect(ScenarioKit.derive(pbx.records, clock: at("2026-11-27 10:17:59")).contacts.first?.status == .open)
        #expect(ScenarioKit.derive(pbx.records, clock: at("2026-11-27 10:18:00")).contacts.first?.status == .closed)
    }

    @Test("a pending or breached obligation keeps the contact open however long it waits")
    func outstandingObligationBlocksClose() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-29 12:00:00"))
        let contact = try #require(derivation.contacts.first)
        #expect(contact.status == .awaitingCallback)
        #expect(contact.callbacks.first?.state == .breached)
    }

    @Test(
        "a customer who gets through days later attaches to the still-open contact and satisfies the breached callback late"
    )
    func customerGetsThroughDaysLater() throws {
        let pbx = PBX()
        missedHotlineCall(pbx)
        pbx.inbound("c2", at: "2026-11-28 10:00:00").queue("hotline").answered(
            by: "1002", at: "10:00:30", until: "10:05:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-28 11:00:00"))

        #expect(derivation.contacts.count == 1)
        let callback = try #require(derivation.contacts.first?.callbacks.first)
        #expect(callback.state == .satisfiedLate)
        #expect(callback.satisfiedVia == .customerCalledBack)
        #expect(callback.satisfiedBy == agent("1002"))
        #expect(derivation.contacts.first?.firstResponder?.via == .inbound)
        // Reached level 2 at 11:30:40 and stayed unsatisfied another escalate_after (until 14:30:40).
        #expect(
            derivation.violationSummary == [
                "not_handled_in_time@2026-11-26T02:30:40Z", "not_escalated@2026-11-26T06:30:40Z",
            ])
    }

    struct RepeatCase: Sendable, CustomTestStringConvertible {
        let second: String
        let answer: String
        let end: String
        let contacts: Int
        let repeatOfFirst: Bool
        let note: String
        var testDescription: String { self.note }
    }

    // First contact: call 09:00–09:05 Thursday → closed Friday 09:05:00; repeat window ends Monday 09:05:00.
    @Test(
        "a call after the number's last contact closed opens a new contact, marked repeat_of within repeat_window",
        arguments: [
            RepeatCase(
                second: "2026-11-26 20:00:00", answer: "20:00:20", end: "20:05:00", contacts: 1, repeatOfFirst: false,
                note: "same evening: attaches"),
            RepeatCase(
                second: "2026-11-28 10:00:00", answer: "10:00:20", end: "10:05:00", contacts: 2, repeatOfFirst: true,
                note: "Saturday: repeat of the closed contact"),
            RepeatCase(
                second: "2026-11-30 09:04:00", answer: "09:04:20", end: "09:08:00", contacts: 2, repeatOfFirst: true,
                note: "71 h 59 m after closing: repeat"),
            RepeatCase(
                second: "2026-11-30 09:10:00", answer: "09:10:20", end: "09:15:00", contacts: 2, repeatOfFirst: false,
                note: "over 72 h after closing: new, no repeat_of"),
        ])
    func repeatOf(_ row: RepeatCase) throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1001", at: "09:00:20", until: "09:05:00")
        pbx.inbound("c2", at: row.second).queue("hotline")
            .answered(by: "1002", at: row.answer, until: row.end)
        let derivation = ScenarioKit.derive(pbx.records, clock: at(row.second))

        #expect(derivation.contacts.count == row.contacts)
        let first = try #require(derivation.contacts.first)
        if row.contacts == 2 {
            let second = try #require(derivation.contacts.last)
            #expect(first.status == .closed)
            #expect(first.calls == [CallKey("c1")])
            #expect(second.calls == [CallKey("c2")])
            #expect(second.repeatOf == (row.repeatOfFirst ? first.id : nil))
            #expect(second.firstResponder?.agent == agent("1002"))
            #expect(second.id != first.id)
        } else {
            #expect(first.calls == [CallKey("c1"), CallKey("c2")])
            #expect(first.repeatOf == nil)
        }
    }
}

// MARK: - POLICY §5 #2: not handed over

@Suite("POLICY §5 — answering another department's contact and keeping it is not_handed_over")
struct NotHandedOverTests {
    @Test(
        "a first responder from another department who neither hands off nor resolves within the routed department's handoff_sla is not_handed_over",
        arguments: [("2026-11-26 11:04:59", false), ("2026-11-26 11:05:00", true)])
    func notHandedOver(clock: String, violated: Bool) throws {
        let pbx = PBX()
        // The hotline (service) queue overflows to 1011 (repairs). Deadline: 09:05 + 2h service business time = 11:05.
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline").answered(
            by: "1011", at: "09:00:10", until: "09:05:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at(clock))

        if violated {
            #expect(derivation.violations.count == 1)
            let violation = try #require(derivation.violations.first)
            #expect(violation.category == .notHandedOver)
            #expect(violation.agent == agent("1011"))
            #expect(violation.department == repairs)
            #expect(violation.at.iso8601 == "2026-11-26T03:05:00Z")
            #expect(violation.obligation == nil)
        } else {
            #expect(derivation.violations.isEmpty)
        }
    }

    @Test("handing the contact off to its routed department in time is no violation")
    func handedOffInTime() throws {
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1011", at: "09:00:10", until: "09:02:00", transferTo: "hotline")
            .queue("hotline").answered(by: "1001", at: "09:02:10", until: "09:06:00")
        let derivation = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 16:00:00"))

        #expect(derivation.contacts.first?.handoffs.first?.owner == Owner(department: service, agent: nil))
        #expect(derivation.violations.isEmpty)
    }
}
