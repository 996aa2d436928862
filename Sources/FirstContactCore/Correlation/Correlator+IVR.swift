/// A callback the caller asked for in the IVR (SPEC rule 3), and the IVR's part in the call.
struct IVRRequest: Hashable, Sendable {
    var callback = false
    /// The number keyed, when it is not the caller ID (SPEC rule 1: owed to that number).
    var number: CustomerNumber?
    /// What the caller did in the menu, for the trail.
    var notes: [String] = []
}

extension Correlator {
    /// Ties each IVR event to the customer's inbound call it happened in (by time: the dialplan
    /// posts it during the call) and applies it: a menu choice routes the call, a callback request
    /// or voicemail makes an unanswered call a miss whatever its length. A callback request or
    /// voicemail with no call (the PBX's record has not arrived) stands for a call of its own, so
    /// the promise is kept even then; a late record joins it on the next derivation.
    func applyIVR(_ events: [IVRRecord], to calls: [Call], customerKey: String) -> (
        calls: [Call], requests: [CallKey: IVRRequest]
    ) {
        guard !events.isEmpty else { return (calls, [:]) }
        var calls = calls
        var requests: [CallKey: IVRRequest] = [:]
        let configuration = self.directory.configuration
        for event in events.sorted(by: { ($0.time, $0.key) < ($1.time, $1.key) }) {
            let match = calls.indices
                .filter {
                    calls[$0].direction == .inbound && calls[$0].start <= event.time && event.time <= calls[$0].end
                }
                .max { (calls[$0].start, calls[$0].key) < (calls[$1].start, calls[$1].key) }
            let index: Int
            if let match {
                index = match
            } else {
                switch event.kind {
                case .menuChoice(let digit) where configuration.ivr[digit]?.callback == true: break
                case .callbackRequest, .voicemail: break
                case .menuChoice, .menuHangup: continue  // nothing to route without a call
                }
                // A withheld caller is known only by the number they keyed (the store files the
                // event under it); with none, the PBX's own record of the call counts the miss.
                var customer = self.directory.normaliser.normalise(event.caller)
                if customer.isWithheld {
                    guard case .callbackRequest(let keyed?) = event.kind else { continue }
                    customer = self.directory.normaliser.normalise(keyed)
                    guard !customer.isWithheld else { continue }
                }
                calls.append(
                    Call(
                        key: CallKey("ivr:\(event.key.rawValue)"), direction: .inbound, customer: customer,
                        customerRaw: event.caller,
                        start: event.time, end: event.time, outcome: .callbackRequested, answers: [], ringNoAnswer: [],
                        callingAgent: nil, directDialAgent: nil, department: nil, category: nil, waitSeconds: 0,
                        transfers: [],
                        evidence: [event.position]))
                index = calls.count - 1
            }
            let key = calls[index].key
            if !calls[index].evidence.contains(event.position) { calls[index].evidence.append(event.position) }
            switch event.kind {
            case .menuChoice(let digit):
                guard let route = configuration.ivr[digit] else {
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit) (not in the ivr map)")
                    continue
                }
                if let department = route.department {
                    calls[index].department = department
                    calls[index].category = route.category ?? self.directory.department(department)?.category
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit): department \(department)")
                }
                if route.callback {
                    requests[key, default: IVRRequest()].callback = true
                    requests[key, default: IVRRequest()].notes.append("pressed \(digit): asked to be called back")
                }
            case .callbackRequest(let number):
                requests[key, default: IVRRequest()].callback = true
                let keyed = number.map { self.directory.normaliser.normalise($0) }
                if let keyed, keyed.text != customerKey, keyed != .withheld {
                    requests[key, default: IVRRequest()].number = keyed
                    requests[key, default: IVRRequest()].notes.append("asked to be called back at \(keyed.masked)")
                } else {
                    requests[key, default: IVRRequest()].notes.append("asked to be called back")
                }
            case .voicemail:
                if calls[index].answers.isEmpty { calls[index].outcome = .voicemail }
                requests[key, default: IVRRequest()].notes.append("left a voicemail")
            case .menuHangup:
                requests[key, default: IVRRequest()].notes.append("hung up in the menu")
            }
            if requests[key]?.callback == true, calls[index].answers.isEmpty, calls[index].outcome != .voicemail {
                calls[index].outcome = .callbackRequested
            }
        }
        return (calls, requests)
    }
}
