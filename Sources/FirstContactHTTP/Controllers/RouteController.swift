import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird

/// `GET /v1/route?caller=N[&did=D][&device_prefix=P][&format=text]`: where the PBX should ring an inbound call
/// first (SPEC "Routing a returning caller"). Only reads, through the store's readers, so a
/// dialplan waiting on the answer never waits behind an ingest or a tick.
struct RouteController {
    let api: API

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/route") { request, context in try await self.route(request, context) }
    }

    func route(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try context.principal([.pbx, .admin])
        // Parsed once: a dialplan asks on every inbound call.
        let query = request.uri.queryParameters
        guard let raw = query.text("caller") else {
            throw HTTPError(.badRequest, message: "caller (the calling number) is required: /v1/route?caller=NUMBER")
        }
        let text: Bool
        // Present but empty is refused like any other value outside the two formats.
        switch query["format"].map(String.init) {
        case nil, "json": text = false
        case "text": text = true
        case let other?: throw HTTPError(.badRequest, message: "format must be json or text, not \"\(other)\"")
        }
        let directory = self.api.engine.directory
        let caller = directory.normaliser.normalise(raw)
        var open: Contact?
        if directory.configuration.routing.enabled, !caller.isWithheld {
            open = try await self.api.store.openContact(of: caller.text)
        }
        let now = self.api.scheduler.clock.now()
        let decision = RouteDecision.decide(
            caller: caller, did: query.text("did"), devicePrefix: query.text("device_prefix"),
            openContact: open, directory: directory, at: now, presence: self.api.engine.presence.snapshot)
        // The agent's screen pop; written after this answer, never before it.
        if let notice = decision.notice(caller: open?.customerRaw ?? raw, at: now) {
            self.api.state.announcer.announce(notice, customerKey: caller.text)
        }
        if text {
            var response = API.text(decision.text)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        let out = JSONWriter()
        out.object {
            out.field("route") { out.string(decision.route.rawValue) }
            out.field("agent") { out.string(decision.agent?.rawValue) }
            out.field("device") { out.string(decision.device) }
            out.field("ring_first") { out.int(Int(decision.ringFirst)) }
            out.field("contact") { out.string(decision.contact?.rawValue) }
            out.field("department") { out.string(decision.department?.rawValue) }
            out.field("reason") { out.string(decision.reason) }
        }
        var response = API.json(out.text)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
