import FirstContactApp
import FirstContactHTTP
import FirstContactCore
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
