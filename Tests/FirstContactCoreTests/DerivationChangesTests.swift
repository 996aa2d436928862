import Testing

@testable import FirstContactCore

// Which transitions between two derivations of a customer become outbox notifications and
// amendments (SPEC "Outputs": webhooks and the live board; rule 8: late data re-checks). The keys
// and details are the outbox's contract with webhook receivers: they must not drift.

private let contactID = ContactID("c-1")
private let callbackID = ObligationID("c-1-cb1")
private let handoffID = ObligationID("c-1-ho1")
private let created = utc("2026-11-26T02:00:40Z")
private let due = utc("2026-11-26T02:30:40Z")
private let clock = utc("2026-11-26T05:00:00Z")
private let agent = AgentID("1002")

private func callback(_ standing: Obligation.Standing, attempts: Int = 0) -> Obligation {
    var o = Obligation(
        id: callbackID, kind: .callback, owner: Owner(department: DepartmentID("service"), agent: nil),
        createdAt: created, dueAt: due, call: CallKey("m1"))
    o.standing = standing
    o.attempts = attempts
    return o
}

private func handoff(_ standing: Obligation.Standing, acknowledgedAt: Timestamp? = nil) -> Obligation {
    var o = Obligation(
        id: handoffID, kind: .handoff, owner: Owner(department: DepartmentID("repairs"), agent: nil),
        createdAt: created, dueAt: utc("2026-11-26T03:00:40Z"), ackDueAt: utc("2026-11-26T02:10:40Z"),
        call: CallKey("t1"))
    o.standing = standing
    o.acknowledgedAt = acknowledgedAt
    return o
}

private func derivation(_ obligations: [Obligation], violations: [Violation] = []) -> Derivation {
    var contact = Contact(
        id: contactID, customer: CustomerNumber(text: "+8613812345678"), customerRaw: "13812345678", channel: .phone,
        department: DepartmentID("service"), category: .service, createdAt: created)
    contact.obligations = obligations
    return Derivation(contacts: [contact], violations: violations, nextCheck: nil, unattached: [])
}

private func before(
    _ state: ObligationState, atRisk: Bool = false, level: Int = 0, acknowledged: Bool = false
) -> PreviousConclusions.Obligation {
    PreviousConclusions.Obligation(
        state: state, contact: contactID, atRisk: atRisk, escalationLevel: level, acknowledged: acknowledged)
}

private func breach(_ at: Timestamp, level: Int?, since: Timestamp? = nil) -> Obligation.Breach {
    Obligation.Breach(at: at, escalation: level.map { Obligation.Escalation(level: $0, since: since ?? at) })
}

/// One obligation's transition and the notices it must produce: key, kind, time, agent, level, detail.
struct NoticeCase: CustomTestStringConvertible, Sendable {
    struct Expected: Equatable, Sendable {
        var key: String
        var kind: Notice.Kind
        var at: Timestamp
        var agent: AgentID? = nil
        var level: Int? = nil
        var detail: String
    }

    var name: String
    var before: PreviousConclusions.Obligation?
    var after: Obligation
    var notices: [Expected]
    var amendments: [String] = []

    var testDescription: String { self.name }
}

private let levelTwoAt = utc("2026-11-26T03:30:40Z")

let noticeCases: [NoticeCase] = [
    NoticeCase(
        name: "a breach announces the breach and level 1 at the instant the clock ran out",
        before: before(.pending), after: callback(.breached(breach(due, level: 1))),
        notices: [
            .init(key: "breach:c-1-cb1", kind: .breach, at: due, detail: "callback c-1-cb1 breached"),
            .init(
                key: "escalation:c-1-cb1:1", kind: .escalation, at: due, level: 1,
                detail: "c-1-cb1 escalated to the head of service"),
        ]),
    NoticeCase(
        name: "climbing from level 1 to 2 announces only level 2, at the instant it was reached",
        before: before(.breached, level: 1), after: callback(.breached(breach(due, level: 2, since: levelTwoAt))),
        notices: [
            .init(
                key: "escalation:c-1-cb1:2", kind: .escalation, at: levelTwoAt, level: 2,
                detail: "c-1-cb1 escalated to leadership")
        ]),
    NoticeCase(
        name: "a breach first seen at level 2 announces both levels: level 1 at the breach, level 2 when reached",
        before: before(.pending), after: callback(.breached(breach(due, level: 2, since: levelTwoAt))),
        notices: [
            .init(key: "breach:c-1-cb1", kind: .breach, at: due, detail: "callback c-1-cb1 breached"),
            .init(
                key: "escalation:c-1-cb1:1", kind: .escalation, at: due, level: 1,
                detail: "c-1-cb1 escalated to the head of service"),
            .init(
                key: "escalation:c-1-cb1:2", kind: .escalation, at: levelTwoAt, level: 2,
                detail: "c-1-cb1 escalated to leadership"),
        ]),
    NoticeCase(
        name: "a breach already announced is not announced again",
        before: before(.breached, level: 1), after: callback(.breached(breach(due, level: 1))),
        notices: []),
    NoticeCase(
        name: "a late record that disproves a breach announces a reversal at the clock and is amended",
        before: before(.breached, level: 1), after: callback(.pending(atRisk: nil)),
        notices: [
            .init(
                key: "reversal:c-1-cb1:\(clock.seconds)", kind: .reversal, at: clock,
                detail: "a late record disproved the breach of c-1-cb1")
        ],
        amendments: ["a late record changed c-1-cb1 from breached to pending"]),
    NoticeCase(
        name: "a late record showing the callback was made in time: satisfied, reversal, amendment",
        before: before(.breached, level: 1),
        after: callback(
            .satisfied(Obligation.Satisfaction(at: utc("2026-11-26T02:20:00Z"), by: agent, via: .callback))),
        notices: [
            .init(
                key: "satisfied:c-1-cb1", kind: .satisfied, at: utc("2026-11-26T02:20:00Z"), agent: agent,
                detail: "callback c-1-cb1 satisfied via callback"),
            .init(
                key: "reversal:c-1-cb1:\(clock.seconds)", kind: .reversal, at: clock,
                detail: "a late record disproved the breach of c-1-cb1"),
        ],
        amendments: ["a late record changed c-1-cb1 from breached to satisfied"]),
    NoticeCase(
        name: "satisfied late after a breach keeps the breach: no reversal, an amendment of the state",
        before: before(.breached, level: 1),
        after: callback(
            .satisfiedLate(
                Obligation.Satisfaction(at: utc("2026-11-26T02:40:00Z"), by: agent, via: .customerCalledBack),
                breach: breach(due, level: 1))),
        notices: [
            .init(
                key: "satisfied:c-1-cb1", kind: .satisfied, at: utc("2026-11-26T02:40:00Z"), agent: agent,
                detail: "callback c-1-cb1 satisfied_late via customer_called_back")
        ],
        amendments: ["a late record changed c-1-cb1 from breached to satisfied_late"]),
    NoticeCase(
        name: "passing the at-risk mark announces it at the mark",
        before: before(.pending),
        after: callback(.pending(atRisk: Obligation.AtRisk(since: utc("2026-11-26T02:24:40Z")))),
        notices: [
            .init(
                key: "at_risk:c-1-cb1", kind: .atRisk, at: utc("2026-11-26T02:24:40Z"),
                detail: "callback c-1-cb1 is at risk: due \(due)")
        ]),
    NoticeCase(
        name: "an obligation already at risk is not announced again",
        before: before(.pending, atRisk: true),
        after: callback(.pending(atRisk: Obligation.AtRisk(since: utc("2026-11-26T02:24:40Z")))),
        notices: []),
    NoticeCase(
        name: "a hand-off acknowledged by its receiver",
        before: before(.pending), after: handoff(.pending(atRisk: nil), acknowledgedAt: utc("2026-11-26T02:05:00Z")),
        notices: [
            .init(
                key: "acknowledged:c-1-ho1", kind: .acknowledged, at: utc("2026-11-26T02:05:00Z"),
                detail: "hand-off c-1-ho1 acknowledged")
        ]),
    NoticeCase(
        name: "a hand-off contacted leaves the board as satisfied, not as acknowledged",
        before: before(.pending),
        after: handoff(
            .satisfied(Obligation.Satisfaction(at: utc("2026-11-26T02:05:00Z"), by: agent, via: .contacted)),
            acknowledgedAt: utc("2026-11-26T02:05:00Z")),
        notices: [
            .init(
                key: "satisfied:c-1-ho1", kind: .satisfied, at: utc("2026-11-26T02:05:00Z"), agent: agent,
                detail: "handoff c-1-ho1 satisfied via contacted")
        ]),
    NoticeCase(
        name: "a contact resolved first: the pending callback leaves as cancelled at the clock",
        before: before(.pending), after: callback(.cancelled),
        notices: [
            .init(
                key: "cancelled:c-1-cb1", kind: .cancelled, at: clock,
                detail: "callback c-1-cb1 cancelled: the contact was settled")
        ]),
    NoticeCase(
        name: "a callback whose attempts ran out leaves as exhausted",
        before: before(.pending), after: callback(.exhausted, attempts: 3),
        notices: [
            .init(
                key: "exhausted:c-1-cb1", kind: .exhausted, at: clock,
                detail: "callback c-1-cb1 exhausted after 3 attempts: supervisor review")
        ]),
    NoticeCase(
        name: "a late record that undoes an exhaustion is amended without a reversal",
        before: before(.exhausted), after: callback(.pending(atRisk: nil), attempts: 2),
        notices: [],
        amendments: ["a late record changed c-1-cb1 from exhausted to pending"]),
    NoticeCase(
        name: "an obligation made and met in one derivation announces nothing",
        before: nil,
        after: callback(
            .satisfied(Obligation.Satisfaction(at: utc("2026-11-26T02:20:00Z"), by: agent, via: .callback))),
        notices: []),
]

@Suite("Derivation changes — which transitions are announced, under which keys")
struct DerivationChangesTests {
    @Test("each transition produces exactly its notices and amendments", arguments: noticeCases)
    func transition(_ c: NoticeCase) {
        let previous = PreviousConclusions(obligations: c.before.map { [c.after.id: $0] } ?? [:])
        let changes = DerivationChanges(from: previous, to: derivation([c.after]), clock: clock)

        let got = changes.notices.map {
            NoticeCase.Expected(
                key: $0.key, kind: $0.kind, at: $0.at, agent: $0.agent, level: $0.level, detail: $0.detail)
        }
        #expect(got == c.notices)
        #expect(changes.notices.allSatisfy { $0.contact == contactID && $0.obligation == c.after.id })
        #expect(changes.notices.allSatisfy { $0.department == c.after.owner.department })
        #expect(changes.amendments.map(\.message) == c.amendments)
        #expect(changes.amendments.allSatisfy { $0.contact == contactID && $0.obligation == c.after.id })
    }

    @Test("a new violation that is not an obligation's breach is announced once, against its agent")
    func violations() throws {
        let passed = Violation(
            id: ViolationID("c-1.pa3"), obligation: nil, contact: contactID, category: .passedAround,
            department: DepartmentID("service"), agent: AgentID("1001"), at: utc("2026-11-26T02:01:00Z"))
        let breachViolation = Violation(
            id: ViolationID("c-1-cb1.v"), obligation: callbackID, contact: contactID, category: .notHandledInTime,
            department: DepartmentID("service"), agent: nil, at: due)
        let changes = DerivationChanges(
            from: PreviousConclusions(), to: derivation([], violations: [passed, breachViolation]), clock: clock)

        #expect(changes.notices.map(\.key) == ["violation:c-1.pa3"])
        let notice = try #require(changes.notices.first)
        #expect(notice.kind == .violation)
        #expect(notice.violation == passed.id)
        #expect(notice.agent == AgentID("1001"))
        #expect(notice.department == DepartmentID("service"))
        #expect(notice.at == passed.at)
        #expect(notice.detail == "passed_around recorded")

        let again = DerivationChanges(
            from: PreviousConclusions(concluding: derivation([], violations: [passed])),
            to: derivation([], violations: [passed]), clock: clock)
        #expect(again.notices.isEmpty)
    }

    @Test(
        "what a late record takes away is amended: a breached obligation gone, a violation disproved; the gone breach is reversed to whom it was announced"
    )
    func disappearances() throws {
        var breached = before(.breached, level: 1)
        breached.owner = Owner(department: DepartmentID("service"), agent: AgentID("1001"))
        let previous = PreviousConclusions(
            obligations: [callbackID: breached, ObligationID("c-1-cb2"): before(.pending)],
            violations: [
                ViolationID("c-1-cb1.v"): PreviousConclusions.Violation(category: .notHandledInTime, contact: contactID)
            ])
        let changes = DerivationChanges(from: previous, to: derivation([]), clock: clock)

        let reversal = try #require(changes.notices.first)
        #expect(changes.notices.count == 1)
        #expect(reversal.kind == .reversal)
        #expect(reversal.key == "reversal:\(callbackID.rawValue):\(clock.seconds)")
        #expect(reversal.obligation == callbackID)
        #expect(reversal.department == DepartmentID("service"))
        #expect(reversal.agent == AgentID("1001"))
        #expect(
            changes.amendments.map(\.message) == [
                "a late record changed c-1-cb1 from breached to no longer existing",
                "a late record disproved violation c-1-cb1.v (not_handled_in_time): reversed",
            ])
        #expect(changes.amendments.map(\.obligation) == [callbackID, nil])
    }

    @Test("no two notices share a key, even when the same obligation appears twice")
    func uniqueKeys() {
        let breached = callback(.breached(breach(due, level: 2, since: levelTwoAt)))
        let changes = DerivationChanges(
            from: PreviousConclusions(obligations: [callbackID: before(.pending)]),
            to: derivation([breached, breached]), clock: clock)

        let keys = changes.notices.map(\.key)
        #expect(keys == ["breach:c-1-cb1", "escalation:c-1-cb1:1", "escalation:c-1-cb1:2"])
        #expect(Set(keys).count == keys.count)
    }

    @Test("a derivation compared with its own conclusions announces and amends nothing")
    func idempotent() {
        let pbx = PBX()
        pbx.inbound("m1", at: "2026-11-26 10:00:00").queue("hotline").rings("1001", until: "10:00:15").abandons(
            at: "10:00:40")
        pbx.inbound("m2", at: "2026-11-26 13:00:00").queue("hotline").abandons(at: "13:00:30")
        let derived = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 16:00:00"))
        #expect(!derived.violations.isEmpty)

        let changes = DerivationChanges(
            from: PreviousConclusions(concluding: derived), to: derived, clock: at("2026-11-26 16:00:00"))
        #expect(changes.notices.isEmpty)
        #expect(changes.amendments.isEmpty)
    }

    @Test("end to end: a callback record that arrives after the breach was announced reverses it")
    func lateCallbackReversesBreach() throws {
        let pbx = PBX()
        pbx.inbound("m1", at: "2026-11-26 10:00:00").queue("hotline").rings("1001", until: "10:00:15").abandons(
            at: "10:00:40")
        let first = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:45:00"))
        let announced = DerivationChanges(from: PreviousConclusions(), to: first, clock: at("2026-11-26 10:45:00"))
        let id = try #require(first.contacts.first?.obligations.first?.id)
        #expect(announced.notices.map(\.key) == ["breach:\(id)", "escalation:\(id):1"])

        pbx.outbound("o1", by: "1002", at: "2026-11-26 10:15:00", answered: "10:15:12", until: "10:18:00")
        let second = ScenarioKit.derive(pbx.records, clock: at("2026-11-26 10:50:00"))
        let reversed = DerivationChanges(
            from: PreviousConclusions(concluding: first), to: second, clock: at("2026-11-26 10:50:00"))

        #expect(reversed.notices.map(\.kind) == [.satisfied, .reversal])
        #expect(reversed.notices.first?.agent == AgentID("1002"))
        #expect(reversed.notices.last?.key == "reversal:\(id):\(at("2026-11-26 10:50:00").seconds)")
        #expect(reversed.amendments.count == 2)
    }
}
