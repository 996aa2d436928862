import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

/// Real Kamailio db_text tables from scripts/sip-e2e.sh, cut to six calls (see the folder's README).
private let tables = Fixture.root.appendingPathComponent("Tests/FirstContactIngestTests/Fixtures/kamailio/dbtext")
/// The e2e test's configuration: agents 1001–1005, hotline 96116, abandon grace 1 s.
private let configuration = Fixture.root.appendingPathComponent("scripts/sip-e2e/firstcontact.yaml").path

@Suite("Ingest: Kamailio accounting tables")
struct KamailioIngestTests {
    private func export(_ batches: [[String]], format: InputFormat? = nil) async throws -> (String, IngestSummary?) {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Engine.load(configuration: configuration)
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("kam.sqlite").path)
        let pipeline = IngestPipeline(engine: engine, store: store)
        var last: IngestSummary?
        for paths in batches { last = try await pipeline.ingest(paths: paths, format: format) }
        return (ExportDocument.render(try await store.snapshot()), last)
    }

    private func table(_ name: String) -> String { tables.appendingPathComponent(name).path }

    @Test("the real tables give the contacts, first responders and callbacks of the calls made")
    func realTables() async throws {
        let (text, summary) = try await self.export([[tables.path]])
        #expect(summary?.files.map(\.format) == Array(repeating: .kamailioAcc, count: 4))
        #expect(summary?.batches.newRecords == 15)
        #expect(summary?.batches.rejects == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let contacts = try #require(document["contacts"] as? [[String: Any]])
        var byCustomer: [String: [String: Any]] = [:]
        for contact in contacts { byCustomer[contact["customer_raw"] as? String ?? ""] = contact }
        #expect(byCustomer.keys.sorted() == ["5550101", "5550201", "5550301", "5550401", "5550501"])

        func responder(_ number: String) -> [String: String] {
            (byCustomer[number]?["first_responder"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        }
        func obligations(_ number: String) -> [[String: Any]] {
            byCustomer[number]?["obligations"] as? [[String: Any]] ?? []
        }
        func owner(_ number: String) -> [String: String] {
            (obligations(number).first?["owner"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        }

        // Answered by 1001; answered by 1005 who hung up.
        #expect(responder("5550101")["agent"] == "1001")
        #expect(responder("5550101")["via"] == "inbound")
        #expect(responder("5550101")["bound_at"] == "2026-11-29T07:48:56Z")
        #expect(responder("5550101")["call"] == "1-13828@127.0.0.1")
        #expect(responder("5550501")["agent"] == "1005")
        #expect(obligations("5550101").isEmpty && obligations("5550501").isEmpty)

        // Busy on 1002, then 1002 called back (round 2): satisfied via callback.
        #expect(owner("5550201") == ["department": "service", "agent": "1002"])
        #expect(obligations("5550201").first?["state"] as? String == "satisfied")
        #expect(obligations("5550201").first?["satisfied_via"] as? String == "callback")
        #expect(obligations("5550201").first?["satisfied_by"] as? String == "1002")
        #expect(obligations("5550201").first?["created_at"] as? String == "2026-11-29T07:48:55Z")
        #expect(responder("5550201")["via"] == "callback")
        #expect(byCustomer["5550201"]?["calls"] as? [String] == ["1-13830@127.0.0.1", "1-14257@127.0.0.1"])

        // Cancelled while 1003 rang (wait 2 s > the 1 s grace): owed by 1003.
        #expect(owner("5550301") == ["department": "service", "agent": "1003"])
        #expect(obligations("5550301").first?["state"] as? String == "pending")
        // The hotline, routed to 1004, timed out: owed by the department.
        #expect(owner("5550401") == ["department": "service"])
        #expect(obligations("5550401").first?["created_at"] as? String == "2026-11-29T07:49:01Z")
        #expect((document["rejects"] as? [Any])?.isEmpty == true)
    }

    @Test("re-ingesting, another file order or a forced format changes nothing")
    func idempotentAndOrderFree() async throws {
        let (once, _) = try await self.export([[tables.path]])
        let (twice, second) = try await self.export([[tables.path], [tables.path]])
        #expect(twice == once)
        #expect(second?.batches.newRecords == 0)
        #expect(second?.batches.duplicates == 15)
        let (reordered, _) = try await self.export(
            [[self.table("missed_calls")], [self.table("acc_cdrs")], [self.table("acc")]], format: .kamailioAcc)
        #expect(reordered == once)
    }
}
