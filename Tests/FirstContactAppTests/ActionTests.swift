import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Testing

@Suite("Hand-off acknowledgement and violation review")
struct ActionTests {
    @Test("a failed transfer leaves a pending hand-off to repairs; only its receiving side may acknowledge it, which stops the acknowledge clock")
    func acknowledgeStopsTheAckClock() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, in: directory, engine: engine)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        let handoff = try #require(contact.obligations.first)
        #expect(handoff.kind == .handoff)
        #expect(handoff.owner == Owner(department: DepartmentID("repairs"), agent: nil))
        // Repairs' clocks (24/7): acknowledge within 10 minutes, contact the customer within 1 hour of 10:05:31.
        #expect(handoff.ackDueAt == (try SchedulerFixture.at("2026-11-27T10:15:31")))
        #expect(handoff.dueAt == (try SchedulerFixture.at("2026-11-27T11:05:31")))

        await #expect(throws: ActionError.notTheReceiver(AgentID("1001"), handoff.owner)) {
            _ = try await engine.acknowledge(handoff.id, by: AgentID("1001"), at: try SchedulerFixture.at("2026-11-27T10:10:00"), store: store)
        }
        let acknowledged = try await engine.acknowledge(
            handoff.id, by: AgentID("1009"), at: try SchedulerFixture.at("2026-11-27T10:10:00"), store: store)
        #expect(acknowledged.obligation.acknowledgedAt == (try SchedulerFixture.at("2026-11-27T10:10:00")))

        _ = try await store.advanceClock(to: try SchedulerFixture.at("2026-11-27T10:30:00"), correlator: engine.correlator)
        #expect(try await store.obligation(handoff.id)?.obligation.state == .pending)
        _ = try await store.advanceClock(to: try SchedulerFixture.at("2026-11-27T11:10:00"), correlator: engine.correlator)
        let breached = try #require(try await store.obligation(handoff.id)?.obligation)
        #expect(breached.state == .breached)
        let violations = try await store.snapshot().violations
        #expect(violations.map(\.category) == [.handoffStalled])
        #expect(violations.first?.at == (try SchedulerFixture.at("2026-11-27T11:05:31")))
    }

    @Test("without an acknowledgement the hand-off breaches when its acknowledge clock runs out")
    func unacknowledgedBreachesAtTheAckClock() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, in: directory, engine: engine)
        _ = try await store.advanceClock(to: try SchedulerFixture.at("2026-11-27T10:30:00"), correlator: engine.correlator)
        let violation = try #require(try await store.snapshot().violations.first)
        #expect(violation.category == .handoffStalled)
        #expect(violation.department == DepartmentID("repairs"))
        #expect(violation.at == (try SchedulerFixture.at("2026-11-27T10:15:31")))
    }

    @Test("a supervisor's review is kept across re-derivation, exported, notified, and can be changed")
    func review() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        _ = try await store.advanceClock(to: try SchedulerFixture.at("2026-11-27T11:00:00"), correlator: engine.correlator)
        let violation = try #require(try await store.snapshot().violations.first)

        await #expect(throws: ActionError.emptyReason) {
            try await engine.review(violation.id, decision: .accept, reason: "  ", by: "li-sup", at: .init(seconds: 1), store: store)
        }
        await #expect(throws: ActionError.unknownViolation(ViolationID("nope"))) {
            try await engine.review(ViolationID("nope"), decision: .accept, reason: "x", by: "li-sup", at: .init(seconds: 1), store: store)
        }
        try await engine.review(violation.id, decision: .dismiss, reason: "line was down", by: "li-sup", at: .init(seconds: 1), store: store)
        try await engine.review(violation.id, decision: .accept, reason: "no callback made", by: "li-sup", at: .init(seconds: 2), store: store)
        _ = try await store.advanceClock(to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)

        let snapshot = try await store.snapshot()
        #expect(snapshot.reviews[violation.id]?.decision == .accept)
        #expect(snapshot.reviews[violation.id]?.reason == "no callback made")
        let export = ExportDocument.render(snapshot)
        #expect(export.contains("\"decision\": \"accept\""))
        let reviews = try await store.outbox(after: 0, limit: 100).filter { $0.kind == .review }
        #expect(reviews.count == 2)
        #expect(reviews.last?.violation == violation.id)
    }
}
