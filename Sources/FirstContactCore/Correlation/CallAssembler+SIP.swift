/// SIP proxy rows (Kamailio `acc`, `missed_calls`, `acc_cdrs`) → the legs ``CallAssembler``
/// reads: one leg per INVITE branch, party A being the caller (`sip:<From user>`) and party B
/// the agent the branch went to, so direction, direct dial, first responder and ring-no-answer
/// follow the same rules as for Asterisk legs.
extension CallAssembler {
    /// What the SIP rows of one Call-ID say.
    struct SIPCall {
        /// One leg per INVITE branch (answered or failed); empty when no row says who called
        /// (only BYE rows so far: the INVITE row is still to come).
        var legs: [LegRecord]
        /// What the caller got, from the SIP codes; nil when no row carries one.
        var outcome: CallOutcome?
        /// Whether a dialog CDR gave the INVITE's arrival; transaction rows are written only at
        /// the final reply, so without one the ring time is unknown.
        var startKnown: Bool
    }

    func sipCall(_ unsorted: [SIPRecord]) -> SIPCall {
        let rows = unsorted.sorted { ($0.time, $0.key) < ($1.time, $1.key) }
        let invites = rows.filter(\.isInvite)
        let dialogs = rows.filter { $0.kind == .dialog }
        // Who called whom: the INVITE comes from the caller; a dialog row says it too. A BYE can
        // come from either side (`detect_direction` swaps only the tags), so it never decides.
        guard let origin = invites.first ?? dialogs.first, let first = rows.first, let last = rows.last else {
            return SIPCall(legs: [], outcome: nil, startKnown: false)
        }
        let caller = origin.caller.isEmpty ? (dialogs.first { !$0.caller.isEmpty }?.caller ?? "") : origin.caller
        let dialled = origin.dialled.isEmpty ? (dialogs.first { !$0.dialled.isEmpty }?.dialled ?? "") : origin.dialled
        let dialogStart = dialogs.compactMap(\.start).min()
        let start = min(dialogStart ?? first.time, first.time)
        let end = last.time

        func leg(_ row: SIPRecord, code: Int?, answer: Timestamp?) -> LegRecord {
            let disposition =
                code.map(SIPRecord.disposition(forCode:))
                ?? (answer != nil ? .answered : .noAnswer)
            let answered = disposition == .answered
            let legEnd = answered ? end : max(row.time, start)
            let answerTime = answered ? (answer ?? row.time) : nil
            return LegRecord(
                key: row.key, position: row.position, call: row.call, uniqueID: row.call.rawValue,
                source: caller, callerName: "", destination: dialled, context: "",
                channel: caller.isEmpty ? "" : "sip:\(caller)", peerChannel: self.sipPeer(row),
                application: "SIP", applicationData: code.map { "\($0) \(row.reason)" } ?? row.reason,
                start: start, answer: answerTime, end: legEnd,
                // A 2xx to the INVITE is the phone answering; whole-second times must not turn a
                // sub-second call into "not really answered".
                billsec: answerTime.map { max(1, Int(legEnd - $0)) } ?? 0,
                disposition: disposition, sequence: nil)
        }

        // One leg per branch: a branch's failure can be in `acc` (failed_transaction_flag) and in
        // `missed_calls` at once; the same to-tag and code is the same branch.
        var seen: Set<[String]> = []
        var legs: [LegRecord] = []
        for row in invites where seen.insert([row.toTag, row.code.map(String.init) ?? ""]).inserted {
            legs.append(leg(row, code: row.code, answer: nil))
        }
        // The dialog CDR stands in for INVITE rows that are missing (CDR-only set-ups, or the
        // answered INVITE's row not ingested yet).
        let answeredInvite = legs.contains { $0.disposition == .answered }
        for dialog in dialogs {
            let answered = dialog.answer != nil || (dialog.code.map { (200..<300).contains($0) } ?? false)
            if invites.isEmpty || (answered && !answeredInvite) {
                legs.append(leg(dialog, code: dialog.code, answer: dialog.answer))
            }
        }

        let outcome: CallOutcome?
        if legs.contains(where: { $0.disposition == .answered }) {
            outcome = .answered
        } else if let code = dialogs.last(where: { $0.code != nil })?.code
            ?? invites.last(where: { $0.code != nil })?.code
        {
            // The CDR's code is the one the caller got; else the last branch's final reply.
            outcome = SIPRecord.outcome(forCode: code)
        } else {
            outcome = nil
        }
        return SIPCall(legs: legs, outcome: outcome, startKnown: dialogStart != nil)
    }

    /// Party B of a branch as a channel name the directory resolves: the `agent` column when it
    /// names a configured device, else the routed Request-URI user, else the dialled user
    /// (`sip:USER` maps to the agent with that device or extension). When none is an agent,
    /// the first value written, so the branch still has a party B.
    private func sipPeer(_ row: SIPRecord) -> String {
        func uri(_ user: String) -> String {
            guard !user.isEmpty else { return "" }
            return user.lowercased().hasPrefix("sip:") || user.lowercased().hasPrefix("sips:") ? user : "sip:\(user)"
        }
        let candidates = [row.agent, uri(row.target), uri(row.dialled)].filter { !$0.isEmpty }
        return candidates.first { self.directory.agent(forChannel: $0) != nil } ?? candidates.first ?? ""
    }
}
