import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The same refusal has the same status on every route: the error chooses it.
@Suite("Refusals answer by their reason")
struct RefusalStatusTests {
    @Test(
        "each ActionError picks 404 (unknown), 409 (state) or 400 (request)",
        arguments: [
            (ActionError.unknownObligation(ObligationID("o")), HTTPResponse.Status.notFound),
            (.unknownContact(ContactID("c")), .notFound),
            (.unknownViolation(ViolationID("v")), .notFound),
            (.notAHandoff(ObligationID("o")), .conflict),
            (.notOutstanding(ObligationID("o"), .satisfied), .conflict),
            (.notTheReceiver(AgentID("1"), Owner(department: DepartmentID("d"), agent: nil)), .conflict),
            (.contactNotOpen(ContactID("c"), .resolved), .conflict),
            (.unknownAgent(AgentID("9")), .badRequest),
            (.emptyReason, .badRequest),
            (.missingField("text"), .badRequest),
            (.unknownDepartment(DepartmentID("x")), .badRequest),
        ])
    func statusByReason(error: ActionError, status: HTTPResponse.Status) {
        #expect(error.status == status)
    }

    @Test("acknowledging for an unknown agent and reviewing without a reason are both 400, named in the body")
    func sameRefusalSameStatus() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(
            SchedulerFixture.failedTransfer, SchedulerFixture.failedTransferQueueLog, now: "2026-11-27T12:00:00",
            in: directory)
        _ = try await store.advanceClock(
            to: try SchedulerFixture.at("2026-11-27T12:00:00"), correlator: try Fixture.engine().correlator)
        let handoff = try #require(try await store.contacts(ContactQuery()).first?.obligations.first)
        let violation = try #require(try await store.snapshot().violations.first)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/obligations/\(handoff.id)/ack", method: .post, headers: APITests.admin,
                body: ByteBuffer(string: #"{"by": "9999"}"#)
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/v1/violations/\(violation.id)/review", method: .post, headers: APITests.supervisor,
                body: ByteBuffer(string: #"{"decision": "accept", "reason": "  "}"#)
            ) { #expect($0.status == .badRequest) }
            // A field of the wrong type is named, not silently read as absent.
            try await client.execute(
                uri: "/v1/obligations/\(handoff.id)/ack", method: .post, headers: APITests.admin,
                body: ByteBuffer(string: #"{"by": 1009}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains(#"\"by\" must be a string"#))
            }
        }
    }
}
