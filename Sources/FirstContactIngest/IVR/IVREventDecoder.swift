import FirstContactCore

/// Decodes FirstContact IVR event XML (`ivr-events`; schema `samples/ivr-events.xsd`, README
/// "IVR events"): one `<ivr-event>` element, or an `<ivr-events>` document holding many.
///
/// ```xml
/// <ivr-events xmlns="urn:firstcontact:ivr-events:1">
///   <ivr-event kind="menu-choice" at="2026-11-27T09:15:02+08:00" caller="13800138000" digit="2" call="1795741200.17"/>
///   <ivr-event kind="callback-request" at="2026-11-27T09:15:09+08:00" caller="13800138000" number="13912345678"/>
/// </ivr-events>
/// ```
///
/// Every event is its own record or reject: one bad event (unknown kind, a time without its
/// offset, no caller) is rejected with its ordinal in the document and the rest go on. A
/// document XMLReader refuses (hostile or not well-formed) is one reject. An event's key is
/// taken from its meaning, not its bytes, so the same event posted again in other whitespace or
/// attribute order is stored once.
package struct IVREventDecoder: Sendable {
    package let limits: XMLLimits
    package static let keptRejectBytes = Reject.maxKeptRawBytes

    package init(limits: XMLLimits = XMLLimits()) {
        self.limits = limits
    }

    package func decode(_ input: [UInt8], position: SourcePosition) -> [IngestRecord] {
        let document = Self.unwrap(input)
        let content = IVRContent()
        do {
            try XMLReader.read(document, limits: self.limits, into: content)
        } catch {
            return [
                .reject(
                    Reject(
                        position: position, reason: "IVR event XML refused (\(error.kind.rawValue)): \(error.message)",
                        raw: document))
            ]
        }
        if let problem = content.problem {
            return [.reject(Reject(position: position, reason: "IVR event XML: \(problem)", raw: document))]
        }
        guard !content.events.isEmpty else {
            return [
                .reject(
                    Reject(
                        position: position, reason: "IVR event XML: no <ivr-event> element in the document",
                        raw: document))
            ]
        }
        return content.events.enumerated().map { index, attributes in
            // Events are numbered within the document (1-based) where a line-based format has lines.
            let at = SourcePosition(source: position.source, line: position.line + index, offset: position.offset)
            return Self.event(attributes, position: at)
        }
    }

    /// The XML itself, or — what FreeSWITCH's `curl` application posts from a dialplan, where
    /// `<` and quotes cannot be written — the same XML percent-encoded (`%3Civr-event%20…`).
    static func unwrap(_ input: [UInt8]) -> [UInt8] {
        let body = input.drop {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t")
        }
        guard body.count >= 3, body.first == UInt8(ascii: "%"),
            body.dropFirst().prefix(2).elementsEqual("3C".utf8) || body.dropFirst().prefix(2).elementsEqual("3c".utf8)
        else { return input }
        return PercentDecoding.decode(body)
    }

    static func event(_ attributes: [String: String], position: SourcePosition) -> IngestRecord {
        func reject(_ reason: String) -> IngestRecord {
            let text = attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: " ")
            return .reject(
                Reject(
                    position: position, reason: "IVR event \(position.line): \(reason)",
                    raw: Array("<ivr-event \(text)/>".utf8)))
        }
        guard let kindText = attributes["kind"] else { return reject("no kind attribute") }
        guard let atText = attributes["at"] else { return reject("no at attribute") }
        guard let time = Timestamp(iso8601: atText) else {
            return reject("at=\(Reject.quoted(atText)) is not a time with its offset, like 2026-11-27T09:15:02+08:00")
        }
        let caller = (attributes["caller"] ?? "").trimmingCharacters(in: .whitespaces)
        let number = attributes["number"].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        let kind: IVRRecord.Kind
        switch kindText {
        case "menu-choice":
            guard let digit = attributes["digit"], !digit.isEmpty,
                digit.allSatisfy({ $0.isNumber || $0 == "*" || $0 == "#" })
            else {
                return reject("menu-choice needs digit=\"0\"…\"9\", \"*\" or \"#\"")
            }
            kind = .menuChoice(digit: digit)
        case "callback-request":
            guard !caller.isEmpty || number != nil else {
                return reject("a callback request with no caller and no number keyed: nobody to call back")
            }
            kind = .callbackRequest(number: number)
        case "voicemail": kind = .voicemail
        case "menu-hangup": kind = .menuHangup
        default:
            return reject(
                "unknown kind \(Reject.quoted(kindText)) (menu-choice, callback-request, voicemail, menu-hangup)")
        }
        let call = attributes["call"] ?? ""
        let canonical = [kindText, String(time.seconds), caller, attributes["digit"] ?? "", number ?? "", call].joined(
            separator: "|")
        let record = IVRRecord(
            key: EventKey.hashing("ivr", Array(canonical.utf8)), position: position, time: time,
            caller: caller.isEmpty ? (number ?? "") : caller, callReference: call, kind: kind)
        return .record(.ivr(record))
    }
}

/// Collects the attributes of every `<ivr-event>`; notes a document that is something else.
private final class IVRContent: XMLContentHandler {
    var events: [[String: String]] = []
    var problem: String?

    func startElement(_ name: String, attributes: [XMLAttribute], depth: Int) {
        let local = name.split(separator: ":").last.map(String.init) ?? name
        switch (depth, local) {
        case (1, "ivr-events"), (1, "ivr-event"), (2, "ivr-event"):
            if local == "ivr-event" {
                self.events.append(
                    Dictionary(
                        attributes.filter { !$0.name.hasPrefix("xmlns") }.map { ($0.name, $0.value) },
                        uniquingKeysWith: { a, _ in a }))
            }
        case (1, _):
            if self.problem == nil { self.problem = "the root element is <\(name)>, not <ivr-events> or <ivr-event>" }
        default:
            break  // extensions inside an event are ignored
        }
    }

    func endElement(_ name: String, text: [UInt8], depth: Int) {}
}
