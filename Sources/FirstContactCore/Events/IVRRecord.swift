/// One FirstContact IVR event (`ivr-events`, schema `samples/ivr-events.xsd`): what the caller did
/// in the hotline's menu, posted by the PBX's dialplan. It is tied to the caller's call by number
/// and time, not by a PBX call id, so the same events work with any PBX's records.
package struct IVRRecord: Hashable, Sendable {
    package enum Kind: Hashable, Sendable {
        /// A menu digit: routes the contact by the configuration's `ivr` map (SPEC rule 1).
        case menuChoice(digit: String)
        /// "Call me back" — at `number` when the caller keyed one, else at the caller ID (SPEC rule 3).
        case callbackRequest(number: String?)
        /// The caller left a voicemail: a miss however short the call.
        case voicemail
        /// The caller hung up inside the menu.
        case menuHangup
    }

    package var key: EventKey
    package var position: SourcePosition
    package var time: Timestamp
    /// The caller ID as the PBX had it (raw; normalised like a CDR's `src`).
    package var caller: String
    /// The PBX's call id when the dialplan sent one (kept for people, not used to correlate).
    package var callReference: String
    package var kind: Kind

    package init(
        key: EventKey, position: SourcePosition, time: Timestamp, caller: String, callReference: String, kind: Kind
    ) {
        self.key = key
        self.position = position
        self.time = time
        self.caller = caller
        self.callReference = callReference
        self.kind = kind
    }

    /// The kind's name in the XML and the store.
    package var kindName: String {
        switch self.kind {
        case .menuChoice: "menu-choice"
        case .callbackRequest: "callback-request"
        case .voicemail: "voicemail"
        case .menuHangup: "menu-hangup"
        }
    }
}
