/// `firstcontact export --json`: the whole derived state in the SPEC's documented shape. The
/// pieces here (contacts, obligations, violations) are shared by the export of a store and the
/// simulator's `expected.json`.
///
/// Written by hand rather than with `JSONEncoder` so that keys keep the documented order and
/// the bytes are identical for the same records and clock (no dictionary ordering anywhere).
package enum ExportDocument {
    package static func contact(_ contact: Contact, into out: JSONWriter) {
        out.object {
            out.field("id") { out.string(contact.id.rawValue) }
            out.field("customer") { out.string(contact.customer.text) }
            out.field("customer_raw") { out.string(contact.customerRaw) }
            out.field("channel") { out.string(contact.channel.rawValue) }
            out.field("department") { out.string(contact.department?.rawValue) }
            out.field("category") { out.string(contact.category.rawValue) }
            out.field("status") { out.string(contact.status.rawValue) }
            out.field("repeat_of") { out.string(contact.repeatOf?.rawValue) }
            out.field("first_responder") {
                if let responder = contact.firstResponder {
                    out.object {
                        out.field("agent") { out.string(responder.agent.rawValue) }
                        out.field("bound_at") { out.time(responder.boundAt) }
                        out.field("via") { out.string(responder.via.rawValue) }
                        out.field("call") { out.string(responder.call?.rawValue) }
                    }
                } else {
                    out.null()
                }
            }
            out.field("calls") { out.array(contact.calls) { out.string($0.rawValue) } }
            out.field("obligations") {
                out.array(contact.obligations.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) { o in
                    Self.obligation(o, into: out)
                }
            }
        }
    }

    package static func obligation(_ o: Obligation, into out: JSONWriter) {
        out.object {
            out.field("id") { out.string(o.id.rawValue) }
            out.field("kind") { out.string(o.kind.rawValue) }
            out.field("owner") {
                out.object {
                    out.field("department") { out.string(o.owner.department.rawValue) }
                    out.field("agent") { out.string(o.owner.agent?.rawValue) }
                }
            }
            out.field("created_at") { out.time(o.createdAt) }
            out.field("due_at") { out.time(o.dueAt) }
            out.field("ack_due_at") { out.time(o.ackDueAt) }
            out.field("acknowledged_at") { out.time(o.acknowledgedAt) }
            out.field("state") { out.string(o.state.rawValue) }
            out.field("at_risk") { out.bool(o.atRisk) }
            out.field("uncertain") { out.bool(o.uncertain) }
            out.field("satisfied_at") { out.time(o.satisfiedAt) }
            out.field("satisfied_by") { out.string(o.satisfiedBy?.rawValue) }
            out.field("satisfied_via") { out.string(o.satisfiedVia?.rawValue) }
            out.field("attempts") { out.int(o.attempts) }
            out.field("missed_count") { out.int(o.missedCount) }
            out.field("escalation_level") { out.int(o.escalationLevel) }
            // Only callbacks requested for another number carry it (SPEC rule 1: owed to that number).
            if let number = o.callbackNumber { out.field("callback_number") { out.string(number.text) } }
        }
    }

    package static func violation(_ v: Violation, review: ViolationReview? = nil, into out: JSONWriter) {
        out.object {
            out.field("id") { out.string(v.id.rawValue) }
            out.field("obligation") { out.string(v.obligation?.rawValue) }
            out.field("contact") { out.string(v.contact.rawValue) }
            out.field("category") { out.string(v.category.rawValue) }
            out.field("department") { out.string(v.department.rawValue) }
            out.field("agent") { out.string(v.agent?.rawValue) }
            out.field("at") { out.time(v.at) }
            out.field("remedied_at") { out.time(v.remediedAt) }
            out.field("review") {
                if let review {
                    out.object {
                        out.field("decision") { out.string(review.decision.rawValue) }
                        out.field("reason") { out.string(review.reason) }
                        out.field("by") { out.string(review.by) }
                    }
                } else {
                    out.null()
                }
            }
        }
    }
}

/// A minimal pretty-printing JSON writer with deterministic output (two-space indent).
/// A class: the nested closures of `object`/`array` write into the same writer.
package final class JSONWriter {
    package private(set) var text = ""
    private var depth = 0
    private var first = [true]
    /// When set, text is handed over in chunks between array elements (for very large documents).
    private let sink: ((String) -> Void)?

    package init(sink: ((String) -> Void)? = nil) {
        self.sink = sink
    }

    /// Hands the remaining text to the sink.
    package func finish() {
        if let sink = self.sink, !self.text.isEmpty {
            sink(self.text)
            self.text = ""
        }
    }

    private func separator() {
        if !self.first[self.first.count - 1] { self.text += "," }
        self.first[self.first.count - 1] = false
        self.text += "\n" + String(repeating: "  ", count: self.depth)
    }

    package func object(_ body: () -> Void) {
        self.open("{", body, "}")
    }

    package func array<S: Sequence>(_ items: S, _ element: (S.Element) -> Void) {
        self.open(
            "[",
            {
                for item in items {
                    self.separator()
                    element(item)
                    if let sink = self.sink, self.text.utf8.count > 1 << 20 {
                        sink(self.text)
                        self.text = ""
                    }
                }
            }, "]")
    }

    private func open(_ left: String, _ body: () -> Void, _ right: String) {
        self.text += left
        self.depth += 1
        self.first.append(true)
        body()
        let empty = self.first.removeLast()
        self.depth -= 1
        if !empty { self.text += "\n" + String(repeating: "  ", count: self.depth) }
        self.text += right
    }

    /// A key and its value (the value closure must write exactly one value).
    package func field(_ key: String, _ value: () -> Void) {
        self.separator()
        self.text += Self.quoted(key) + ": "
        value()
    }

    package func string(_ value: String?) {
        self.text += value.map(Self.quoted) ?? "null"
    }

    package func time(_ value: Timestamp?) { self.string(value?.iso8601) }
    package func int(_ value: Int) { self.text += String(value) }
    package func bool(_ value: Bool) { self.text += value ? "true" : "false" }
    package func null() { self.text += "null" }
    /// A ratio or other fraction, to four decimals (deterministic text); null for nil.
    package func number(_ value: Double?) {
        guard let value, value.isFinite else { return self.null() }
        self.text += String((value * 10_000).rounded() / 10_000)
    }

    package static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
