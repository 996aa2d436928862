/// SPEC vocabulary as enums; raw values are the exported strings.

/// How a customer reached the company.
package enum ContactChannel: String, Sendable, Hashable, CaseIterable {
    case phone, visit, letter
}

/// What the customer wanted (POLICY art. 6).
package enum ContactCategory: String, Sendable, Hashable, CaseIterable {
    case service, consultation, inquiry, complaint, instruction, notice, report
}

/// Where a first-contact record stands.
package enum ContactStatus: String, Sendable, Hashable, CaseIterable {
    case open
    case awaitingCallback = "awaiting_callback"
    case handedOff = "handed_off"
    case resolved
    case referredOut = "referred_out"
    case closed
}

/// Direction of a call as seen from the hotline.
package enum CallDirection: String, Sendable, Hashable, CaseIterable {
    case inbound, outbound, `internal`
}

/// How a call ended for the customer.
package enum CallOutcome: String, Sendable, Hashable, CaseIterable {
    case answered
    case abandoned
    case noAnswer = "no_answer"
    case busy
    case failed
    case voicemail
    case callbackRequested = "callback_requested"
}

/// How a first responder came to be bound.
package enum BindingVia: String, Sendable, Hashable, CaseIterable {
    case inbound, callback, manual, reassigned
}

package enum ObligationKind: String, Sendable, Hashable, CaseIterable {
    case callback, handoff
}

package enum ObligationState: String, Sendable, Hashable, CaseIterable {
    case pending
    case satisfied
    case satisfiedLate = "satisfied_late"
    case breached
    case exhausted
    case cancelled

    /// Still owed: blocks auto-close and accepts further misses.
    package var isOutstanding: Bool { self == .pending || self == .breached }
}

/// What satisfied an obligation.
package enum SatisfiedVia: String, Sendable, Hashable, CaseIterable {
    case callback
    case customerCalledBack = "customer_called_back"
    case warmTransfer = "warm_transfer"
    case contacted
    case manual
}

/// POLICY §5 categories.
package enum ViolationCategory: String, Sendable, Hashable, CaseIterable {
    case notHandledInTime = "not_handled_in_time"
    case notHandedOver = "not_handed_over"
    case handoffStalled = "handoff_stalled"
    case poorService = "poor_service"
    case passedAround = "passed_around"
    case notEscalated = "not_escalated"
    /// A complaint about the contact's handling (POLICY art. 21), filed against its first
    /// responder; the supervisor's review decides what it was.
    case complaint
}
