/// One Asterisk Channel Event Logging row (`cel_custom` Master.csv, FORMATS §3): one event on one
/// channel, keyed by the `linkedid` the row was written with.
///
/// CEL says what a CDR blurs — which channel answered, which bridge it shared with the caller,
/// who transferred to whom — but one row is never a call: ``CallAssembler`` folds the rows of a
/// linkedid into the legs and queue facts the call rules read. The row keeps what Asterisk wrote
/// (channel names, app data, the parsed `extra`); mapping channels to agents happens at assembly,
/// so a changed configuration re-reads old rows.
///
/// A channel whose linkedid changes (bridged into an older call, FORMATS §3.3) writes its later
/// rows with the surviving linkedid: those rows, stored under the call it ends up in, are the ones
/// that say when it served that caller. Its earlier rows stay under the abandoned linkedid, whose
/// `LINKEDID_END` the channel outlives; the assembler reads such a channel as having left.
package struct CELRecord: Hashable, Sendable {
    /// The event types the assembler reads (names as Asterisk writes them, FORMATS §3.2).
    package enum Event: Hashable, Sendable {
        case channelStart
        case answer
        case hangup
        case channelEnd
        case linkedIDEnd
        case appStart
        case appEnd
        /// Asterisk 12+ `BRIDGE_ENTER`; pre-12 `BRIDGE_START` (a two-party bridge with `peer`).
        case bridgeEnter
        /// Asterisk 12+ `BRIDGE_EXIT`; pre-12 `BRIDGE_END`.
        case bridgeExit
        case blindTransfer
        case attendedTransfer
        /// Anything else (`PICKUP`, `FORWARD`, `PARK_*`, `LOCAL_OPTIMIZE`, user-defined): kept as evidence.
        case other(String)

        package init(name: String) {
            switch name {
            case "CHAN_START": self = .channelStart
            case "ANSWER": self = .answer
            case "HANGUP": self = .hangup
            case "CHAN_END": self = .channelEnd
            case "LINKEDID_END": self = .linkedIDEnd
            case "APP_START": self = .appStart
            case "APP_END": self = .appEnd
            case "BRIDGE_ENTER", "BRIDGE_START": self = .bridgeEnter
            case "BRIDGE_EXIT", "BRIDGE_END": self = .bridgeExit
            case "BLINDTRANSFER": self = .blindTransfer
            case "ATTENDEDTRANSFER": self = .attendedTransfer
            default: self = .other(name)
            }
        }

        /// The name as stored; pre-12 bridge names are stored as their 12+ equivalents.
        package var name: String {
            switch self {
            case .channelStart: "CHAN_START"
            case .answer: "ANSWER"
            case .hangup: "HANGUP"
            case .channelEnd: "CHAN_END"
            case .linkedIDEnd: "LINKEDID_END"
            case .appStart: "APP_START"
            case .appEnd: "APP_END"
            case .bridgeEnter: "BRIDGE_ENTER"
            case .bridgeExit: "BRIDGE_EXIT"
            case .blindTransfer: "BLINDTRANSFER"
            case .attendedTransfer: "ATTENDEDTRANSFER"
            case .other(let name): name
            }
        }
    }

    /// What the `extra` column says, for the events that carry one (Asterisk 12+ JSON, or the
    /// pre-12 HANGUP string `cause,source,dialstatus`).
    package struct Extra: Hashable, Sendable {
        /// HANGUP: the Q.850 cause (16 normal clearing, 17 busy, 19 no answer, 26 answered elsewhere).
        package var hangupCause: Int?
        /// HANGUP: the Dial status of the channel that dialled (ANSWER, NOANSWER, BUSY, CANCEL…).
        package var dialStatus: String
        /// BRIDGE_ENTER / BRIDGE_EXIT: `bridge_id`; transfers: `bridge_id` / `bridge1_id`.
        package var bridgeID: String
        /// BLINDTRANSFER: the extension and context the caller was sent to.
        package var transferExtension: String
        package var transferContext: String
        /// Transfers: the channel that was passed on (the caller).
        package var transfereeChannel: String
        /// ATTENDEDTRANSFER: the channel the caller was passed to (`transfer_target_channel_name`,
        /// else `channel2_name`).
        package var transferTargetChannel: String

        package init(
            hangupCause: Int? = nil, dialStatus: String = "", bridgeID: String = "", transferExtension: String = "",
            transferContext: String = "", transfereeChannel: String = "", transferTargetChannel: String = ""
        ) {
            self.hangupCause = hangupCause
            self.dialStatus = dialStatus
            self.bridgeID = bridgeID
            self.transferExtension = transferExtension
            self.transferContext = transferContext
            self.transfereeChannel = transfereeChannel
            self.transferTargetChannel = transferTargetChannel
        }
    }

    package var key: EventKey
    package var position: SourcePosition
    /// The linkedid the row was written with.
    package var call: CallKey
    package var event: Event
    package var time: Timestamp
    /// The microseconds within ``time`` (orders events of one second; 0 when the PBX's
    /// `dateformat` writes whole seconds).
    package var microseconds: Int
    package var callerName: String
    package var callerNumber: String
    package var exten: String
    package var context: String
    package var channel: String
    /// The application the channel was running (`appname`), and its argument (`appdata`).
    package var application: String
    package var applicationData: String
    package var uniqueID: String
    /// `peer`: the other bridge member(s), comma-separated when several.
    package var peer: String
    package var extra: Extra

    package init(
        key: EventKey, position: SourcePosition, call: CallKey, event: Event, time: Timestamp, microseconds: Int,
        callerName: String, callerNumber: String, exten: String, context: String, channel: String,
        application: String, applicationData: String, uniqueID: String, peer: String, extra: Extra
    ) {
        self.key = key
        self.position = position
        self.call = call
        self.event = event
        self.time = time
        self.microseconds = microseconds
        self.callerName = callerName
        self.callerNumber = callerNumber
        self.exten = exten
        self.context = context
        self.channel = channel
        self.application = application
        self.applicationData = applicationData
        self.uniqueID = uniqueID
        self.peer = peer
        self.extra = extra
    }
}
