import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Cursor paging")
struct PagingTests {
    static let nextCursor = HTTPField.Name("Next-Cursor")!
    /// A new customer's missed call, posted between pages.
    static let newcomer = #"""
        "","13800001212","96116","from-trunk","13800001212","PJSIP/trunk-00000091","","Queue","hotline,t,,,300","2026-11-27 11:30:00","2026-11-27 11:30:01","2026-11-27 11:31:00",60,59,"ANSWERED","DOCUMENTATION","1795750200.91","","","1795750200.91",91
        """#

    /// Reads every page of `path` with `limit`, posting `between` after the first page.
    static func pages(
        _ client: some TestClientProtocol, _ path: String, limit: Int, headers: HTTPFields,
        between: (() async throws -> Void)? = nil
    ) async throws -> (ids: [String], pages: Int) {
        var ids: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let uri = "\(path)?limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            cursor = try await client.execute(uri: uri, method: .get, headers: headers) { response -> String? in
                #expect(response.status == .ok)
                let list = try #require(try APITests.json(response) as? [[String: Any]])
                #expect(list.count <= limit)
                ids += list.compactMap { $0["id"] as? String }
                return response.headers[Self.nextCursor]
            }
            pages += 1
            if pages == 1, let between { try await between() }
        } while cursor != nil && pages < 100
        return (ids, pages)
    }

    @Test("paging through contacts and obligations yields every item exactly once while records arrive between pages")
    func pagesWhileRecordsArrive() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store) = try await ReportFixture.app(in: directory)
        let before = try await store.contacts(ContactQuery())
        let obligationsBefore = before.flatMap(\.obligations)
        try #require(before.count >= 7)
        try await app.test(.router) { client in
            let post: () async throws -> Void = {
                try await client.execute(
                    uri: "/v1/ingest/asterisk-csv", method: .post, headers: APITests.pbx,
                    body: ByteBuffer(string: Self.newcomer)
                ) {
                    #expect($0.status == .ok)
                }
            }
            let contacts = try await Self.pages(
                client, "/v1/contacts", limit: 3, headers: APITests.admin, between: post)
            #expect(Set(contacts.ids).count == contacts.ids.count, "a contact was listed twice")
            #expect(Set(before.map(\.id.rawValue)).isSubset(of: Set(contacts.ids)))
            #expect(
                contacts.ids.count == before.count + 1, "the newcomer, created after the first page, is on a later page"
            )
            #expect(contacts.pages == (before.count + 1 + 2) / 3)

            let after = try await store.contacts(ContactQuery())
            // Scoped paging: 刘洋 (1004) pages through exactly his two contacts, one a page.
            let scoped = try await Self.pages(client, "/v1/contacts", limit: 1, headers: ReportFixture.agent1004)
            let visible = try await client.execute(
                uri: "/v1/contacts?limit=1000", method: .get, headers: ReportFixture.agent1004
            ) { response in
                try #require(try APITests.json(response) as? [[String: Any]]).compactMap { $0["id"] as? String }
            }
            #expect(scoped.ids == visible)
            #expect(scoped.ids.count == 2)
            #expect(scoped.pages == 2)

            let obligations = try await Self.pages(client, "/v1/obligations", limit: 2, headers: APITests.admin)
            #expect(Set(obligations.ids).count == obligations.ids.count)
            #expect(Set(obligationsBefore.map(\.id.rawValue)).isSubset(of: Set(obligations.ids)))
            #expect(obligations.ids.count == after.flatMap(\.obligations).count)

            try await client.execute(uri: "/v1/contacts?cursor=bm9wZQ", method: .get, headers: APITests.admin) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/obligations?limit=0", method: .get, headers: APITests.admin) {
                #expect($0.status == .badRequest)
            }
        }
    }
}
