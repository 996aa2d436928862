import Testing

@testable import FirstContactCore

// The obligation rules in one place (SPEC rules 3, 5, 6): deadlines, the at-risk mark, the
// escalation ladder, the configuration's default clocks, and standings that carry only what
// they can have.

private let made = utc("2026-11-26T02:00:00Z")

private func handoff(acknowledgedAt: Timestamp? = nil, ack: Int64 = 600, due: Int64 = 3600) -> Obligation {
    var o = Obligation.handoff(
        id: ObligationID("h"), owner: Owner(department: DepartmentID("repairs"), agent: nil), madeAt: made,
        call: CallKey("t1"), levels: ServiceLevels(callback: 1800, handoffAck: ack, handoff: due, escalateAfter: 3600),
        hours: .always)
    o.acknowledgedAt = acknowledgedAt
    return o
}

@Suite("Obligation rules — deadlines, defaults, standings")
struct ObligationRulesTests {
    @Test("a hand-off nobody acknowledged runs out at its acknowledge clock; once acknowledged, at its contact clock")
    func handoffDeadline() {
        #expect(handoff().deadline == made + 600)
        #expect(handoff(acknowledgedAt: made + 60).deadline == made + 3600)
        // An acknowledge clock longer than the contact clock never extends the deadline.
        #expect(handoff(ack: 7200, due: 3600).deadline == made + 3600)
    }

    @Test("a callback runs out at its due time, one callback SLA of business time after the miss")
    func callbackDeadline() {
        let levels = ServiceLevels.defaults
        let callback = Obligation.callback(
            id: ObligationID("c"), owner: Owner(department: DepartmentID("service"), agent: nil), missedAt: made,
            call: CallKey("m1"), levels: levels, hours: .always)
        #expect(callback.deadline == made + levels.callback)
        #expect(callback.ackDueAt == nil)
    }

    @Test("the at-risk mark measures the SLA that is running: acknowledge before, contact after")
    func atRiskMark() {
        let levels = ServiceLevels(callback: 1800, handoffAck: 600, handoff: 3600, escalateAfter: 3600)
        #expect(handoff().atRiskMark(levels: levels, hours: .always, percent: 80) == made + 480)
        #expect(
            handoff(acknowledgedAt: made + 60).atRiskMark(levels: levels, hours: .always, percent: 80) == made + 2880)
    }

    @Test("the escalation ladder: level 2 one escalate_after after the breach, neglect one more after that")
    func ladder() {
        let ladder = EscalationLadder(breachedAt: made, escalateAfter: 3600, hours: .always)
        #expect(ladder.levelOneAt == made)
        #expect(ladder.levelTwoAt == made + 3600)
        #expect(ladder.neglectedAt == made + 7200)
    }

    @Test("a department without its own clocks, or an unknown one, runs by the named defaults")
    func defaults() {
        let directory = ScenarioKit.directory
        #expect(directory.serviceLevels(of: DepartmentID("no-such-department")) == .defaults)
        let plain = Department(id: DepartmentID("plain"), name: "Plain")
        #expect(plain.serviceLevels == .defaults)
        #expect(
            ServiceLevels.defaults == ServiceLevels(callback: 1800, handoffAck: 900, handoff: 7200, escalateAfter: 3600)
        )
        #expect(Feed(name: "f", source: "s", calendar: nil).silence == 900)
    }

    @Test("satisfying a breached obligation keeps its breach; satisfying a hand-off acknowledges it")
    func satisfyAfterBreach() {
        var o = handoff()
        o.breach(at: made + 600)
        o.escalate(to: 1, since: made + 600)
        o.satisfy(Obligation.Satisfaction(at: made + 900, by: AgentID("1021"), via: .contacted))
        #expect(o.state == .satisfiedLate)
        #expect(o.breachedAt == made + 600)
        #expect(o.escalationLevel == 1)
        #expect(o.acknowledgedAt == made + 900)
        #expect(o.satisfiedBy == AgentID("1021"))
        #expect(!o.atRisk)
    }

    @Test("only a pending obligation can be at risk")
    func atRiskOnlyWhilePending() {
        var o = handoff()
        o.markAtRisk(since: made + 480)
        #expect(o.atRisk)
        #expect(o.atRiskSince == made + 480)
        o.satisfy(Obligation.Satisfaction(at: made + 500, by: AgentID("1021"), via: .contacted))
        #expect(!o.atRisk)
        o.markAtRisk(since: made + 510)
        #expect(o.state == .satisfied)
        #expect(!o.atRisk)
    }

    static let standings: [Obligation.Standing] = [
        .pending(atRisk: nil),
        .pending(atRisk: Obligation.AtRisk(since: nil)),
        .breached(Obligation.Breach(at: made, escalation: Obligation.Escalation(level: 1, since: nil))),
        .breached(Obligation.Breach(at: made, escalation: Obligation.Escalation(level: 2, since: nil))),
        .satisfied(Obligation.Satisfaction(at: made, by: AgentID("1001"), via: .callback)),
        .satisfiedLate(Obligation.Satisfaction(at: made + 60, by: AgentID("1001"), via: .callback), breach: nil),
        .satisfiedLate(
            Obligation.Satisfaction(at: made + 60, by: AgentID("1001"), via: .callback),
            breach: Obligation.Breach(at: made, escalation: Obligation.Escalation(level: 1, since: nil))),
        .exhausted,
        .cancelled,
    ]

    @Test("every standing survives the flat stored columns", arguments: standings)
    func storedColumnsRoundTrip(_ standing: Obligation.Standing) {
        var o = handoff()
        o.standing = standing
        let restored = Obligation.Standing(
            state: o.state, atRisk: o.atRisk, satisfaction: o.satisfaction, breachedAt: o.breachedAt,
            escalationLevel: o.escalationLevel)
        #expect(restored == standing)
    }

    struct Contradiction: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var state: ObligationState
        var atRisk = false
        var satisfied = false
        var breachedAt: Timestamp? = nil
        var level = 0
    }

    @Test(
        "stored columns that contradict each other make no standing",
        arguments: [
            Contradiction(testDescription: "breached with no breach time", state: .breached),
            Contradiction(testDescription: "satisfied with no satisfaction", state: .satisfied),
            Contradiction(testDescription: "pending with a satisfaction", state: .pending, satisfied: true),
            Contradiction(testDescription: "at risk but cancelled", state: .cancelled, atRisk: true),
            Contradiction(
                testDescription: "escalated with no breach", state: .satisfiedLate, satisfied: true, level: 1),
            Contradiction(testDescription: "pending with a breach time", state: .pending, breachedAt: made),
            Contradiction(testDescription: "escalation level 3", state: .breached, breachedAt: made, level: 3),
        ])
    func contradictions(_ c: Contradiction) {
        let satisfaction = c.satisfied ? Obligation.Satisfaction(at: made, by: AgentID("1001"), via: .callback) : nil
        #expect(
            Obligation.Standing(
                state: c.state, atRisk: c.atRisk, satisfaction: satisfaction, breachedAt: c.breachedAt,
                escalationLevel: c.level)
                == nil)
    }
}
