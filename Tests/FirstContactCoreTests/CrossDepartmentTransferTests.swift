import Testing

@testable import FirstContactCore

// SPEC rule 5 on the set-ups where the caller's CDR row does not name where the caller went:
// after an attended transfer Asterisk leaves `lastapp=Queue`, `lastdata=<the first queue>,…` on
// the caller's row and only `dstchannel` names the receiving agent. The receiving side is that
// agent's department in the directory. Test configuration (ScenarioKit): service 1001/1002
// (queue hotline), billing 1021 (queue billing), repairs 1011 (queue repairs).

@Suite("Rule 5 — a transfer to an agent of another department is a hand-off, whatever queue the caller's row names")
struct CrossDepartmentTransferTests {
    struct Story: CustomTestStringConvertible, Sendable {
        var queue: String
        var from: String
        var to: String
        /// The receiving agent's department; nil when the transfer stays inside one department.
        var receiving: DepartmentID?
        var testDescription: String { "\(self.from) in \(self.queue) → \(self.to)" }
    }

    enum Evidence: String, CaseIterable, Sendable {
        /// Master.csv and queue_log (`ATTENDEDTRANSFER|BRIDGE`).
        case cdrAndQueueLog
        /// Master.csv alone: the caller's row whose dstchannel changed to the receiving agent.
        case cdrOnly
    }

    static let stories = [
        Story(queue: "hotline", from: "1001", to: "1021", receiving: ScenarioKit.billing),
        Story(queue: "billing", from: "1021", to: "1001", receiving: ScenarioKit.service),
        Story(queue: "hotline", from: "1001", to: "1011", receiving: ScenarioKit.repairs),
        Story(queue: "hotline", from: "1001", to: "1002", receiving: nil),
    ]

    /// The customer's call: queued at 09:00:00, answered 09:00:10; at 09:02:00 the agent consults
    /// the other agent on a second line (answered 09:02:05) and completes the transfer at
    /// 09:03:00; the receiving agent serves the caller until 09:08:00.
    static func records(_ story: Story, _ evidence: Evidence) -> [CallRecord] {
        let pbx = PBX()
        pbx.inbound("x1", at: "2026-11-26 09:00:00").queue(story.queue)
            .answered(by: story.from, at: "09:00:10", until: "09:03:00", completes: false)
            .attendedTransfer(
                by: story.from, to: story.to, consultFrom: "09:02:00", targetAnswers: "09:02:05", at: "09:03:00",
                targetUntil: "09:08:00")
        switch evidence {
        case .cdrAndQueueLog: return pbx.records
        case .cdrOnly: return pbx.records.filter { if case .leg = $0 { true } else { false } }
        }
    }

    @Test(
        "an attended transfer hands off to the receiving agent's department, warm; the first responder stays",
        arguments: Self.stories, Evidence.allCases)
    func attendedTransfer(_ story: Story, _ evidence: Evidence) throws {
        let derivation = ScenarioKit.derive(Self.records(story, evidence), clock: at("2026-11-26 12:00:00"))
        let contact = try #require(derivation.contacts.first)

        #expect(derivation.contacts.count == 1)
        #expect(contact.firstResponder?.agent == AgentID(story.from))
        #expect(contact.firstResponder?.boundAt == at("2026-11-26 09:00:10"))
        #expect(derivation.violations.isEmpty)
        guard let receiving = story.receiving else {
            #expect(contact.obligations.isEmpty)
            #expect(contact.why.contains { $0.rule == .transferSameDepartment })
            return
        }
        #expect(contact.obligations.count == 1)
        let handoff = try #require(contact.handoffs.first)
        #expect(handoff.owner == Owner(department: receiving, agent: AgentID(story.to)))
        #expect(handoff.state == .satisfied)
        #expect(handoff.satisfiedVia == .warmTransfer)
        #expect(handoff.satisfiedBy == AgentID(story.to))
        #expect(handoff.satisfiedAt == at("2026-11-26 09:03:00"))
        let why = try #require(contact.why.first { $0.rule == .handoffWarm })
        #expect(why.message.contains("agent \(story.from) transferred to"))
        #expect(why.message.contains(receiving.rawValue))
        #expect(!contact.why.contains { $0.rule == .transferSameDepartment })
    }

    @Test("the consultation call between the two agents is internal: no contact of its own")
    func consultationIsInternal() {
        let story = Self.stories[0]
        let calls = ScenarioKit.calls(from: Self.records(story, .cdrAndQueueLog))
        let consult = calls.first { $0.key == CallKey("x1-consult") }
        #expect(consult?.direction == .internal)
        #expect(calls.filter { $0.customerKey != nil }.count == 1)
    }
}
