import FirstContactCore

/// A deterministic random source (SplitMix64): the same seed gives the same day on every machine.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func seconds(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// One agent ringing (and not answering) or serving the caller, in a simulated call.
struct SimRing: Hashable {
    var agent: AgentID
    var from: Timestamp
    var to: Timestamp
}

struct SimAnswer: Hashable {
    var agent: AgentID
    var ringFrom: Timestamp
    var at: Timestamp
    var until: Timestamp
}

/// A transfer out of an answered queue call into another department's queue.
struct SimTransfer: Hashable {
    var at: Timestamp
    var queue: String
    var department: DepartmentID
    var enteredAt: Timestamp
    var rung: [SimRing]
    var answer: SimAnswer?
}

/// One simulated call, with every time decided: the story, not the records.
struct SimCall: Hashable {
    enum Shape: Hashable {
        /// Through the IVR into a queue; answered, abandoned, or (with `answer` nil and no
        /// members rung) given up on with nobody available.
        case queue
        /// Hung up in the IVR menu before reaching a queue.
        case ivrHangup
        /// Dialled an agent's extension directly; nobody answered.
        case directNoAnswer
        /// An agent called the customer.
        case outbound
        /// An agent called another agent.
        case `internal`
    }

    var shape: Shape
    var key: String
    var start: Timestamp
    var end: Timestamp
    var customerRaw: String
    var callerName: String
    /// Queue calls.
    var queue: String?
    var department: DepartmentID?
    var enteredAt: Timestamp?
    var rung: [SimRing] = []
    var answer: SimAnswer?
    var transfer: SimTransfer?
    /// Direct dials, outbound and internal calls: the agent dialled or dialling.
    var agent: AgentID?
    var target: String = ""
    /// The IVR menu digit the caller pressed (queue calls and callback requests).
    var ivrDigit: String?
    /// The caller asked to be called back in the IVR; at `keyed` when they keyed another number.
    var requestsCallback = false
    var keyed: String?
    var answered: Bool { self.answer != nil }

    /// How long the caller waited before giving up (what the abandon grace compares).
    var wait: Int64 {
        if self.shape == .queue, let entered = self.enteredAt { return self.end - entered }
        return self.end - self.start
    }
}

/// A customer's day: the calls that make up their story, and which kind of story it is.
struct SimStory {
    enum Kind: String, CaseIterable {
        case answered, answeredTwice, callbackOnTime, callbackLate, missedNever, exhausted, attemptThenCallback,
            missedTwice, customerCalledBack, shortAbandon, ivrHangup, directDialMissed, withheldMissed,
            transferWarm, transferFailed, transferContacted, internalCall, afterHours, ivrCallback
    }

    var kind: Kind
    var customerRaw: String
    var calls: [SimCall]
}
