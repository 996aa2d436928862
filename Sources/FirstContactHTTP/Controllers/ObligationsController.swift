import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/obligations` (paged in the store, in the caller's scope) and `POST /v1/obligations/{id}/ack`.
struct ObligationsController {
    let api: API

    /// `{"by": "1011"}`: the acknowledging agent, named by supervisors and admins.
    struct AcknowledgeBody: Decodable {
        var by: String?
    }

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/obligations") { request, context in try await self.obligations(request, context) }
        routes.add(.post, "v1/obligations/:id/ack") { request, context in try await self.acknowledge(request, context) }
    }

    func obligations(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        let state = try query["state"].map { text in
            guard let state = ObligationState(rawValue: String(text)) else {
                throw HTTPError(.badRequest, message: "state: unknown state \(text)")
            }
            return state
        }
        let limit = try API.pageLimit(query["limit"].map(String.init), default: 1000)
        let after = try request.queryText("cursor").map { try PageCursor.obligation($0) }
        // Paged on the obligation's own stable key (created_at, id), in the store: one more than
        // the page shows whether a next page exists, without reading the rest.
        let found = try await self.api.store.obligationPage(
            states: state.map { [$0] } ?? [], scope: principal.scope(directory: self.api.engine.directory),
            after: after.map { ObligationPosition(createdAt: $0.createdAt, id: ObligationID($0.id)) }, limit: limit + 1)
        return PageCursor.response(
            found, limit: limit, key: { ($0.createdAt, $0.id.rawValue) },
            write: { ExportDocument.obligation($0, into: $1) })
    }

    /// `POST /v1/obligations/{id}/ack`: the receiving side has read a hand-off. Agents acknowledge
    /// as themselves; supervisors and admins name the agent in `{"by": "1011"}`.
    func acknowledge(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let id = ObligationID(try context.parameters.require("id"))
        let body = try await request.decode(AcknowledgeBody.self)
        let by: AgentID
        if principal.role == .agent, let me = principal.agent {
            by = me
        } else if let named = body.by {
            by = AgentID(named)
        } else {
            throw HTTPError(.badRequest, message: "name the acknowledging agent: {\"by\": \"AGENT\"}")
        }
        guard let stored = try await self.api.store.obligation(id),
            let detail = try await self.api.store.contact(stored.contact, correlator: self.api.engine.correlator),
            principal.scope(directory: self.api.engine.directory).admits(detail.contact, violations: detail.violations)
        else { throw HTTPError(.notFound, message: "no obligation \(id)") }
        let updated = try await self.api.engine.acknowledge(
            id, by: by, at: self.api.scheduler.clock.now(), store: self.api.store)
        self.api.changes.publish(
            "acknowledged", contact: stored.contact, obligation: id, department: stored.obligation.owner.department)
        let out = JSONWriter()
        ExportDocument.obligation(updated.obligation, into: out)
        return API.json(out.text)
    }
}
