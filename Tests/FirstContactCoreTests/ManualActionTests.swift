import Testing

@testable import FirstContactCore

// SPEC rule 9 and POLICY arts. 8–21: what people record about a contact is an input to
// correlation, replayed in time order with the calls. Times as in ScenarioKit: 2026-11-26 is a
// Thursday, office hours 08:30-12:00 / 14:00-17:30 at +08:00; service callback SLA 30 min;
// repairs (24/7) hand-off ack 10 min / contact 1 h.

private func derive(_ pbx: PBX, _ actions: [ManualAction], clock: String) -> Derivation {
    let calls = ScenarioKit.calls(from: pbx.records).filter { $0.customerKey == ScenarioKit.customerKey }
    return Correlator(directory: ScenarioKit.directory).derive(
        customerKey: ScenarioKit.customerKey, calls: calls, actions: actions, clock: at(clock))
}

private func action(_ id: String, _ time: String, by agent: String, _ kind: ManualAction.Kind) -> ManualAction {
    ManualAction(id: id, at: at(time), agent: AgentID(agent), kind: kind)
}

/// 09:00 the customer's hotline call is answered by 张敏 (1001) until 09:05.
private func answeredCall() -> PBX {
    let pbx = PBX()
    pbx.inbound("a1", at: "2026-11-26 09:00:00").queue("hotline").answered(
        by: "1001", at: "09:00:20", until: "09:05:00")
    return pbx
}

/// 10:00 the customer's hotline call is missed: callback due 10:30:40.
private func missedCall() -> PBX {
    let pbx = PBX()
    pbx.inbound("m1", at: "2026-11-26 10:00:00").queue("hotline").rings("1001", until: "10:00:15").abandons(
        at: "10:00:40")
    return pbx
}

@Suite("Rule 9 — people resolve, refer out, hand off, note; supervisors reassign and record complaints")
struct ManualActionTests {
    @Test(
        "resolving cancels the pending callback: no breach after its deadline, status resolved, and a call within repeat_window is a repeat"
    )
    func resolveCancelsPendingCallback() throws {
        let pbx = missedCall()
        let contactID = try #require(derive(pbx, [], clock: "2026-11-26 10:05:00").contacts.first?.id)
        let resolve = action("r1", "2026-11-26 10:10:00", by: "1001", .resolve(contact: contactID, note: "问题已在电话中解答"))
        pbx.inbound("c2", at: "2026-11-26 15:00:00").queue("hotline").answered(
            by: "1002", at: "15:00:10", until: "15:02:00")

        let derivation = derive(pbx, [resolve], clock: "2026-11-26 16:00:00")
        #expect(derivation.contacts.count == 2)
        let first = try #require(derivation.contacts.first)
        #expect(first.status == .resolved)
        #expect(first.resolution?.by == AgentID("1001"))
        #expect(first.obligations.map(\.state) == [.cancelled])
        #expect(derivation.violations.isEmpty)
        #expect(first.why.contains { $0.rule == .obligationCancelled })
        #expect(derivation.contacts[1].repeatOf == contactID)
    }

    @Test("referring out records the outside body and what the customer was told")
    func referOut() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let refer = action(
            "x1", "2026-11-26 09:06:00", by: "1001", .referOut(contact: id, body: "燃气公司", told: "请拨打燃气公司热线"))
        let contact = try #require(derive(pbx, [refer], clock: "2026-11-26 09:30:00").contacts.first)
        #expect(contact.status == .referredOut)
        #expect(contact.resolution?.kind == .referredOut)
        #expect(contact.resolution?.referredTo == "燃气公司")
        #expect(contact.resolution?.note == "请拨打燃气公司热线")
    }

    @Test(
        "a hand-off registered by hand runs both clocks from the registration and breaches against the receiver when nobody acknowledges"
    )
    func handoffByHand() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let registration = HandoffRegistration(
            unit: "幸福小区物业", name: "王先生", phone: "13812345678", matter: "楼道水管漏水", place: "抢修中心二楼")
        let handoff = action(
            "h1", "2026-11-26 09:10:00", by: "1001",
            .handoff(contact: id, to: Owner(department: ScenarioKit.repairs, agent: nil), registration: registration))

        let pending = try #require(derive(pbx, [handoff], clock: "2026-11-26 09:15:00").contacts.first)
        let obligation = try #require(pending.obligations.first)
        #expect(obligation.kind == .handoff)
        #expect(obligation.state == .pending)
        #expect(obligation.registration == registration)
        #expect(obligation.ackDueAt?.iso8601 == "2026-11-26T01:20:00Z")
        #expect(obligation.dueAt.iso8601 == "2026-11-26T02:10:00Z")
        #expect(pending.status == .handedOff)
        #expect(pending.firstResponder?.agent == AgentID("1001"))

        let late = derive(pbx, [handoff], clock: "2026-11-26 09:25:00")
        #expect(late.contacts.first?.obligations.first?.state == .breached)
        #expect(late.violations.map(\.category) == [.handoffStalled])
        #expect(late.violations.first?.department == ScenarioKit.repairs)
        #expect(late.violations.first?.at.iso8601 == "2026-11-26T01:20:00Z")
    }

    @Test("a supervisor's reassignment replaces the first responder via reassigned, with the reason in the trail")
    func reassign() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let reassign = action(
            "s1", "2026-11-26 09:30:00", by: "lin-supervisor",
            .reassign(contact: id, to: AgentID("1002"), reason: "张敏休假"))
        let contact = try #require(derive(pbx, [reassign], clock: "2026-11-26 09:40:00").contacts.first)
        #expect(contact.firstResponder?.agent == AgentID("1002"))
        #expect(contact.firstResponder?.via == .reassigned)
        #expect(contact.firstResponder?.boundAt.iso8601 == "2026-11-26T01:30:00Z")
        #expect(
            contact.why.contains {
                $0.rule == .reassigned && $0.message.contains("张敏休假") && $0.message.contains("instead of agent 1001")
            })
    }

    @Test(
        "a complaint is a violation report against the first responder; poor service is recorded against the named agent"
    )
    func complaintAndPoorService() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let complaint = action(
            "k1", "2026-11-26 11:00:00", by: "lin-supervisor", .complaint(contact: id, text: "客户投诉态度冷淡"))
        let poor = action(
            "p1", "2026-11-26 11:05:00", by: "lin-supervisor",
            .poorService(contact: id, agent: AgentID("1001"), text: "未告知所需材料"))
        let derivation = derive(pbx, [complaint, poor], clock: "2026-11-26 12:00:00")
        #expect(derivation.violations.map(\.category) == [.complaint, .poorService])
        #expect(derivation.violations.map(\.agent) == [AgentID("1001"), AgentID("1001")])
        #expect(derivation.violations.map(\.department) == [ScenarioKit.service, ScenarioKit.service])
        #expect(derivation.violations.allSatisfy { $0.obligation == nil && $0.contact == id })
        #expect(Set(derivation.violations.map(\.id)).count == 2)
    }

    @Test(
        "a visit opens a contact with the receiving agent as first responder (via manual); the customer's later call attaches to it"
    )
    func visitOpensContact() throws {
        let visit = ManualContact(
            channel: .visit, customer: .e164(ScenarioKit.customerKey), customerRaw: "13812345678", department: nil,
            category: .consultation, matter: "咨询阶梯水价")
        let pbx = PBX()
        pbx.inbound("c1", at: "2026-11-26 10:00:00").queue("hotline").answered(
            by: "1002", at: "10:00:10", until: "10:03:00")
        let derivation = derive(
            pbx, [action("v1", "2026-11-26 09:00:00", by: "1021", .open(visit))], clock: "2026-11-26 10:05:00")
        #expect(derivation.contacts.count == 1)
        let contact = try #require(derivation.contacts.first)
        #expect(contact.channel == .visit)
        #expect(contact.category == .consultation)
        #expect(contact.department == ScenarioKit.billing)  // the receiving agent's department
        #expect(contact.firstResponder?.agent == AgentID("1021"))
        #expect(contact.firstResponder?.via == .manual)
        #expect(contact.calls == [CallKey("c1")])
    }

    @Test("a note is activity: it postpones auto-close")
    func noteIsActivity() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let note = action("n1", "2026-11-27 08:00:00", by: "1001", .note(contact: id, text: "已约定明天上门"))
        #expect(derive(pbx, [], clock: "2026-11-27 10:00:00").contacts.first?.status == .closed)
        let noted = try #require(derive(pbx, [note], clock: "2026-11-27 10:00:00").contacts.first)
        #expect(noted.status == .open)
        #expect(noted.why.contains { $0.rule == .note && $0.message.contains("已约定明天上门") })
    }

    @Test("resolving a contact that had already closed is kept in the trail but changes nothing")
    func resolveAfterClose() throws {
        let pbx = answeredCall()
        let id = try #require(derive(pbx, [], clock: "2026-11-26 09:06:00").contacts.first?.id)
        let resolve = action("r1", "2026-11-28 09:00:00", by: "1001", .resolve(contact: id, note: "done"))
        let contact = try #require(derive(pbx, [resolve], clock: "2026-11-28 10:00:00").contacts.first)
        #expect(contact.status == .closed)
        #expect(contact.resolution == nil)
        #expect(contact.why.contains { $0.rule == .actionOnClosedContact })
    }
}
