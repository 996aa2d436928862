import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation

extension OutboxEntry {
    /// One notification as a single line of JSON: the SSE `data` and the webhook body.
    package var json: String {
        let out = JSONWriter()
        out.object {
            out.field("seq") { out.int(Int(self.seq)) }
            out.field("key") { out.string(self.key) }
            out.field("kind") { out.string(self.kind.rawValue) }
            out.field("at") { out.time(self.at) }
            out.field("contact") { out.string(self.contact?.rawValue) }
            out.field("obligation") { out.string(self.obligation?.rawValue) }
            out.field("violation") { out.string(self.violation?.rawValue) }
            out.field("department") { out.string(self.department?.rawValue) }
            out.field("agent") { out.string(self.agent?.rawValue) }
            out.field("level") { if let level = self.level { out.int(level) } else { out.null() } }
            out.field("detail") { out.string(self.detail) }
        }
        // One line: the writer's newlines are only indentation.
        return out.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// The notification as one Server-Sent Event (`id` = outbox sequence, `event` = kind).
    var serverSentEvent: String {
        "id: \(self.seq)\nevent: \(self.kind.rawValue)\ndata: \(self.json)\n\n"
    }
}
