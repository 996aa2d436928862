import Foundation
import FirstContactCore
import FirstContactStore

/// Why a person's action was refused.
package enum ActionError: Error, CustomStringConvertible, Equatable {
    case unknownAgent(AgentID)
    case unknownObligation(ObligationID)
    case notAHandoff(ObligationID)
    case notOutstanding(ObligationID, ObligationState)
    case notTheReceiver(AgentID, Owner)
    case unknownViolation(ViolationID)
    case emptyReason

    package var description: String {
        switch self {
        case .unknownAgent(let agent): "no agent \(agent) in the configuration"
        case .unknownObligation(let id): "no obligation \(id)"
        case .notAHandoff(let id): "\(id) is a callback; only hand-offs are acknowledged"
        case .notOutstanding(let id, let state): "\(id) is \(state.rawValue); only a pending or breached hand-off can be acknowledged"
        case .notTheReceiver(let agent, let owner):
            "agent \(agent) is not on the receiving side of this hand-off (owed by \(owner.agent.map { "agent \($0)" } ?? "department \(owner.department)"))"
        case .unknownViolation(let id): "no violation \(id)"
        case .emptyReason: "a review needs a reason"
        }
    }
}

extension Engine {
    /// Records that `agent` has read a hand-off (POLICY art. 11) and re-derives its customer.
    /// Acknowledging twice is harmless: the first acknowledgement stands.
    /// - Returns: the obligation after the acknowledgement.
    package func acknowledge(
        _ id: ObligationID, by agent: AgentID, at time: Timestamp, store: some ContactStore
    ) async throws -> StoredObligation {
        guard let person = self.directory.agent(agent) else { throw ActionError.unknownAgent(agent) }
        guard let stored = try await store.obligation(id) else { throw ActionError.unknownObligation(id) }
        let obligation = stored.obligation
        guard obligation.kind == .handoff else { throw ActionError.notAHandoff(id) }
        guard obligation.state.isOutstanding else { throw ActionError.notOutstanding(id, obligation.state) }
        let head = self.directory.department(obligation.owner.department)?.head == agent
        let receiving = obligation.owner.agent.map { $0 == agent } ?? (person.department == obligation.owner.department)
        guard receiving || head else { throw ActionError.notTheReceiver(agent, obligation.owner) }
        try await store.record(.acknowledgement(of: id, by: agent, at: time))
        try await self.applyWatermark(store: store)
        return try await store.obligation(id) ?? stored
    }

    /// Records a supervisor's decision on a violation.
    package func review(
        _ id: ViolationID, decision: ViolationReview.Decision, reason: String, by reviewer: String, at time: Timestamp,
        store: some ContactStore
    ) async throws {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ActionError.emptyReason }
        do {
            try await store.review(id, ViolationReview(decision: decision, reason: trimmed, by: reviewer, at: time))
        } catch StoreError.notFound {
            throw ActionError.unknownViolation(id)
        }
    }
}
