import FirstContactApp
import FirstContactCore
import FirstContactIngest
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/violations` and `POST /v1/violations/{id}/review` (supervisors and admins).
struct ViolationsController {
    let api: API

    /// `{"decision": "accept|excuse|dismiss", "reason": "…"}`.
    struct ReviewBody: Decodable {
        var decision: String?
        var reason: String?
    }

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/violations") { request, context in try await self.violations(request, context) }
        routes.add(.post, "v1/violations/:id/review") { request, context in try await self.review(request, context) }
    }

    func violations(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.supervisor, .admin])
        let snapshot = try await self.api.store.violations()
        let visible = try await self.api.state.inScope(snapshot.violations, of: principal)
        let out = JSONWriter()
        out.array(visible) { ExportDocument.violation($0, review: snapshot.reviews[$0.id], into: out) }
        return API.json(out.text)
    }

    /// `POST /v1/violations/{id}/review` with `{"decision": "accept|excuse|dismiss", "reason": "…"}`.
    func review(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.supervisor, .admin])
        let id = ViolationID(try context.parameters.require("id"))
        let body = try await request.decode(ReviewBody.self)
        guard let decision = body.decision.flatMap(ViolationReview.Decision.init(rawValue:)) else {
            throw HTTPError(.badRequest, message: "\"decision\" must be one of accept, excuse, dismiss")
        }
        guard let reason = body.reason else { throw HTTPError(.badRequest, message: "\"reason\" is required") }
        let violation = try await self.api.store.violation(id)
        guard let violation, try await !self.api.state.inScope([violation], of: principal).isEmpty else {
            throw HTTPError(.notFound, message: "no violation \(id)")
        }
        try await self.api.engine.review(
            id, decision: decision, reason: reason, by: principal.name, at: self.api.scheduler.clock.now(),
            store: self.api.store)
        self.api.changes.publish(
            "reviewed", contact: violation.contact, violation: id, department: violation.department)
        return API.json(
            "{\"violation\": \(JSONWriter.quoted(id.rawValue)), \"decision\": \(JSONWriter.quoted(decision.rawValue))}")
    }
}
