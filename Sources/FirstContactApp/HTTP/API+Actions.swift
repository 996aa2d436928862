import FirstContactCore
import FirstContactStore
import Foundation
import Hummingbird

/// `POST /v1/contacts/{id}/…`: what people record about a contact (SPEC rule 9, POLICY arts. 8–21).
enum ContactAction: String, CaseIterable, Sendable {
    case notes, resolve, refer, handoff, reassign, complaints
    case poorService = "poor-service"

    /// Agents act on contacts in their scope; reassignment, complaints and poor service are a
    /// supervisor's (or an admin's) to record.
    var roles: Set<Token.Role> {
        switch self {
        case .notes, .resolve, .refer, .handoff: [.agent, .supervisor, .admin]
        case .reassign, .complaints, .poorService: [.supervisor, .admin]
        }
    }
}

extension API {
    func act(_ action: ContactAction, _ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let principal = try self.principal(request, allowed: action.roles)
        let id = ContactID(try context.parameters.require("id"))
        let body = try await Self.jsonBody(request, limit: 64 * 1024)
        // Out of scope and missing look the same (404), before the body is even judged.
        guard let detail = try await self.store.contact(id, correlator: self.engine.correlator),
            principal.canSee(detail.contact, directory: self.engine.directory)
        else { throw HTTPError(.notFound, message: "no contact \(id)") }
        let text = { (key: String) in (body[key] as? String) ?? "" }
        let kind: ManualAction.Kind
        switch action {
        case .notes: kind = .note(contact: id, text: text("text"))
        case .resolve: kind = .resolve(contact: id, note: text("note"))
        case .refer: kind = .referOut(contact: id, body: text("to"), told: text("told"))
        case .handoff:
            guard let department = body["department"] as? String else {
                throw HTTPError(.badRequest, message: "\"department\" (the receiving department) is required")
            }
            kind = .handoff(
                contact: id, to: Owner(department: DepartmentID(department), agent: (body["agent"] as? String).map { AgentID($0) }),
                registration: HandoffRegistration(
                    unit: text("unit"), name: text("name"), phone: text("phone"), matter: text("matter"), place: text("place")))
        case .reassign:
            kind = .reassign(contact: id, to: AgentID(text("agent")), reason: text("reason"))
        case .complaints: kind = .complaint(contact: id, text: text("text"))
        case .poorService:
            let agent = (body["agent"] as? String).map { AgentID($0) } ?? detail.contact.firstResponder?.agent
            guard let agent else { throw HTTPError(.badRequest, message: "\"agent\" is required: the contact has no first responder") }
            kind = .poorService(contact: id, agent: agent, text: text("text"))
        }
        return try await self.record(
            kind, principal: principal, by: principal.agent ?? AgentID(principal.name), status: .ok, current: detail.contact)
    }

    /// `POST /v1/contacts`: a visit or letter received by an agent (agents as themselves; supervisors
    /// and admins name the agent).
    func openContact(_ request: Request) async throws -> Response {
        let principal = try self.principal(request, allowed: [.agent, .supervisor, .admin])
        let body = try await Self.jsonBody(request, limit: 64 * 1024)
        let agent: AgentID
        if principal.role == .agent, let me = principal.agent {
            agent = me
        } else if let named = body["agent"] as? String {
            agent = AgentID(named)
        } else {
            throw HTTPError(.badRequest, message: "name the receiving agent: {\"agent\": \"AGENT\"}")
        }
        guard let channelText = body["channel"] as? String, let channel = ContactChannel(rawValue: channelText) else {
            throw HTTPError(.badRequest, message: "\"channel\" must be visit or letter")
        }
        let raw = (body["customer"] as? String) ?? ""
        let category = try (body["category"] as? String).map { text in
            guard let category = ContactCategory(rawValue: text) else {
                throw HTTPError(.badRequest, message: "unknown category \(text) (one of \(ContactCategory.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return category
        }
        let department = (body["department"] as? String).map { DepartmentID($0) }
        if principal.role == .supervisor, let department, !principal.departments.contains(department) {
            throw HTTPError(.forbidden, message: "department \(department) is not one of yours")
        }
        let manual = ManualContact(
            channel: channel, customer: self.engine.directory.normaliser.normalise(raw), customerRaw: raw,
            department: department, category: category, matter: (body["matter"] as? String) ?? "")
        return try await self.record(.open(manual), principal: principal, by: agent, status: .created)
    }

    private func record(
        _ kind: ManualAction.Kind, principal: Principal, by person: AgentID, status: HTTPResponse.Status,
        current: Contact? = nil
    ) async throws -> Response {
        let detail: ContactDetail
        do {
            detail = try await self.engine.record(
                kind, by: person, at: self.scheduler.clock.now(), store: self.store, current: current)
        } catch let error as ActionError {
            switch error {
            case .contactNotOpen: throw HTTPError(.conflict, message: error.description)
            default: throw HTTPError(.badRequest, message: error.description)
            }
        }
        let out = JSONWriter()
        self.write(detail, into: out)
        return Self.json(out.text, status: status)
    }
}
