import FirstContactCore

/// Writes what the hotline's dialplan would post while callers are in the IVR menu, as
/// FirstContact IVR event XML (`ivr/`): the digit of every call routed through the menu, callback
/// requests (with the keyed number), and hang-ups inside the menu. PBX-neutral: the events carry
/// no PBX call id, so the same files go with `asterisk/` and with `freeswitch/`.
struct IVRWriter {
    /// Events per file: a simulated day of a million calls stays far below the XML size limit per document.
    static let eventsPerFile = 10_000

    func events(of call: SimCall) -> [String] {
        let caller = call.customerRaw
        switch call.shape {
        case .queue:
            guard let digit = call.ivrDigit else { return [] }
            let pressed = call.start + max(1, ((call.enteredAt ?? call.start) - call.start) / 2)
            return [Self.event("menu-choice", at: pressed, caller: caller, extra: " digit=\"\(digit)\"")]
        case .ivrHangup:
            guard call.requestsCallback else {
                return [Self.event("menu-hangup", at: call.end, caller: caller, extra: "")]
            }
            var events: [String] = []
            if let digit = call.ivrDigit {
                events.append(
                    Self.event("menu-choice", at: call.start + 5, caller: caller, extra: " digit=\"\(digit)\""))
            }
            events.append(
                Self.event(
                    "callback-request", at: call.start + 9, caller: caller,
                    extra: call.keyed.map { " number=\"\($0)\"" } ?? ""))
            return events
        case .directNoAnswer, .outbound, .internal:
            return []
        }
    }

    static func event(_ kind: String, at time: Timestamp, caller: String, extra: String) -> String {
        "  <ivr-event kind=\"\(kind)\" at=\"\(time.iso8601)\" caller=\"\(Self.escaped(caller))\"\(extra)/>"
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;")
    }

    static let header =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ivr-events xmlns=\"urn:firstcontact:ivr-events:1\">\n"
    static let footer = "</ivr-events>\n"
}
