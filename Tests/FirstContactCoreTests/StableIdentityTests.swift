import Testing

@testable import FirstContactCore

// Issue 12 §4, §7, §8: an obligation keeps its id whatever arrives later; people's actions in the
// same second all take effect, in the order they were stored; a withheld call is its own matter
// whose clocks run; a walk-in who is not a number is nobody else's matter. Times as in ScenarioKit
// (+08:00; repairs 24/7, hand-off acknowledge 10 min / contact 1 h).

private func calls(_ pbx: PBX) -> [Call] {
    ScenarioKit.calls(from: pbx.records).filter { $0.customerKey == ScenarioKit.customerKey }
}

private func derive(_ calls: [Call], _ actions: [ManualAction] = [], clock: String) -> Derivation {
    Correlator(directory: ScenarioKit.directory).derive(
        customerKey: ScenarioKit.customerKey, calls: calls, actions: actions, clock: at(clock))
}

@Suite(
    "Identity — obligation ids never change, same-second actions are not lost, withheld and unnamed customers stand alone"
)
struct StableIdentityTests {
    @Test(
        "obligation ids never change: an earlier call arriving last leaves every id, and the acknowledgement made before it, where they were"
    )
    func obligationIDsNeverChange() throws {
        // 09:00 the customer is answered by 1001 and transferred to repairs, where nobody answers.
        let late = PBX()
        late.inbound("e1", at: "2026-11-26 08:40:00").queue("hotline")
            .answered(by: "1001", at: "08:40:10", until: "08:42:00", transferTo: "repairs")
            .queue("repairs").rings("1011", until: "08:42:20").abandons(at: "08:44:00")
        let first = PBX()
        first.inbound("b1", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1002", at: "09:00:10", until: "09:02:00", transferTo: "repairs")
            .queue("repairs").rings("1011", until: "09:02:20").abandons(at: "09:04:00")

        let before = derive(calls(first), clock: "2026-11-26 09:06:00")
        let handoff = try #require(before.contacts.first?.obligations.first)
        #expect(handoff.kind == .handoff)
        let ack = ManualAction.acknowledgement(of: handoff.id, by: AgentID("1011"), at: at("2026-11-26 09:08:00"))

        // The earlier call (its own transfer to repairs) arrives last, after the acknowledgement.
        let inOrder = derive(calls(late) + calls(first), [ack], clock: "2026-11-26 12:00:00")
        let lateLast = derive(calls(first) + calls(late), [ack], clock: "2026-11-26 12:00:00")
        let ids = inOrder.contacts.flatMap { $0.obligations.map(\.id) }
        #expect(ids.count == 2)
        #expect(ids == lateLast.contacts.flatMap { $0.obligations.map(\.id) })
        #expect(inOrder.violations.map(\.id) == lateLast.violations.map(\.id))
        let after = try #require(lateLast.contacts.flatMap(\.obligations).first { $0.id == handoff.id })
        #expect(after.call == handoff.call)
        #expect(after.acknowledgedAt == at("2026-11-26 09:08:00"))
        let earlier = try #require(lateLast.contacts.flatMap(\.obligations).first { $0.id != handoff.id })
        #expect(earlier.acknowledgedAt == nil)
        #expect(!ids.contains { $0.rawValue.hasPrefix("C") })
    }

    @Test("the same customer, kind, time and department always give the same id; any of them changed gives another")
    func derivedIDs() {
        let time = at("2026-11-26 09:00:00")
        let id = ObligationID.derived(
            customerKey: "+8613812345678", kind: .handoff, createdAt: time, to: ScenarioKit.repairs)
        #expect(
            id
                == ObligationID.derived(
                    customerKey: "+8613812345678", kind: .handoff, createdAt: time, to: ScenarioKit.repairs))
        #expect(id.rawValue.hasPrefix("ho-"))
        let others: Set<ObligationID> = [
            ObligationID.derived(
                customerKey: "+8613812345679", kind: .handoff, createdAt: time, to: ScenarioKit.repairs),
            ObligationID.derived(customerKey: "+8613812345678", kind: .callback, createdAt: time),
            ObligationID.derived(
                customerKey: "+8613812345678", kind: .handoff, createdAt: time + 1, to: ScenarioKit.repairs),
            ObligationID.derived(
                customerKey: "+8613812345678", kind: .handoff, createdAt: time, to: ScenarioKit.billing),
            ObligationID.derived(
                customerKey: "+8613812345678", kind: .handoff, createdAt: time, to: ScenarioKit.repairs, ordinal: 2),
        ]
        #expect(others.count == 5)
        #expect(!others.contains(id))
    }

    @Test(
        "people's actions in the same second are not lost: every kind posted in the opening's second applies, in the order stored"
    )
    func sameSecondActions() throws {
        let time = "2026-11-26 10:00:00"
        let visit = ManualContact(
            channel: .visit, customer: .e164(ScenarioKit.customerKey), customerRaw: ScenarioKit.customer,
            department: nil,
            category: .service, matter: "水表漏水")
        let contact = ContactID.derived(customerKey: ScenarioKit.customerKey, openedAt: at(time))
        let owner = Owner(department: ScenarioKit.repairs, agent: nil)
        let handoffID = ObligationID.derived(
            customerKey: ScenarioKit.customerKey, kind: .handoff, createdAt: at(time), to: ScenarioKit.repairs)
        let registration = HandoffRegistration(
            unit: "-", name: "王先生", phone: ScenarioKit.customer, matter: "m", place: "-")
        let kinds: [ManualAction.Kind] = [
            .open(visit),
            .note(contact: contact, text: "到访登记"),
            .handoff(contact: contact, to: owner, registration: registration),
            .acknowledge(obligation: handoffID),
            .reassign(contact: contact, to: AgentID("1002"), reason: "接手"),
            .complaint(contact: contact, text: "态度"),
            .poorService(contact: contact, agent: AgentID("1001"), text: "冷淡"),
            .referOut(contact: contact, body: "燃气公司", told: "请拨打燃气热线"),
        ]
        // Ids sort against the order stored: ordering by id (or kind) would apply the visit last.
        let actions = kinds.enumerated().map { index, kind in
            ManualAction(
                id: "\(9 - index)", at: at(time), agent: AgentID("1001"), kind: kind, sequence: Int64(index + 1))
        }
        let derivation = derive([], actions, clock: "2026-11-26 10:30:00")
        let opened = try #require(derivation.contacts.first)
        #expect(derivation.contacts.count == 1)
        #expect(opened.id == contact)
        #expect(opened.why.contains { $0.rule == .note })
        let handoff = try #require(opened.obligations.first)
        #expect(handoff.id == handoffID)
        #expect(handoff.acknowledgedAt == at(time))
        #expect(handoff.state == .cancelled)  // referred out, in the same second, after the hand-off
        #expect(opened.firstResponder?.agent == AgentID("1002"))
        #expect(opened.firstResponder?.via == .reassigned)
        #expect(Set(derivation.violations.map(\.category)) == [.complaint, .poorService])
        #expect(opened.status == .referredOut)
        #expect(!opened.why.contains { $0.rule == .actionOnClosedContact })
    }

    @Test(
        "a withheld caller's answered call with a failed transfer: the hand-off breaches and the contact is not open for ever"
    )
    func withheldHandoffBreaches() throws {
        let pbx = PBX()
        pbx.inbound("w1", from: "anonymous", at: "2026-11-26 09:00:00").queue("hotline")
            .answered(by: "1001", at: "09:00:10", until: "09:02:00", transferTo: "repairs")
            .queue("repairs").rings("1011", until: "09:02:20").abandons(at: "09:04:00")
        pbx.inbound("w2", from: "anonymous", at: "2026-11-26 09:30:00").queue("hotline").abandons(at: "09:31:00")
        let all = ScenarioKit.deriveAll(ScenarioKit.calls(from: pbx.records), clock: at("2026-11-30 12:00:00"))
        let transferred = try #require(all["withheld:w1"])
        let handoff = try #require(transferred.contacts.first?.obligations.first)
        #expect(handoff.kind == .handoff)
        #expect(handoff.state == .breached)
        #expect(transferred.violations.map(\.category).contains(.handoffStalled))
        // Each withheld call is its own matter: the missed one owes nothing and auto-closes.
        let missed = try #require(all["withheld:w2"]?.contacts.first)
        #expect(missed.obligations.isEmpty)
        #expect(missed.status == .closed)
    }

    @Test("a visit or letter from a customer who is not a number is its own customer, never merged with another")
    func unnamedWalkInsStandAlone() {
        func open(_ id: String, _ raw: String, _ customer: CustomerNumber) -> ManualAction {
            ManualAction(
                id: id, at: at("2026-11-26 10:00:00"), agent: AgentID("1001"),
                kind: .open(
                    ManualContact(
                        channel: .visit, customer: customer, customerRaw: raw, department: nil, category: nil,
                        matter: "m")))
        }
        let alice = open("v1", "alice", .other("alice"))
        let alice2 = open("v2", "alice", .other("alice"))
        let desk = open("v3", "前台来访", .other("前台来访"))
        let none = open("v4", "", .withheld)
        let keys = [alice, alice2, desk, none].compactMap(\.customerKey)
        #expect(keys.count == 4)
        #expect(Set(keys).count == 4)
        #expect(keys.allSatisfy { $0.hasPrefix("walk-in:") })
        #expect(alice.customerKey == open("v1", "alice", .other("alice")).customerKey)
        // Numbers still share the customer's key with their calls.
        #expect(open("v5", "13812345678", .e164(ScenarioKit.customerKey)).customerKey == ScenarioKit.customerKey)
        #expect(open("v6", "96116", .other("96116")).customerKey == "96116")
    }
}
