import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

@Suite("Hand-off acknowledgement and violation review")
struct ActionTests {
    @Test(
        "a failed transfer leaves a pending hand-off to repairs; only its receiving side may acknowledge it, which stops the acknowledge clock"
    )
    func acknowledgeStopsTheAckClock() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.failedTransferStore(in: directory, engine: engine)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        let handoff = try #require(contact.obligations.first)
        #expect(handoff.kind == .handoff)
        #expect(handoff.owner == Owner(department: DepartmentID("repairs"), agent: nil))
        // Repairs' clocks (24/7): acknowledge within 10 minutes, contact the customer within 1 hour of 10:05:31.
        #expect(handoff.ackDueAt == (try SchedulerFixture.at("2026-11-27T10:15:31")))
        #expect(handoff.dueAt == (try SchedulerFixture.at("2026-11-27T11:05:31")))

        await #expect(throws: ActionError.notTheReceiver(AgentID("1001"), handoff.owner)) {
            _ = try await engine.acknowledge(
                handoff.id, by: AgentID("1001"), at: try SchedulerFixture.at("2026-11-27T10:10:00"), store: store)
        }
        let acknowledged = try await engine.acknowledge(
            handoff.id, by: AgentID("1009"), at: try SchedulerFixture.at("2026-11-27T10:10:00"), store: store)
        #expect(acknowledged.obligation.acknowledgedAt == (try SchedulerFixture.at("2026-11-27T10:10:00")))

        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T10:30:00"), correlator: engine.correlator)
        #expect(try await store.obligation(handoff.id)?.obligation.state == .pending)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T11:10:00"), correlator: engine.correlator)
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
        let store = try await SchedulerFixture.failedTransferStore(in: directory, engine: engine)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T10:30:00"), correlator: engine.correlator)
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
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T11:00:00"), correlator: engine.correlator)
        let violation = try #require(try await store.snapshot().violations.first)

        await #expect(throws: ActionError.emptyReason) {
            try await engine.review(
                violation.id, decision: .accept, reason: "  ", by: "li-sup", at: .init(seconds: 1), store: store)
        }
        await #expect(throws: ActionError.unknownViolation(ViolationID("nope"))) {
            try await engine.review(
                ViolationID("nope"), decision: .accept, reason: "x", by: "li-sup", at: .init(seconds: 1), store: store)
        }
        try await engine.review(
            violation.id, decision: .dismiss, reason: "line was down", by: "li-sup", at: .init(seconds: 1), store: store
        )
        try await engine.review(
            violation.id, decision: .accept, reason: "no callback made", by: "li-sup", at: .init(seconds: 2),
            store: store)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)

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

@Suite("Obligations leaving the board are notified")
struct DepartureNotificationTests {
    static func kinds(_ store: SQLiteContactStore) async throws -> [String: OutboxEntry.Kind] {
        Dictionary(
            try await store.outbox(after: 0, limit: 1000).map { ($0.key, $0.kind) }, uniquingKeysWith: { a, _ in a })
    }

    @Test(
        "acknowledging a pending hand-off and then resolving its contact write `acknowledged` and `cancelled` to the outbox, once each"
    )
    func acknowledgedThenCancelled() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.failedTransferStore(in: directory, engine: engine)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        let handoff = try #require(contact.obligations.first).id
        #expect(try await Self.kinds(store)["acknowledged:\(handoff)"] == nil)

        _ = try await engine.acknowledge(
            handoff, by: AgentID("1009"), at: try SchedulerFixture.at("2026-11-27T10:10:00"), store: store)
        #expect(try await Self.kinds(store)["acknowledged:\(handoff)"] == .acknowledged)
        _ = try await engine.record(
            .resolve(contact: contact.id, note: "抢修已安排"), by: AgentID("1001"),
            at: try SchedulerFixture.at("2026-11-27T10:12:00"), store: store)
        let kinds = try await Self.kinds(store)
        #expect(kinds["cancelled:\(handoff)"] == .cancelled)
        // Deriving again adds nothing: each notification exists once.
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: engine.correlator)
        #expect(
            try await store.outbox(after: 0, limit: 1000).filter { $0.obligation == handoff }.map(\.kind) == [
                .acknowledged, .cancelled,
            ])
    }

    /// An answered callback by 王芳 (1002) to the missed caller of SchedulerFixture.missedCall.
    static let callback = #"""
        "","1002","13800002222","from-internal","""王芳"" <1002>","PJSIP/1002-00000031","PJSIP/trunk-00000032","Dial","PJSIP/13800002222@trunk,60","2026-11-27 10:20:00","2026-11-27 10:20:09","2026-11-27 10:23:00",180,171,"ANSWERED","DOCUMENTATION","1795746000.31","","","1795746000.31",31
        """#

    @Test(
        "a callback made after the miss was known is notified `satisfied`; the same records in one batch announce nothing (nobody saw it owed)"
    )
    func satisfiedOnlyWhenKnownOwed() async throws {
        let engine = try Fixture.engine()
        let separately = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: separately) }
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: separately, engine: engine)
        let callback = try #require(try await store.contacts(ContactQuery()).first?.obligations.first).id
        let later = separately.appendingPathComponent("later.csv")
        try (Self.callback + "\n").write(to: later, atomically: true, encoding: .utf8)
        _ = try await IngestPipeline(engine: engine, store: store).ingest(paths: [later.path], format: nil)
        let entry = try #require(
            try await store.outbox(after: 0, limit: 1000).first { $0.key == "satisfied:\(callback)" })
        #expect(entry.kind == .satisfied)
        #expect(entry.agent == AgentID("1002"))
        #expect(entry.at == (try SchedulerFixture.at("2026-11-27T10:20:09")))

        let together = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: together) }
        let once = try await SchedulerFixture.store(
            SchedulerFixture.missedCall + "\n" + Self.callback, SchedulerFixture.missedQueueLog, in: together,
            engine: engine)
        #expect(try await once.contacts(ContactQuery()).first?.obligations.first?.state == .satisfied)
        #expect(try await Self.kinds(once).values.contains(.satisfied) == false)
    }
}
