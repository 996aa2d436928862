/// One accounting row of a SIP proxy (Kamailio `acc` module, FORMATS §6): a SIP transaction
/// (`acc`, `missed_calls`) or a dialog CDR (`acc_cdrs`).
///
/// A proxy accounts transactions, not calls: an answered call is an INVITE 200 row plus a BYE
/// row (plus a CDR when the dialog module writes one), a missed call is a failed INVITE row per
/// branch. The rows share the SIP Call-ID, which is the call key; ``CallAssembler`` turns all
/// rows of a Call-ID into one ``Call``. The row keeps what the proxy wrote (user parts, codes);
/// mapping users to agents happens at assembly, so a changed configuration re-reads old rows.
package struct SIPRecord: Hashable, Sendable {
    /// Which kind of row: the two kinds state different facts about the same call.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A completed transaction (`acc`, `missed_calls`): one final reply to one request.
        case transaction
        /// A whole dialog from INVITE to BYE (`acc_cdrs`, written by the dialog module).
        case dialog
    }

    package var key: EventKey
    package var position: SourcePosition
    /// The SIP Call-ID.
    package var call: CallKey
    package var kind: Kind
    /// The request method (`INVITE`, `BYE`…); empty for a dialog row.
    package var method: String
    /// The final SIP status code (`sip_code`); nil when the row has none (a CDR whose script did
    /// not set it).
    package var code: Int?
    package var reason: String
    package var fromTag: String
    package var toTag: String
    /// The calling user: From user (`src_user` = `$fU`) or the CDR's `caller`.
    package var caller: String
    /// The number the caller dialled: To user (`dst_ouser` = `$tU`) or the CDR's `callee`.
    package var dialled: String
    /// The Request-URI user after routing (`dst_user` = `$rU`): differs from ``dialled`` when the
    /// proxy rewrote the target (a hotline number routed to an agent). Empty for dialog rows.
    package var target: String
    /// Where the proxy sent the call (`agent` extra: a URI such as `sip:1001@pbx` or the
    /// destination set `sip:10.0.0.5:5060`); empty when not written.
    package var agent: String
    /// When the transaction completed (its final reply); for a dialog row, the dialog's end.
    package var time: Timestamp
    /// Dialog rows: when the INVITE arrived (`start_time`). Nil for transactions.
    package var start: Timestamp?
    /// Dialog rows: when the call was answered (`answer_ts`), nil if it was not.
    package var answer: Timestamp?

    package init(
        key: EventKey, position: SourcePosition, call: CallKey, kind: Kind, method: String, code: Int?,
        reason: String, fromTag: String, toTag: String, caller: String, dialled: String, target: String,
        agent: String, time: Timestamp, start: Timestamp?, answer: Timestamp?
    ) {
        self.key = key
        self.position = position
        self.call = call
        self.kind = kind
        self.method = method
        self.code = code
        self.reason = reason
        self.fromTag = fromTag
        self.toTag = toTag
        self.caller = caller
        self.dialled = dialled
        self.target = target
        self.agent = agent
        self.time = time
        self.start = start
        self.answer = answer
    }

    /// An INVITE transaction: one branch of the call (answered or failed).
    package var isInvite: Bool { self.kind == .transaction && self.method.uppercased() == "INVITE" }

    /// How a final SIP status ends a branch, in the leg dispositions the assembler reads.
    package static func disposition(forCode code: Int) -> LegDisposition {
        switch code {
        case 200..<300: .answered
        // 600 Busy Everywhere is a busy line too.
        case 486, 600: .busy
        // 487 Request Terminated: the caller cancelled while it rang.
        case 487: .cancel
        // 408 Request Timeout (the proxy's no-answer timer), 480 Temporarily Unavailable.
        case 408, 480: .noAnswer
        case 503: .congestion
        default: .failed
        }
    }

    /// What the caller experienced when the final reply to their INVITE was `code`
    /// (SPEC vocabulary): 487 means the caller gave up while it rang, i.e. abandoned.
    package static func outcome(forCode code: Int) -> CallOutcome {
        switch self.disposition(forCode: code) {
        case .answered: .answered
        case .busy: .busy
        case .cancel: .abandoned
        case .noAnswer: .noAnswer
        case .failed, .congestion, .unknown: .failed
        }
    }
}
