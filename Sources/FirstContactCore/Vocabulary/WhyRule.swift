/// The rule a `why` entry records (SPEC rule 7); raw values are the ids the export, the API, the
/// CLI and the contact page show.
package enum WhyRule: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    // Contacts (SPEC rule 1)
    case openContact = "open_contact"
    case attach
    case repeatOf = "repeat_of"
    case autoClose = "auto_close"
    case withheldNoCallback = "withheld_no_callback"
    case ivr

    // First responder (SPEC rule 2)
    case bindFirstResponder = "bind_first_responder"
    case ringNoAnswer = "ring_no_answer"
    /// The call rang the agent `/v1/route` names before the queue (SPEC "Routing a returning caller").
    case routed
    case reassigned

    // Callbacks (SPEC rules 3, 4)
    case missedCallCallback = "missed_call_callback"
    case missedCallFolded = "missed_call_folded"
    case missedCallHandoffPending = "missed_call_handoff_pending"
    case missedCallUnowned = "missed_call_unowned"
    case callbackAttempt = "callback_attempt"
    case callbackExhausted = "callback_exhausted"
    case callbackSatisfied = "callback_satisfied"

    // Hand-offs (SPEC rule 5, POLICY art. 11)
    case handoffPending = "handoff_pending"
    case handoffWarm = "handoff_warm"
    case handoffByHand = "handoff_by_hand"
    case handoffAcknowledged = "handoff_acknowledged"
    case handoffSatisfied = "handoff_satisfied"
    case transferSameDepartment = "transfer_same_department"
    case passedAround = "passed_around"
    case notHandedOver = "not_handed_over"

    // Clocks (SPEC rule 6)
    case breach
    case uncertain
    /// A clock ran out on an obligation whose records are still arriving late (a backfill in
    /// `serve`): decided once the source has settled.
    case awaitingSource = "awaiting_source"
    case escalation
    case notEscalated = "not_escalated"
    case obligationCancelled = "obligation_cancelled"

    // What people record (SPEC rule 9)
    case note
    case resolved
    case referredOut = "referred_out"
    case complaint
    case poorService = "poor_service"
    case actionOnClosedContact = "action_on_closed_contact"

    /// A late record changed an earlier conclusion (the store's amendments, SPEC rule 8).
    case lateRecord = "late_record"

    /// The rule that records an obligation of `kind` being met.
    package static func satisfied(_ kind: ObligationKind) -> WhyRule {
        switch kind {
        case .callback: .callbackSatisfied
        case .handoff: .handoffSatisfied
        }
    }

    /// The id, so that interpolating a rule prints what the export shows.
    package var description: String { self.rawValue }
}
