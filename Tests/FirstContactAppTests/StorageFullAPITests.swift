import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import FirstContactStore

/// The service on a full disk, with SQLite's `max_page_count` standing in for the disk: ingest
/// and people's actions are answered 507 with what an operator needs, `/healthz` and `/metrics`
/// say so, and once there is room the service takes records again without a restart, having
/// kept every record it acknowledged.
@Suite("A full disk is an answer")
struct StorageFullAPITests {
    static let pbx: HTTPFields = [.authorization: "Bearer demo-pbx"]
    static let admin: HTTPFields = [.authorization: "Bearer demo-admin"]

    struct Answer {
        var status: HTTPResponse.Status
        var retryAfter: String?
        var json: [String: Any]
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, _ headers: HTTPFields, _ body: String)
        async throws -> Answer
    {
        try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) {
            response in
            let json = try? JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            return Answer(status: response.status, retryAfter: response.headers[.retryAfter], json: json ?? [:])
        }
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> String {
        try await client.execute(uri: uri, method: .get, headers: Self.admin) { response in
            #expect(response.status == .ok)
            return String(buffer: response.body)
        }
    }

    @Test(
        "ingest until the disk is full: 507 with Retry-After and the database and free bytes; /healthz and /metrics say it; with room again ingest resumes and every acknowledged record is stored",
        .timeLimit(.scaled(minutes: 3)))
    func fillThenFree() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fc.sqlite").path
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: path)
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00"))
        let app = buildApplication(
            engine: engine, store: store, clock: clock, host: "127.0.0.1", port: 0, logger: Fixture.quietLogger)
        let lines = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8
        ).split(separator: "\n").map { String($0) + "\n" }
        let ingest = "/v1/ingest/asterisk-csv"

        try await app.test(.router) { client in
            var acknowledged: [String] = []
            var refused: [String] = []
            var next = lines.makeIterator()
            for line in lines.prefix(5) {
                _ = next.next()
                let answer = try await Self.post(client, ingest, Self.pbx, line)
                #expect(answer.status == .ok, "\(answer.status) \(answer.json)")
                acknowledged.append(line)
            }

            // The disk fills: a few pages more, then none.
            try await store.pool.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages + 8)")
            }
            var full: Answer?
            while full == nil, let line = next.next() {
                let answer = try await Self.post(client, ingest, Self.pbx, line)
                if answer.status.code == 507 {
                    full = answer
                    refused.append(line)
                } else if answer.status == .ok {
                    acknowledged.append(line)
                } else {
                    // One issue, not one per line left in the file: past this answer the loop
                    // would only repeat it.
                    Issue.record("a post before the disk filled was answered \(answer.status) \(answer.json)")
                    return
                }
            }
            let answer = try #require(full, "the capped database never filled")
            #expect(answer.retryAfter == "60")
            let error = try #require(answer.json["error"] as? [String: Any])
            #expect(error["database"] as? String == path)
            let free = try #require(error["free_bytes"] as? Int)
            #expect(free > 0)
            #expect(
                (error["message"] as? String)?.hasPrefix("storage full: the disk holding the database \(path)") == true)

            // A person's action needing room is answered the same way (a matter larger than a page).
            let visit =
                #"{"channel": "visit", "agent": "1001", "customer": "13900000001", "matter": ""#
                + String(repeating: "漏水", count: 6000) + #""}"#
            let action = try await Self.post(client, "/v1/contacts", Self.admin, visit)
            #expect(action.status.code == 507)
            #expect(action.retryAfter == "60")
            #expect((action.json["error"] as? [String: Any])?["database"] as? String == path)

            let health = try await Self.get(client, "/healthz")
            #expect(health.hasPrefix("degraded: storage full since "), "\(health)")
            #expect(health.contains("free for the database \(path)"), "\(health)")
            var metrics = try await Self.get(client, "/metrics")
            #expect(metrics.contains("\nfirstcontact_storage_full 1"), "\(metrics)")
            #expect(metrics.contains("\nfirstcontact_storage_free_bytes "), "\(metrics)")
            // The posts so far were committed to the write-ahead log, whose size is exposed.
            let wal = metrics.split(separator: "\n").first { $0.hasPrefix("firstcontact_wal_bytes ") }
            #expect(wal.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 > 0 } == true, "\(metrics)")

            // Room again: no restart, the refused request and new ones are taken.
            try await store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA max_page_count = 1073741823")
            }
            let more = [next.next(), next.next()].compactMap { $0 }
            #expect(more.count == 2)
            for line in refused + more {
                #expect(try await Self.post(client, ingest, Self.pbx, line).status == .ok)
                acknowledged.append(line)
            }
            #expect(try await Self.post(client, "/v1/contacts", Self.admin, visit).status == .created)
            #expect(!(try await Self.get(client, "/healthz")).contains("storage"))
            metrics = try await Self.get(client, "/metrics")
            #expect(metrics.contains("\nfirstcontact_storage_full 0"), "\(metrics)")

            // Every acknowledged line is stored: posted again, none of its records is new.
            let again = try await Self.post(client, ingest, Self.pbx, acknowledged.joined())
            #expect(again.status == .ok)
            #expect(again.json["records"] as? Int == acknowledged.count)
            #expect(again.json["new"] as? Int == 0)
            #expect((again.json["duplicates"] as? Int ?? 0) > 0)
        }
    }

    @Test("/healthz says degraded while free space is below storage.min_free, and ok with the threshold at 0")
    func lowSpace() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("fc.sqlite").path
        let store = try SQLiteContactStore(path: path)
        var configuration = try Fixture.engine().configuration
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00"))
        for (minimum, expected) in [(Int.max, "degraded: storage low: "), (0, "ok")] {
            configuration.storage.minFree = minimum
            let engine = Engine(configuration: configuration)
            let api = API(
                engine: engine, store: store,
                scheduler: ObligationScheduler(engine: engine, store: store, clock: clock))
            try await Application(router: api.router()).test(.router) { client in
                let health = try await Self.get(client, "/healthz")
                #expect(health.hasPrefix(expected), "\(health)")
                if minimum > 0 {
                    #expect(health.contains("bytes free on the file system of \(path), below storage.min_free"))
                }
            }
        }
    }

    @Test(
        "serve starts on a full disk: the records a killed run left underived wait for room, and are derived once there is"
    )
    func startsOnAFullDisk() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let master = Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv")
        let lines = try String(contentsOf: master, encoding: .utf8).split(separator: "\n").prefix(200)
        let records = engine.decoder(for: .asteriskCSV).records(
            in: Array(lines.joined(separator: "\n").utf8), source: "killed run")
        _ = try await store.ingest(records, correlator: engine.correlator)
        #expect(try await store.awaitingDerivation() > 0)
        try await store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        try await engine.prepareToServe(store: store, logger: Fixture.quietLogger)
        #expect(store.storage.snapshot.isFull, "the derivation met the full disk")
        #expect(try await store.awaitingDerivation() > 0, "and waits for the scheduler")

        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        try await engine.prepareToServe(store: store, logger: Fixture.quietLogger)
        #expect(try await store.awaitingDerivation() == 0)
    }
}

/// Batch `ingest` hands a file's batches to the store while it decodes the next: a batch the store
/// refuses ends the run with the store's answer, no batch lands after it, and the same files
/// ingested again once there is room give the day a fresh store gives.
@Suite("Batch ingest on a full disk")
struct BatchIngestFullDiskTests {
    @Test("the run stops at the batch the disk refuses; nothing lands after it; with room again the day is whole")
    func batchRefusedMidFile() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let asterisk = Fixture.sampleDay.appendingPathComponent("asterisk").path
        let engine = try Fixture.engine()
        let (reference, _) = try await Fixture.export(
            ingesting: [[asterisk]], into: directory.appendingPathComponent("a", isDirectory: true).creatingDirectory())

        let store = try SQLiteContactStore(path: directory.appendingPathComponent("full.sqlite").path)
        var pipeline = IngestPipeline(engine: engine, store: store)
        pipeline.batchSize = 200
        try await store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages + 60)")
        }
        await #expect(throws: StoreError.self) { _ = try await pipeline.ingest(paths: [asterisk], format: nil) }
        let legs = { @Sendable in
            try await store.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM leg") ?? 0 }
        }
        let stored = try await legs()
        #expect(stored > 0)
        // The run has returned: no commit of it is still under way to land later.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await legs() == stored)

        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        let summary = try await pipeline.ingest(paths: [asterisk], format: nil)
        #expect(summary.batches.duplicates >= stored)
        #expect(try await legs() > stored)
        #expect(ExportDocument.render(try await store.snapshot()) == reference)
    }
}
