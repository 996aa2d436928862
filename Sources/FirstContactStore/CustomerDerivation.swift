import FirstContactCore

/// One customer's derivation in three steps: the store reads ``DerivationInputs``,
/// ``DerivationInputs/derive(correlator:clock:gaps:undecidedDueBy:)`` computes (pure: call
/// assembly, correlation, row digests), the store writes what changed. Keeping the middle step
/// apart lets SQLite compute one slice of a chunk's customers on the second core while its one
/// writer reads and writes the next (``SQLiteContactStore``'s `deriveChunk`).
///
/// Why a customer's inputs may be read before other customers of the same chunk are written:
/// a derivation reads records (its own, and the outbound calls to numbers it keyed) and its own
/// customer row, never another customer's derived rows; and the rows it reads of its own are
/// read in the write step.
package struct DerivationInputs: Sendable {
    package var customer: String
    /// Whether derived rows of the customer exist already (to compare and delete).
    package var replacing: Bool
    /// The settled past the store holds.
    package var past: SettledPast?
    /// The resume point the store holds (what the stored rows' digests describe).
    package var stored: ResumePoint?
    /// `stored`, when it was walked under the correlator's rules.
    package var resume: ResumePoint?
    /// The customer's records from ``from`` on, grouped by call.
    package var records: [(CallKey, [CallRecord])] = []
    package var actions: [ManualAction] = []
    package var ivr: [IVRRecord] = []
    /// Records from ``from`` on of each other number the customer keyed for a callback since
    /// the settled past, a list per number (read only when ``readsRelated``).
    package var related: [[(CallKey, [CallRecord])]] = []
    /// Calls a backfill hold keeps undecided.
    package var undecided: Set<CallKey> = []

    package init(
        customer: String, replacing: Bool, past: SettledPast?, stored: ResumePoint?, correlator: Correlator
    ) {
        self.customer = customer
        self.replacing = replacing
        self.past = past
        self.stored = stored
        self.resume = correlator.resumable(stored)
    }

    /// Where the settled past ends: derived rows before it stay as they are.
    package var since: Timestamp { self.past?.before ?? .beforeAnyRecord }

    /// Where the inputs start: the resume point, or else the settled past.
    package var from: Timestamp { self.resume?.before ?? self.since }

    /// Whether a callback may be owed to another number (once ``ivr`` is read): one keyed in the
    /// IVR, or one the resume point carries (keyed before it).
    package var readsRelated: Bool { !self.ivr.isEmpty || self.resume != nil }

    /// The outbound calls among each related number's records.
    package static func outboundCalls(_ related: [[(CallKey, [CallRecord])]], assembler: CallAssembler) -> [Call] {
        related.flatMap { assembler.assembleCalls($0).filter { $0.direction == .outbound } }
    }

    /// The customer's derivation at `clock`, its rows' digests taken into its resume point and
    /// compared with the stored point's.
    package func derive(
        correlator: Correlator, clock: Timestamp, gaps: [FeedGap], undecidedDueBy: Timestamp
    ) -> ComputedDerivation {
        let assembler = CallAssembler(directory: correlator.directory)
        let calls = assembler.assembleCalls(self.records)
        var derivation = correlator.derive(
            customerKey: self.customer, calls: calls, actions: self.actions, ivr: self.ivr,
            related: Self.outboundCalls(self.related, assembler: assembler), gaps: gaps, clock: clock,
            explaining: false, after: self.past, resuming: self.resume, undecided: self.undecided,
            undecidedDueBy: undecidedDueBy)
        let rows = DerivedRowChanges.compare(&derivation, customer: self.customer, stored: self.stored)
        let empty =
            self.past == nil && self.resume == nil && calls.isEmpty && self.actions.isEmpty && self.ivr.isEmpty
            && derivation.contacts.isEmpty
        return ComputedDerivation(derivation: derivation, rows: rows, filesNothing: empty)
    }
}

/// What ``DerivationInputs/derive(correlator:clock:gaps:undecidedDueBy:)`` made of a customer's inputs.
package struct ComputedDerivation: Sendable {
    package var derivation: Derivation
    /// What changed against the stored rows; nil when the stored point has no digests (every
    /// stored row is then read and compared).
    package var rows: DerivedRowChanges?
    /// No settled past, no resume point, no input and no contact: every call the customer had
    /// may have moved to another customer (the store checks that nothing is filed under it).
    package var filesNothing: Bool
}
