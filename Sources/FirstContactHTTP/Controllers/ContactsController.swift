import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
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

/// `GET /v1/contacts`, `GET /v1/contacts/{id}`, `POST /v1/contacts` and what people record about
/// a contact (`POST /v1/contacts/{id}/…`).
struct ContactsController {
    let api: API

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/contacts") { request, context in try await self.contacts(request, context) }
        routes.add(.get, "v1/contacts/:id") { request, context in try await self.contact(request, context) }
        routes.add(.post, "v1/contacts") { request, context in try await self.openContact(request, context) }
        for action in ContactAction.allCases {
            routes.add(.post, "v1/contacts/:id/\(action.rawValue)") { request, context in
                try await self.act(action, request, context)
            }
        }
    }

    func contacts(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        var statuses: Set<ContactStatus> = []
        for text in (query["status"].map(String.init) ?? "").split(separator: ",") {
            guard let status = ContactStatus(rawValue: String(text)) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "status: unknown status \(text) (one of \(ContactStatus.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            statuses.insert(status)
        }
        let limit = try API.pageLimit(query["limit"].map(String.init), default: 100)
        let department = query["department"].map { DepartmentID(String($0)) }
        let agent = query["agent"].map { AgentID(String($0)) }
        let customer = query["customer"].map { self.api.engine.directory.normaliser.normalise(String($0)).text }
        func time(_ name: String) throws -> Timestamp? {
            try query[Substring(name)].map { text in
                guard let time = Timestamp(iso8601: String(text)) else {
                    throw HTTPError(
                        .badRequest, message: "\(name) must be a time like 2026-11-27T09:00:00+08:00, not \(text)")
                }
                return time
            }
        }
        let (from, to) = (try time("from"), try time("to"))
        let after = try request.queryText("cursor").map { try PageCursor.contact($0) }
        // Keyset paging over (created_at, id) with the caller's scope in the query: one more
        // contact than the page holds shows there is a next page.
        let page = try await self.api.store.contacts(
            ContactQuery(
                scope: principal.scope(directory: self.api.engine.directory), statuses: statuses,
                department: department, agent: agent,
                customer: customer, createdFrom: from, createdBefore: to, after: after, limit: limit + 1))
        return PageCursor.response(
            page, limit: limit, key: { ($0.createdAt, $0.id.rawValue) }, write: { ExportDocument.contact($0, into: $1) }
        )
    }

    func contact(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let id = ContactID(try context.parameters.require("id"))
        // Out of scope and missing look the same: an id reveals nothing.
        guard let detail = try await self.api.store.contact(id, correlator: self.api.engine.correlator),
            principal.scope(directory: self.api.engine.directory).admits(detail.contact, violations: detail.violations)
        else { throw HTTPError(.notFound, message: "no contact \(id)") }
        let out = JSONWriter()
        API.write(detail, into: out)
        return API.json(out.text)
    }

    /// The fields of every contact action (`{"text"}`, `{"note"}`, `{"to", "told"}`, a hand-off's
    /// registration, `{"agent", "reason"}`); each action reads its own, absent ones are empty.
    struct ActionBody: Decodable {
        var text, note, to, told, department, agent, unit, name, phone, matter, place, reason: String?
    }

    /// `POST /v1/contacts`: `{"channel": "visit|letter", "customer", "matter", "category"?, "department"?, "agent"?}`.
    struct OpenContactBody: Decodable {
        var channel, customer, matter, category, department, agent: String?
    }

    func act(_ action: ContactAction, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal(action.roles)
        let id = ContactID(try context.parameters.require("id"))
        let body = try await request.decode(ActionBody.self)
        // Out of scope and missing look the same (404), before the body is even judged.
        guard let detail = try await self.api.store.contact(id, correlator: self.api.engine.correlator),
            principal.scope(directory: self.api.engine.directory).admits(detail.contact, violations: detail.violations)
        else { throw HTTPError(.notFound, message: "no contact \(id)") }
        let kind: ManualAction.Kind
        switch action {
        case .notes: kind = .note(contact: id, text: body.text ?? "")
        case .resolve: kind = .resolve(contact: id, note: body.note ?? "")
        case .refer: kind = .referOut(contact: id, body: body.to ?? "", told: body.told ?? "")
        case .handoff:
            guard let department = body.department else {
                throw HTTPError(.badRequest, message: "\"department\" (the receiving department) is required")
            }
            kind = .handoff(
                contact: id, to: Owner(department: DepartmentID(department), agent: body.agent.map { AgentID($0) }),
                registration: HandoffRegistration(
                    unit: body.unit ?? "", name: body.name ?? "", phone: body.phone ?? "", matter: body.matter ?? "",
                    place: body.place ?? ""))
        case .reassign:
            kind = .reassign(contact: id, to: AgentID(body.agent ?? ""), reason: body.reason ?? "")
        case .complaints: kind = .complaint(contact: id, text: body.text ?? "")
        case .poorService:
            guard let agent = body.agent.map({ AgentID($0) }) ?? detail.contact.firstResponder?.agent else {
                throw HTTPError(.badRequest, message: "\"agent\" is required: the contact has no first responder")
            }
            kind = .poorService(contact: id, agent: agent, text: body.text ?? "")
        }
        return try await self.record(
            kind, principal: principal, by: principal.agent ?? AgentID(principal.name), status: .ok,
            current: detail.contact)
    }

    /// `POST /v1/contacts`: a visit or letter received by an agent (agents as themselves; supervisors
    /// and admins name the agent).
    func openContact(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let body = try await request.decode(OpenContactBody.self)
        let agent: AgentID
        if principal.role == .agent, let me = principal.agent {
            agent = me
        } else if let named = body.agent {
            agent = AgentID(named)
        } else {
            throw HTTPError(.badRequest, message: "name the receiving agent: {\"agent\": \"AGENT\"}")
        }
        guard let channel = body.channel.flatMap(ContactChannel.init(rawValue:)) else {
            throw HTTPError(.badRequest, message: "\"channel\" must be visit or letter")
        }
        let raw = body.customer ?? ""
        let category = try body.category.map { text in
            guard let category = ContactCategory(rawValue: text) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "unknown category \(text) (one of \(ContactCategory.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            return category
        }
        let department = body.department.map { DepartmentID($0) }
        if principal.role == .supervisor, let department, !principal.departments.contains(department) {
            throw HTTPError(.forbidden, message: "department \(department) is not one of yours")
        }
        let manual = ManualContact(
            channel: channel, customer: self.api.engine.directory.normaliser.normalise(raw), customerRaw: raw,
            department: department, category: category, matter: body.matter ?? "")
        return try await self.record(.open(manual), principal: principal, by: agent, status: .created)
    }

    private func record(
        _ kind: ManualAction.Kind, principal: Principal, by person: AgentID, status: HTTPResponse.Status,
        current: Contact? = nil
    ) async throws -> Response {
        let detail = try await self.api.engine.record(
            kind, by: person, at: self.api.scheduler.clock.now(), store: self.api.store, current: current)
        let out = JSONWriter()
        API.write(detail, into: out)
        return API.json(out.text, status: status)
    }
}
