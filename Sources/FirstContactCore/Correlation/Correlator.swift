/// The derived state of one customer: their contacts (with obligations and `why` trail) and
/// the violations found, as of a clock.
package struct Derivation: Hashable, Sendable {
    package var contacts: [Contact]
    package var violations: [Violation]
    /// The earliest clock at which this result would change with no new records (a deadline,
    /// an at-risk mark, an escalation step, an auto-close); nil when nothing is waiting.
    package var nextCheck: Timestamp?
    /// Calls that belong to no contact (short abandons with nothing open, outbound calls to a
    /// number with no open matter).
    package var unattached: [CallKey]
    /// The settled past a later derivation of this customer may start from (nil: none yet).
    package var settled: SettledPast? = nil
    /// Where a later derivation may resume the walk (nil: nothing to carry, or this result may
    /// still change with what a backfill brings).
    package var resume: ResumePoint? = nil
    /// Whether a clock ran out on an obligation of an `undecided` call: its breach waits for
    /// the backfill to settle, so this result is not final (no settled past is taken from it).
    package var awaitingSource = false
}

/// The correlation engine (SPEC rules 1–9): the calls of one customer number and a clock in,
/// contacts, obligations and violations out.
///
/// A pure function of the *set* of calls and the clock: calls are put in a canonical order
/// first, so the arrival order or batching of records can never change the result. A late
/// record simply means deriving the customer again.
package struct Correlator: Sendable {
    package let directory: Directory
    /// Rejects the store keeps per source (``IngestOptions/maxRejectsPerSource``); travels with
    /// the rules every ingest is given, so each path (CLI, HTTP, followers) applies the same cap.
    package var maxRejectsPerSource = IngestOptions().maxRejectsPerSource
    /// ``rulesFingerprint(_:)`` of the directory's configuration, which resume points carry.
    package let rules: String

    package init(directory: Directory) {
        self.directory = directory
        self.rules = Self.rulesFingerprint(directory.configuration)
    }

    /// - Parameters:
    ///   - customerKey: the key the calls are grouped by (``Call/customerKey``).
    ///   - calls: every call of that customer, in any order.
    ///   - clock: the time the state is evaluated at (event-time watermark, `tick --now`, or wall time).
    ///   - explaining: whether to write the `why` trail. Ingest leaves it off (the trail is most of
    ///     the work and can always be derived again); `explain` turns it on.
    ///   - gaps: silences of watched feeds; a clock that runs out inside one makes its
    ///     obligation `uncertain` instead of breached.
    ///   - ivr: the customer's IVR events (menu choices, callback requests, voicemail), tied to
    ///     their calls by time.
    ///   - related: outbound calls to other numbers this customer asked to be called back at.
    ///   - past: the customer's settled past (``Derivation/settled`` of an earlier derivation):
    ///     inputs before it are left out and its contacts are neither derived nor returned; the
    ///     contacts returned are those a derivation from every input returns after it.
    ///   - resume: the ``Derivation/resume`` of the earlier derivation that left `past`: inputs
    ///     before it are left out too and the walk goes on from its state. Ignored when it was
    ///     walked under other rules.
    ///   - undecided: calls of a backfill still arriving (SPEC "Backfill in `serve`"); an
    ///     obligation one of them created that was already overdue when the backfill's latest
    ///     late records arrived (due by `undecidedDueBy`) stays pending, not breached. One due
    ///     later was not overdue when it arrived: it breaches on time.
    package func derive(
        customerKey: String, calls: [Call], actions: [ManualAction] = [], ivr: [IVRRecord] = [], related: [Call] = [],
        gaps: [FeedGap] = [], clock: Timestamp, explaining: Bool = true, after past: SettledPast? = nil,
        resuming resume: ResumePoint? = nil, undecided: Set<CallKey> = [], undecidedDueBy: Timestamp = .beforeAnyRecord
    ) -> Derivation {
        var walk = Walk(directory: self.directory, customerKey: customerKey, trail: explaining ? Trail() : nil)
        walk.past = past
        // The trail is kept by contact from its first call: explaining walks everything.
        let resume = explaining ? nil : self.resumable(resume)
        if let resume { walk.resume(from: resume) }
        let since = resume?.before ?? past?.before ?? .beforeAnyRecord
        let calls = calls.filter { $0.start >= since }
        let related = related.filter { $0.start >= since }
        let actions = actions.filter { $0.at >= since }
        let ivr = ivr.filter { $0.time >= since }
        let routed = self.applyIVR(ivr, to: calls, customerKey: customerKey)
        walk.requests = routed.requests
        let ordered = (routed.calls + related.filter { $0.direction == .outbound && $0.customerKey != customerKey })
            .sorted { ($0.start, $0.end, $0.key) < ($1.start, $1.end, $1.key) }
        // Within a second, people's actions apply in the order they were stored (a hand-off
        // right after the visit it is about), not by id or kind.
        var pending = actions.sorted { ($0.at, $0.sequence, $0.id) < ($1.at, $1.sequence, $1.id) }[...]
        walk.gaps = gaps
        walk.undecided = undecided
        walk.undecidedDueBy = undecidedDueBy
        for call in ordered {
            // Actions recorded before this call started happened before it.
            while let action = pending.first, action.at < call.start {
                walk.advance(to: action.at)
                walk.apply(action)
                pending = pending.dropFirst()
            }
            walk.advance(to: call.start)
            switch call.direction {
            case .inbound: walk.inbound(call)
            case .outbound where call.customerKey == customerKey: walk.outbound(call)
            case .outbound: walk.outboundToRequestedNumber(call)
            case .internal: break
            }
        }
        for action in pending {
            walk.advance(to: action.at)
            walk.apply(action)
        }
        // What the next derivation resumes from: every input applied, before the clock moves the
        // walk on and `finish` marks anything at risk or escalates (so it depends on the inputs
        // only, not on the clock of the derivation that left it).
        let walked = walk
        let walkedTo = [ordered.map(\.end).max(), actions.map(\.at).max(), resume?.walkedTo].compactMap { $0 }.max()
        let asOf = max(clock, walkedTo ?? clock)
        walk.advance(to: asOf)
        var derivation = walk.finish(asOf: asOf)
        derivation.awaitingSource = !walk.held.isEmpty
        guard !derivation.awaitingSource else { return derivation }
        derivation.settled = walk.settledPast(
            calls: ordered, actions: actions, ivr: ivr, waiting: walk.waiting, from: past, resumedAt: resume?.before)
        // None while a backfill is arriving for this customer (where it lands decides later
        // whether a clock that ran out breached). IVR events that tied to no call count among
        // the inputs walked: the next walk must not read them again.
        if !explaining, undecided.isEmpty, let walkedTo,
            let latest = [walkedTo, ivr.map(\.time).max(), resume.map { $0.before - 1 }].compactMap({ $0 }).max()
        {
            derivation.resume = walked.resumePoint(
                before: latest + 1, walkedTo: walkedTo, rules: self.rules, after: derivation.settled)
        }
        return derivation
    }
}
