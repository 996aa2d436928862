import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactIngest
import FirstContactStore
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Group commit of concurrent `POST /v1/ingest/...` requests, and the `/metrics` exposition.
@Suite("Group commit and metrics")
struct GroupCommitTests {
    static let pbx: HTTPFields = [.authorization: "Bearer demo-pbx"]
    static let admin: HTTPFields = [.authorization: "Bearer demo-admin"]

    /// The public FreeSWITCH corpus documents, each rewritten `count` times into a different call
    /// from a different customer: every UUID and the caller number replaced (as the HTTP
    /// benchmark does), so that the documents, their records and their customers all differ.
    /// Inbound documents become calls to the hotline (96116) from the public context, so that
    /// each is a customer's call with something to derive.
    @Test(
        "once the batcher has stopped, a post is refused at once with 503 and Retry-After instead of waiting for a group that never comes",
        .timeLimit(.scaled(minutes: 3)))
    func stoppedBatcherRefuses() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try await SchedulerFixture.store(
            SchedulerFixture.missedCall, SchedulerFixture.missedQueueLog, in: directory, engine: engine)
        let batcher = IngestBatcher(
            store: store,
            scheduler: ObligationScheduler(engine: engine, store: store, clock: ManualClock(now: Timestamp(seconds: 0)))
        )
        let running = Task { try await batcher.run() }
        running.cancel()
        _ = await running.result
        let refused = await #expect(throws: HTTPError.self) { try await batcher.ingest([]) }
        #expect(refused?.status == .serviceUnavailable)
        #expect(refused?.headers[.retryAfter] == "5")
    }

    static func documents(_ count: Int, from template: String? = nil) throws -> [String] {
        let directory = Fixture.corpus.appendingPathComponent("freeswitch-xml-cdr")
        let templates = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".xml") && (template == nil || $0 == template) }.sorted()
            .map { try String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
        try #require(!templates.isEmpty)
        let uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
        return try (0..<count).map { index in
            var document = templates[index % templates.count]
            var renamed: [Substring: String] = [:]
            document.replace(uuid) { match in
                let old = match.output
                if let new = renamed[old] { return new }
                let new = UUID().uuidString.lowercased()
                renamed[old] = new
                return new
            }
            let caller = try #require(document.firstMatch(of: /<caller_id_number>([^<]+)</)?.output.1)
            document = document.replacingOccurrences(of: String(caller), with: String(format: "139%08d", index))
            if document.contains("<direction>inbound<") {
                document.replace(/<destination_number>[^<]*</, with: "<destination_number>96116<")
                document.replace(/<context>[^<]*</, with: "<context>public<")
            }
            return document
        }
    }

    static func app(in directory: URL) throws -> (some ApplicationProtocol, SQLiteContactStore, Engine) {
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let clock = ManualClock(now: try SchedulerFixture.at("2026-11-27T12:00:00"))
        return (
            buildApplication(
                engine: engine, store: store, clock: clock, host: "127.0.0.1", port: 0, logger: Fixture.quietLogger),
            store, engine
        )
    }

    struct Answer: Sendable {
        var index: Int
        var status: HTTPResponse.Status
        var records = 0
        var new = 0
        var duplicates = 0
        var rejects = 0
    }

    @Test(
        "50 concurrent posts (repeats and a broken document among them) all get 200 with their own counts; every record is stored once"
    )
    func concurrentPosts() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store, engine) = try Self.app(in: directory)
        let unique = try Self.documents(40)
        // 9 documents posted twice at the same time (a PBX retrying), and one that is not a CDR.
        let bodies = unique + unique.prefix(9) + ["<cdr><variables><uuid>broken"]
        let decoder = engine.decoder(for: .freeswitchXMLCDR)
        let expected = unique.map { body in decoder.records(in: Array(body.utf8), source: "count").count }
        #expect(expected.allSatisfy { $0 >= 1 })

        try await app.test(.router) { client in
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for (index, body) in bodies.enumerated() {
                    group.addTask {
                        try await client.execute(
                            uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: Self.pbx,
                            body: ByteBuffer(string: body)
                        ) { response in
                            var answer = Answer(index: index, status: response.status)
                            let json =
                                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                            answer.records = json?["records"] as? Int ?? -1
                            answer.new = json?["new"] as? Int ?? -1
                            answer.duplicates = json?["duplicates"] as? Int ?? -1
                            answer.rejects = (json?["rejects"] as? [Any])?.count ?? -1
                            return answer
                        }
                    }
                }
                return try await group.reduce(into: [Int: Answer]()) { $0[$1.index] = $1 }
            }
            #expect(answers.count == bodies.count)
            #expect(answers.values.allSatisfy { $0.status == .ok })
            for index in unique.indices {
                let first = try #require(answers[index])
                #expect(first.records == expected[index] && first.rejects == 0)
                if index < 9 {
                    // Posted twice at once: one of the two stored it, the other found it stored.
                    let again = try #require(answers[unique.count + index])
                    #expect(again.records == expected[index])
                    #expect(first.new + again.new == expected[index])
                    #expect(first.duplicates + again.duplicates == expected[index])
                } else {
                    #expect(first.new == expected[index] && first.duplicates == 0)
                }
            }
            let broken = try #require(answers[bodies.count - 1])
            #expect(broken.new == 0 && broken.rejects == 1)

            // Answered after the commit: everything is there the moment the last answer is.
            let totals = try await store.totals()
            #expect(totals.records == expected.reduce(0, +))
            #expect(totals.rejects == 1)
            #expect(try await store.contacts(ContactQuery(limit: 10_000)).count > 0)

            try await client.execute(uri: "/metrics", method: .get, headers: Self.admin) { response in
                let text = String(buffer: response.body)
                let format = "firstcontact_ingested_records_total{format=\"freeswitch-xml-cdr\""
                #expect(text.contains("\(format),result=\"new\"} \(expected.reduce(0, +))"), "\(text)")
                #expect(text.contains("\(format),result=\"duplicate\"} \(expected.prefix(9).reduce(0, +))"), "\(text)")
                #expect(text.contains("\(format),result=\"rejected\"} 1"), "\(text)")
                // Every request went through a group; how many groups depends on timing.
                #expect(text.contains("firstcontact_ingest_group_requests_total \(bodies.count)"), "\(text)")
                let groups = try #require(
                    text.firstMatch(of: /firstcontact_ingest_group_commits_total (\d+)/).flatMap { Int($0.output.1) })
                #expect(groups >= 1 && groups <= bodies.count)
            }
        }
    }

    @Test("the same document posted by 20 requests at once is stored once: one answer says new, 19 say duplicate")
    func sameDocumentConcurrently() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store, _) = try Self.app(in: directory)
        let body = try #require(try Self.documents(1).first)
        try await app.test(.router) { client in
            let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Int, Int).self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.execute(
                            uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: Self.pbx,
                            body: ByteBuffer(string: body)
                        ) { response in
                            let json =
                                try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                            return (response.status, json?["new"] as? Int ?? -1, json?["duplicates"] as? Int ?? -1)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == .ok })
            let records = try await store.totals().records
            #expect(records >= 1)
            #expect(answers.filter { $0.1 == records && $0.2 == 0 }.count == 1)
            #expect(answers.filter { $0.1 == 0 && $0.2 == records }.count == 19)
        }
    }

    @Test("a store batch that fails is rolled back alone; the batches around it in the transaction commit")
    func failingBatchIsIsolated() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let store = try SQLiteContactStore(path: directory.appendingPathComponent("fc.sqlite").path)
        let decoder = engine.decoder(for: .freeswitchXMLCDR)
        let documents = try Self.documents(3).map { body in decoder.records(in: Array(body.utf8), source: "doc") }
        // The middle batch's leg cannot be stored: a trigger stands in for any store error
        // (a constraint, a full disk for one statement…).
        let poisoned = try #require(
            documents[1].compactMap { record -> String? in
                if case .record(.leg(let leg)) = record { return leg.key.rawValue }
                return nil
            }.first)
        let second = try DatabaseQueue(path: directory.appendingPathComponent("fc.sqlite").path)
        try await second.write { db in
            // Triggers take no bound parameters; the key is a hex hash.
            try db.execute(
                sql:
                    "CREATE TRIGGER refuse BEFORE INSERT ON leg WHEN NEW.event_key = '\(poisoned)' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        }
        try second.close()
        let results = try await store.ingest(batches: documents, correlator: engine.correlator)
        #expect(results.count == 3)
        let outcomes = results.map { try? $0.get() }
        #expect(outcomes[0]?.newRecords == documents[0].count)
        #expect(outcomes[1] == nil)
        #expect(outcomes[2]?.newRecords == documents[2].count)
        #expect(try await store.totals().records == documents[0].count + documents[2].count)
    }

    @Test(
        "/metrics is Prometheus text with request-duration buckets per route pattern, never an id or a number in a label"
    )
    func metricsExposition() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (app, store, _) = try Self.app(in: directory)
        // An unanswered hotline call (the bridge timed out): a contact for the customer.
        let body = try #require(try Self.documents(1, from: "ccm_cloud_to_bts.cdr.xml").first)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/ingest/freeswitch-xml-cdr", method: .post, headers: Self.pbx, body: ByteBuffer(string: body)
            ) {
                #expect($0.status == .ok)
            }
            let contact = try #require(try await store.contacts(ContactQuery()).first)
            let customer = contact.customer.text
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/contacts/\(contact.id)", method: .get, headers: Self.admin) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/contacts/no-such-contact", method: .get, headers: Self.admin) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/contacts?customer=\(customer)", method: .get, headers: Self.admin) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/no/such/route/\(customer)", method: .get) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: Self.admin) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                let lines = text.split(separator: "\n")
                // Text exposition format 0.0.4: comments, or `name{labels} value`, each sample
                // after its family's `# TYPE`.
                let sample =
                    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$/
                var typed: Set<String> = []
                for line in lines {
                    if line.hasPrefix("# TYPE ") {
                        typed.insert(String(line.split(separator: " ")[2]))
                    } else if !line.hasPrefix("# HELP ") {
                        let match = try #require(line.wholeMatch(of: sample), "not Prometheus text: \(line)")
                        let family = String(match.output.1).replacing(/_(bucket|sum|count)$/, with: "")
                        #expect(
                            typed.contains(family) || typed.contains(String(match.output.1)), "no # TYPE before \(line)"
                        )
                    }
                }
                let histogram = "firstcontact_http_request_duration_seconds_bucket"
                #expect(text.contains("# TYPE firstcontact_http_request_duration_seconds histogram"))
                for (method, route, status) in [
                    ("POST", "/v1/ingest/{format}", 200), ("GET", "/healthz", 200), ("GET", "/v1/contacts/{id}", 200),
                    ("GET", "/v1/contacts/{id}", 404), ("GET", "/v1/contacts", 200),
                ] {
                    let labels = "method=\"\(method)\",route=\"\(route)\",status=\"\(status)\""
                    #expect(text.contains("\(histogram){\(labels),le=\"+Inf\"} 1"), "\(labels) in \(text)")
                    #expect(text.contains("\(histogram){\(labels),le=\"0.001\"}"), "\(labels) in \(text)")
                }
                #expect(!text.contains(customer), "a customer number in a label")
                #expect(!text.contains(contact.id.rawValue), "a contact id in a label")
                #expect(!text.contains("no-such-contact") && !text.contains("/no/such/route"))
                #expect(text.contains("firstcontact_obligations{state=\"pending\"}"))
                #expect(text.contains("# TYPE firstcontact_breaches gauge"))
                #expect(text.contains("# TYPE firstcontact_scheduler_lag_seconds gauge"))
            }
        }
    }
}
