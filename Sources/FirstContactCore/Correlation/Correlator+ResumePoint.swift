/// Where a later derivation of a customer can pick up the walk: the walk's state once every input
/// before `before` was applied (and before the derivation's end marked anything at risk or
/// escalated), for the contacts after the customer's settled past.
///
/// A settled past only cuts where every contact before it is closed for good, so a contact that
/// stays open (a callback never returned; a customer who calls every weekday, whose contact closes
/// only over the weekend) was walked again from its first call at every derivation, and a day's
/// ingest grew with the history stored (history benchmark, BENCHMARKS.md). With a resume point a
/// derivation reads and walks only the inputs at or after `before`.
///
/// It holds only while nothing arrives from before `before` (the store drops it then, as it drops
/// a settled past) and while the rules are the ones it was walked under (`rules`).
package struct ResumePoint: Hashable, Sendable {
    /// Every input before this time is in the state; the walk goes on with those at or after it.
    package var before: Timestamp
    /// The latest call end or action the state holds (a derivation is as of the later of it and
    /// the clock).
    var walkedTo: Timestamp
    /// ``Correlator/rulesFingerprint(_:)`` of the rules the state was walked under.
    package var rules: String
    package internal(set) var contacts: [Contact]
    var violations: [Violation]
    var open: Int?
    var routed: [ContactID: DepartmentID]
    var bindingCallEnd: [ContactID: Timestamp]
    var departmentsLeft: [ContactID: Set<DepartmentID>]
    var transferCount: [ContactID: Int]
    /// Digests of the derived rows the store holds for `contacts`, as the derivation that left
    /// this point wrote them (after its `finish`), in the order of `contacts`: each contact's
    /// row, its violations, then each of its obligations' rows. Opaque here: the store computes
    /// and compares them, so that a derivation writes (and reads) only the rows that changed.
    /// Empty when none were taken.
    package var rowDigests: [UInt64] = []

    /// A point carrying a single call saves walking that one call again (≈ 80 µs) and costs its
    /// bytes in the customer's row: with 1,000,000 customers each waiting on one callback they were
    /// 246 MB of a 1.32 GB file (BENCHMARKS.md, the scheduler tick), and 10–19 % of a one-day file.
    static let fewestCalls = 2
}

extension Correlator.Walk {
    /// Continues from `point`: its contacts, violations and per-contact state are this walk's.
    mutating func resume(from point: ResumePoint) {
        self.contacts = point.contacts
        self.violations = point.violations
        self.open = point.open
        self.routed = point.routed
        self.bindingCallEnd = point.bindingCallEnd
        self.departmentsLeft = point.departmentsLeft
        self.transferCount = point.transferCount
    }

    /// This walk's state as a resume point at `before`, without the contacts of `settled` (which
    /// the next derivation starts after); nil when no contact would be carried, or when what it
    /// carries is less than ``ResumePoint/fewestCalls`` calls.
    func resumePoint(before: Timestamp, walkedTo: Timestamp, rules: String, after settled: SettledPast?)
        -> ResumePoint?
    {
        let first =
            settled.map { past in self.contacts.firstIndex { $0.createdAt >= past.before } ?? self.contacts.count }
            ?? 0
        guard first < self.contacts.count else { return nil }
        let kept = Array(self.contacts[first...])
        guard kept.reduce(0, { $0 + $1.calls.count }) >= ResumePoint.fewestCalls else { return nil }
        let ids = Set(kept.map(\.id))
        return ResumePoint(
            before: before, walkedTo: walkedTo, rules: rules, contacts: kept,
            violations: self.violations.filter { ids.contains($0.contact) },
            open: self.open.flatMap { $0 >= first ? $0 - first : nil },
            routed: self.routed.filter { ids.contains($0.key) },
            bindingCallEnd: self.bindingCallEnd.filter { ids.contains($0.key) },
            departmentsLeft: self.departmentsLeft.filter { ids.contains($0.key) },
            transferCount: self.transferCount.filter { ids.contains($0.key) })
    }
}

extension Correlator {
    /// `point` if this correlator resumes from it (walked under the same rules), else nil: what
    /// a store reads for a derivation starts at its `before`, or at the settled past.
    package func resumable(_ point: ResumePoint?) -> ResumePoint? {
        point.flatMap { $0.rules == self.rules ? $0 : nil }
    }

    /// A fingerprint of everything in the configuration, the same in every process that loads
    /// the same settings: a resume point walked under other rules is not used (a changed SLA or
    /// device mapping applies to every contact not yet settled, as it did before resume points).
    ///
    /// Built from the configuration's reflection with every dictionary and set in sorted order
    /// (their iteration order differs from process to process).
    package static func rulesFingerprint(_ configuration: FirstContactConfiguration) -> String {
        StableHash.hex(Self.canonicalDescription(configuration))
    }

    private static func canonicalDescription(_ value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            return mirror.children.first.map { Self.canonicalDescription($0.value) } ?? "nil"
        case .dictionary, .set:
            let items = mirror.children.map { Self.canonicalDescription($0.value) }.sorted()
            return "{" + items.joined(separator: ",") + "}"
        case .struct, .class, .enum, .tuple, .collection:
            guard !mirror.children.isEmpty else { return "\(type(of: value)).\(value)" }
            let fields = mirror.children.map { "\($0.label ?? ""):\(Self.canonicalDescription($0.value))" }
            return "\(type(of: value))(" + fields.joined(separator: ",") + ")"
        default:
            return "\(value)"
        }
    }
}
