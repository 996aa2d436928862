import FirstContactCore
import Foundation

/// The fields of a person's action as stored in `action.payload` (JSON with sorted keys, so the
/// same action is stored as the same text). Keys are short and stable: they are a file format.
package struct ActionPayload: Codable, Equatable {
    var text: String?
    var body: String?
    var department: String?
    var agent: String?
    var unit: String?
    var name: String?
    var phone: String?
    var place: String?
    var channel: String?
    var customer: String?
    var customerRaw: String?
    var category: String?

    package init() {}

    package init(_ kind: ManualAction.Kind) {
        switch kind {
        case .acknowledge:
            break
        case .note(_, let text), .resolve(_, let text), .complaint(_, let text):
            self.text = text
        case .referOut(_, let body, let told):
            self.body = body
            self.text = told
        case .handoff(_, let owner, let registration):
            self.department = owner.department.rawValue
            self.agent = owner.agent?.rawValue
            self.unit = registration.unit
            self.name = registration.name
            self.phone = registration.phone
            self.text = registration.matter
            self.place = registration.place
        case .reassign(_, let agent, let reason):
            self.agent = agent.rawValue
            self.text = reason
        case .poorService(_, let agent, let text):
            self.agent = agent.rawValue
            self.text = text
        case .open(let manual):
            self.channel = manual.channel.rawValue
            self.customer = manual.customer.text
            self.customerRaw = manual.customerRaw
            self.department = manual.department?.rawValue
            self.category = manual.category?.rawValue
            self.text = manual.matter
        }
    }

    package func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The payload of the `action` row `rowid` (an empty one when the column is NULL).
    /// - Throws: ``StoreError/corrupt(table:rowid:reason:)`` when the text is not a payload.
    package static func decode(_ text: String?, rowid: Int64) throws -> ActionPayload {
        guard let text else { return ActionPayload() }
        do {
            return try JSONDecoder().decode(ActionPayload.self, from: Data(text.utf8))
        } catch {
            throw StoreError.corrupt(table: "action", rowid: rowid, reason: "payload is not readable: \(error)")
        }
    }

    /// The action of stored kind `kind` about `contact`; nil when the row is not one this build knows.
    func kind(_ kind: String, contact: ContactID) -> ManualAction.Kind? {
        let text = self.text ?? ""
        switch kind {
        case "note": return .note(contact: contact, text: text)
        case "resolve": return .resolve(contact: contact, note: text)
        case "refer_out": return .referOut(contact: contact, body: self.body ?? "", told: text)
        case "handoff":
            guard let department = self.department else { return nil }
            return .handoff(
                contact: contact,
                to: Owner(department: DepartmentID(department), agent: self.agent.map { AgentID($0) }),
                registration: HandoffRegistration(
                    unit: self.unit ?? "", name: self.name ?? "", phone: self.phone ?? "", matter: text,
                    place: self.place ?? ""))
        case "reassign": return self.agent.map { .reassign(contact: contact, to: AgentID($0), reason: text) }
        case "complaint": return .complaint(contact: contact, text: text)
        case "poor_service": return self.agent.map { .poorService(contact: contact, agent: AgentID($0), text: text) }
        default: return nil
        }
    }

    /// A visit or letter; the customer's number is stored as its key (``CustomerNumber/text``).
    var manualContact: ManualContact? {
        guard let channel = self.channel.flatMap(ContactChannel.init(rawValue:)), let customer = self.customer else {
            return nil
        }
        let number: CustomerNumber = customer.hasPrefix("+") ? .e164(customer) : .other(customer)
        return ManualContact(
            channel: channel, customer: number, customerRaw: self.customerRaw ?? customer,
            department: self.department.map { DepartmentID($0) },
            category: self.category.flatMap(ContactCategory.init(rawValue:)),
            matter: self.text ?? "")
    }

    /// The action an `action` row holds (columns `id`, `kind`, `obligation_id`, `contact_id`,
    /// `agent`, `at`, `payload`, `seq`); a row without what its kind needs is corrupt.
    package static func action(
        id: String, kind: String, obligation: String?, contact: String?, agent: String, at: Int64, payload: String?,
        sequence: Int64, rowid: Int64
    ) throws -> ManualAction {
        let payload = try ActionPayload.decode(payload, rowid: rowid)
        let contact = contact.map { ContactID($0) }
        let decoded: ManualAction.Kind?
        switch kind {
        case "acknowledge": decoded = obligation.map { .acknowledge(obligation: ObligationID($0)) }
        case "open": decoded = payload.manualContact.map { .open($0) }
        default: decoded = contact.flatMap { payload.kind(kind, contact: $0) }
        }
        guard let decoded else {
            throw StoreError.corrupt(
                table: "action", rowid: rowid, reason: "an action of kind \"\(kind)\" without what it needs")
        }
        return ManualAction(
            id: id, at: Timestamp(seconds: at), agent: AgentID(agent), kind: decoded, sequence: sequence)
    }
}
