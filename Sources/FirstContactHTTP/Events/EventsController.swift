import FirstContactApp
import FirstContactCore
import FirstContactStore
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// `GET /v1/events`: the outbox as Server-Sent Events, from `Last-Event-ID` or `?after=`;
/// `?follow=false` sends what is there and ends.
struct EventsController {
    let api: API

    func register(on routes: inout RouteTable) {
        routes.add(.get, "v1/events") { request, context in try await self.events(request, context) }
    }

    func events(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.principal([.agent, .supervisor, .admin])
        let query = request.uri.queryParameters
        let resumeHeader = HTTPField.Name("Last-Event-ID").flatMap { request.headers[$0] }
        let after: Int64
        if let resumeHeader {
            guard let seq = Int64(resumeHeader.trimmingCharacters(in: .whitespaces)) else {
                throw HTTPError(
                    .badRequest, message: "Last-Event-ID must be an event id (a whole number), not \(resumeHeader)")
            }
            after = seq
        } else if let text = query["after"] {
            guard let seq = Int64(text) else {
                throw HTTPError(.badRequest, message: "after must be a whole number, not \(text)")
            }
            after = seq
        } else {
            after = 0
        }
        let follow: Bool
        switch query["follow"] {
        case nil, "true": follow = true
        case "false": follow = false
        case let text?: throw HTTPError(.badRequest, message: "follow must be true or false, not \(text)")
        }
        let (feed, store, scope) = (
            self.api.feed, self.api.store, principal.scope(directory: self.api.engine.directory)
        )
        let body = try self.api.state.limits.stream(for: principal.name) { writer in
            var last = after
            var quiet = 0
            // A stream ends with the server's graceful shutdown, or it would hold the shutdown open.
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                // A stream that ends reads the store itself: the feed may be an interval behind it.
                let entries =
                    follow
                    ? try await feed.entries(after: last, limit: 200) : try await store.outbox(after: last, limit: 200)
                for entry in try await Self.visible(entries, to: principal, scope: scope, store: store) {
                    try await writer.write(ByteBuffer(string: entry.serverSentEvent))
                }
                if let newest = entries.last { last = newest.seq }
                if entries.count == 200 { continue }
                guard follow else { break }
                if entries.isEmpty { quiet += 1 } else { quiet = 0 }
                // A comment line each quiet second: a client that went away is noticed by the failed
                // write and gives back its place in http.max_streams_per_token at once, so reloading
                // a page never runs into the limit (a comment every 15 s did, after 20 reloads).
                if quiet > 0, quiet % 4 == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                try await Task.sleep(for: .milliseconds(250))
            }
            try await writer.finish(nil)
        }
        var response = Response(status: .ok, body: body)
        response.headers[.contentType] = "text/event-stream"
        response.headers[.cacheControl] = "no-cache"
        return response
    }

    /// The notifications of a batch that reach this caller: those addressed to them
    /// (``addressed(_:to:)``) about a contact in their scope (one query for the batch), and
    /// notifications about no contact (feed alerts) when the scope includes those.
    static func visible(
        _ entries: [OutboxEntry], to principal: Principal, scope: Scope, store: any ContactStore
    ) async throws -> [OutboxEntry] {
        let addressed = entries.filter { Self.addressed($0, to: principal) }
        let contacts = Set(addressed.compactMap(\.contact))
        let visible = scope.isEverything ? contacts : try await store.contactIDs(contacts, in: scope)
        return addressed.filter { entry in entry.contact.map(visible.contains) ?? scope.seesFeedAlerts }
    }

    /// Who a notification is for: admins every one; supervisors those of their departments and
    /// those of no department, screen pops (`routed`) excepted; agents those addressed to them.
    static func addressed(_ entry: OutboxEntry, to principal: Principal) -> Bool {
        // A screen pop is for the agent whose phone rings (and admins, who see everything).
        if entry.kind == .routed, principal.role == .supervisor { return false }
        return switch principal.role {
        case .admin: true
        case .pbx: false
        case .supervisor: entry.department.map { principal.departments.contains($0) } ?? true
        case .agent: entry.agent != nil && entry.agent == principal.agent
        }
    }
}
