import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

@Suite("OpenAPI document")
struct OpenAPITests {
    static func documented() throws -> [String] {
        let text = try String(contentsOf: Fixture.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var routes: [String] = []
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any])
            for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                routes.append("\(method.uppercased()) \(path)")
            }
        }
        return routes.sorted()
    }

    @Test("openapi.yaml documents exactly the routes the router serves, and each of them answers (not 404)")
    func documentMatchesRouter() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("o.sqlite").path)
        let scheduler = ObligationScheduler(engine: engine, store: store, clock: ManualClock(now: .init(seconds: 0)))
        let api = API(engine: engine, store: store, scheduler: scheduler)
        let documented = try Self.documented()
        #expect(api.routes().served.sorted() == documented, "docs/openapi.yaml and the router disagree")

        let app = Application(router: api.router())
        try await app.test(.router) { client in
            for route in documented {
                let parts = route.split(separator: " ")
                let method = HTTPRequest.Method(rawValue: String(parts[0])) ?? .get
                let uri = String(parts[1]).replacingOccurrences(of: "{format}", with: "asterisk-csv")
                    .replacingOccurrences(of: "{id}", with: "X")
                try await client.execute(uri: uri, method: method) { response in
                    // Without a token every documented route but /healthz must say 401, not 404.
                    #expect(response.status == (uri == "/healthz" ? .ok : .unauthorized), "\(route)")
                }
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { #expect($0.status == .notFound) }
        }
    }
}

/// The server holds to what the document says: parameters and bodies outside it are 400s naming
/// what is wrong, methods a path does not have are 405 with `Allow`.
@Suite("API contract")
struct APIContractTests {
    static func document() throws -> [String: Any] {
        let text = try String(contentsOf: Fixture.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    @Test(
        "a parameter outside the document answers 400 naming the parameter",
        arguments: [
            ("/v1/contacts?limit=1001", "limit"), ("/v1/contacts?limit=ten", "limit"),
            ("/v1/obligations?limit=1001", "limit"),
            ("/v1/obligations?limit=0", "limit"), ("/v1/webhooks/dead-letters?limit=x", "limit"),
            ("/v1/webhooks/dead-letters?limit=5000", "limit"), ("/v1/contacts?status=lost", "status"),
            ("/v1/obligations?state=lost", "state"), ("/v1/contacts?from=yesterday", "from"),
            ("/v1/events?after=soon&follow=false", "after"), ("/v1/events?follow=maybe", "follow"),
        ])
    func parametersOutsideTheDocument(uri: String, parameter: String) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await APITests.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: APITests.admin) { response in
                #expect(response.status == .badRequest, "\(uri)")
                #expect(String(buffer: response.body).contains(parameter), "\(uri): \(String(buffer: response.body))")
            }
            try await client.execute(uri: "/v1/contacts?limit=1000", method: .get, headers: APITests.admin) {
                #expect($0.status == .ok)
            }
        }
    }

    @Test(
        "an empty cursor or report period reads as absent; an empty ingest body is 400; null optional body fields read as absent"
    )
    func emptyAndNullValues() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await APITests.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        let contact = try #require(try await store.contacts(ContactQuery()).first)
        try await app.test(.router) { client in
            for uri in [
                "/v1/contacts?cursor=", "/v1/obligations?cursor=", "/v1/reports/sla?from=&to=",
                "/v1/reports/agents?to=",
            ] {
                try await client.execute(uri: uri, method: .get, headers: APITests.admin) {
                    #expect($0.status == .ok, "\(uri)")
                }
            }
            try await client.execute(uri: "/v1/ingest/asterisk-csv", method: .post, headers: APITests.pbx) { response in
                #expect(response.status == .badRequest)
            }
            let body = ByteBuffer(
                string:
                    #"{"department": "billing", "agent": null, "unit": null, "name": "王", "phone": "1", "matter": "m", "place": null}"#
            )
            try await client.execute(
                uri: "/v1/contacts/\(contact.id.rawValue)/handoff", method: .post, headers: APITests.admin, body: body
            ) { #expect($0.status == .ok, "\(String(buffer: $0.body))") }
        }
    }

    @Test(
        "a method a known path does not have answers 405 with Allow naming the documented methods; an unknown path 404")
    func methodNotAllowed() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, _) = try await APITests.app(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, now: "2026-11-27T10:20:00", in: directory)
        let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
        let methods = paths.mapValues { item in
            Set(item.keys.filter { ["get", "post", "put", "patch", "delete"].contains($0) }.map { $0.uppercased() })
        }
        try await app.test(.router) { client in
            for (path, documented) in methods {
                let uri = path.replacingOccurrences(of: "{format}", with: "asterisk-csv").replacingOccurrences(
                    of: "{id}", with: "X")
                for method in [HTTPRequest.Method.delete, .put, .patch, .trace, .options]
                where !documented.contains(method.rawValue) {
                    try await client.execute(uri: uri, method: method, headers: APITests.admin) { response in
                        #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                        let allow = Set(
                            (response.headers[.allow] ?? "").split(separator: ",").map {
                                $0.trimmingCharacters(in: .whitespaces)
                            })
                        #expect(allow == documented, "\(method) \(path): Allow \(allow)")
                    }
                }
            }
            try await client.execute(uri: "/v1/nothing", method: .delete, headers: APITests.admin) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/contacts/X/nothing", method: .post, headers: APITests.admin) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test(
        "every operation documents the statuses it can answer: 401 and 403 behind a token, 400 when it reads parameters or a body"
    )
    func everyOperationDocumentsItsStatuses() throws {
        let paths = try #require(try Self.document()["paths"] as? [String: [String: Any]])
        for (path, item) in paths {
            for (method, value) in item where ["get", "post"].contains(method) {
                let operation = try #require(value as? [String: Any])
                let statuses = Set((operation["responses"] as? [String: Any] ?? [:]).keys)
                guard path != "/healthz" else { continue }
                #expect(statuses.isSuperset(of: ["401", "403"]), "\(method) \(path): \(statuses.sorted())")
                let reads =
                    (operation["parameters"] as? [[String: Any]] ?? []).contains { $0["in"] as? String != "path" }
                    || (operation["requestBody"] != nil && !path.hasPrefix("/v1/ingest"))
                if reads { #expect(statuses.contains("400"), "\(method) \(path) reads input but documents no 400") }
            }
        }
    }

    @Test(
        "the document's event kinds are the notifications the outbox sends, and links reach every operation taking a contact id"
    )
    func eventKindsAndLinks() throws {
        let document = try Self.document()
        let components = try #require(document["components"] as? [String: Any])
        let schemas = try #require(components["schemas"] as? [String: Any])
        let notification = try #require(schemas["Notification"] as? [String: Any])
        let kind = try #require((notification["properties"] as? [String: Any])?["kind"] as? [String: Any])
        #expect(Set(kind["enum"] as? [String] ?? []) == Set(Notice.Kind.allCases.map(\.rawValue)))

        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        let takingContact = paths.filter { $0.key.hasPrefix("/v1/contacts/{id}") }.flatMap { $0.value.values }
            .compactMap { $0["operationId"] as? String }
        // GET /v1/contacts/{id} and the seven actions on a contact.
        #expect(takingContact.count == 8)
        for (path, method, status) in [("/v1/contacts", "get", "200"), ("/v1/contacts", "post", "201")] {
            let responses = try #require(paths[path]?[method]?["responses"] as? [String: Any])
            let links = try #require((responses[status] as? [String: Any])?["links"] as? [String: [String: Any]])
            #expect(
                Set(links.values.compactMap { $0["operationId"] as? String }) == Set(takingContact), "\(method) \(path)"
            )
        }
        let obligations = try #require(paths["/v1/obligations"]?["get"]?["responses"] as? [String: Any])
        let links = try #require((obligations["200"] as? [String: Any])?["links"] as? [String: [String: Any]])
        #expect(
            links.values.contains {
                $0["operationId"] as? String == paths["/v1/obligations/{id}/ack"]?["post"]?["operationId"] as? String
            })
    }
}
