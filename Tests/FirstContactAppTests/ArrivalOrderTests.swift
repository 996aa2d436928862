import FirstContactApp
import FirstContactCore
import FirstContactSimulator
import FirstContactStore
import Foundation
import GRDB
import Testing

/// Tables whose content may depend on arrival order, and why:
/// - `outbox`: the notifications sent, a record of what was announced while records arrived
///   (a breach announced before the record that disproved it arrived stays announced).
/// - `amendment`: the record of earlier conclusions that later records changed; a batch ingest
///   has no earlier conclusions to change.
/// - `webhook_cursor`, `webhook_dead_letter`: delivery of the outbox.
private let orderDependentTables: Set<String> = ["outbox", "amendment", "webhook_cursor", "webhook_dead_letter"]

/// Columns numbered in arrival order (a row's identity is the rest of the row). A source's id and
/// a customer's number are numbered so too: rows that refer to them are compared by the source's
/// name and the customer's key.
private let arrivalColumns: [String: Set<String>] = ["action": ["seq"], "source": ["id"], "customer": ["seq"]]

/// Every table's rows as sorted text, but the order-dependent tables and columns.
private func dump(_ path: String) throws -> [String: [String]] {
    try DatabaseQueue(path: path).read { db in
        let tables = try String.fetchAll(
            db,
            sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        var result: [String: [String]] = [:]
        for table in tables where !orderDependentTables.contains(table) {
            let skipped = arrivalColumns[table] ?? []
            let columns = try db.columns(in: table).map(\.name).filter { !skipped.contains($0) }
            let list = columns.map { (column: String) -> String in
                switch column {
                case "source_id": "(SELECT name FROM source WHERE id = source_id) AS source"
                case "customer_seq": "(SELECT customer_key FROM customer WHERE seq = customer_seq) AS filed_under"
                default: "\"\(column)\""
                }
            }.joined(separator: ", ")
            result[table] = try Row.fetchAll(db, sql: "SELECT \(list) FROM \"\(table)\"").map(\.description).sorted()
        }
        return result
    }
}

/// Names what differs between two dumps, table by table (a few rows each).
private func differences(_ a: [String: [String]], _ b: [String: [String]]) -> [String] {
    var found: [String] = []
    for table in Set(a.keys).union(b.keys).sorted() {
        let left = a[table] ?? []
        let right = b[table] ?? []
        guard left != right else { continue }
        let onlyLeft = Set(left).subtracting(right).sorted().prefix(3)
        let onlyRight = Set(right).subtracting(left).sorted().prefix(3)
        found.append(
            "\(table): \(left.count) rows vs \(right.count); only in batches: \(Array(onlyLeft)); only in one run: \(Array(onlyRight))"
        )
    }
    return found
}

/// Customers with nothing filed under them: what a call moved to another customer could leave
/// behind. (Amendments about them stay: they are the audit trail of what changed.) And calls or
/// IVR events whose customer number is not their customer's.
private func leftovers(_ path: String) throws {
    let customers = try DatabaseQueue(path: path).read { db in
        try Int.fetchOne(
            db,
            sql: """
                SELECT count(*) FROM customer c WHERE NOT EXISTS (SELECT 1 FROM call WHERE customer_key = c.customer_key)
                AND NOT EXISTS (SELECT 1 FROM ivr_event WHERE customer_key = c.customer_key)
                AND NOT EXISTS (SELECT 1 FROM action WHERE customer_key = c.customer_key)
                """) ?? 0
    }
    #expect(customers == 0, "customer rows with no call, IVR event or action")
    let misfiled = try Fixture.misfiled(path)
    #expect(misfiled == 0, "calls or IVR events filed under another customer's number")
}

/// The decoded records of a simulated day's files, as ingest decodes them.
private func records(of paths: [(String, InputFormat)], engine: Engine) throws -> [IngestRecord] {
    try paths.flatMap { path, format in
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        return engine.decoder(for: format).records(in: bytes, source: path)
    }
}

private func files(in directory: URL, suffix: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(suffix) }.sorted()
        .map { directory.appendingPathComponent($0).path }
}

/// The IVR half of a simulated day.
private func ivrFiles(_ day: URL) throws -> [(String, InputFormat)] {
    try files(in: day.appendingPathComponent("ivr"), suffix: ".xml").map { ($0, .ivrEvents) }
}

private func freeswitchFiles(_ day: URL) throws -> [(String, InputFormat)] {
    let freeswitch = day.appendingPathComponent("freeswitch")
    return [(freeswitch.appendingPathComponent("events.xml").path, .freeswitchEvents)]
        + (try files(in: freeswitch.appendingPathComponent("xml_cdr"), suffix: ".cdr.xml").map {
            ($0, .freeswitchXMLCDR)
        })
}

private func asteriskFiles(_ day: URL) -> [(String, InputFormat)] {
    let asterisk = day.appendingPathComponent("asterisk")
    return [
        (asterisk.appendingPathComponent("Master.csv").path, .asteriskCSV),
        (asterisk.appendingPathComponent("queue_log").path, .asteriskQueueLog),
    ]
}

/// Ingests each batch and ticks to the latest event time seen so far (as `serve` does), then
/// ticks to `end`; returns the database's path.
private func ingest(
    _ batches: [[IngestRecord]], into directory: URL, end: Timestamp, engine: Engine
) async throws -> String {
    let path = directory.appendingPathComponent("fc.sqlite").path
    let store = try SQLiteContactStore(path: path)
    for batch in batches {
        let outcome = try await store.ingest(batch, correlator: engine.correlator)
        #expect(outcome.rejects == 0)
        if let latest = try await store.latestEventTime() {
            _ = try await store.advanceClock(to: latest, correlator: engine.correlator)
        }
    }
    _ = try await store.advanceClock(to: end, correlator: engine.correlator)
    #expect(try await store.totals() == store.countedTotals(), "the totals kept against the rows")
    return path
}

@Suite("Arrival order: the same records give the same stored state")
struct ArrivalOrderTests {
    static let date = CivilDate(year: 2026, month: 11, day: 27)

    @Test(
        "calls first seen through a callcenter event without a caller number, then their events, then their CDRs, leave what one batch leaves"
    )
    func withheldFirstSighting() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let day = directory.appendingPathComponent("day")
        _ = try Simulator(configuration: engine.configuration).run(
            seed: 20_261_127, calls: 120, date: Self.date, outputDirectory: day.path, formats: [.freeswitch])
        let freeswitch = day.appendingPathComponent("freeswitch")
        let events = try records(
            of: [(freeswitch.appendingPathComponent("events.xml").path, .freeswitchEvents)], engine: engine)
        let cdrs = try records(
            of: try files(in: freeswitch.appendingPathComponent("xml_cdr"), suffix: ".cdr.xml").map {
                ($0, .freeswitchXMLCDR)
            }, engine: engine)
        let connected = events.filter {
            if case .record(.queue(let queue)) = $0, case .connected = queue.event { return true }
            return false
        }
        #expect(connected.count > 10)
        let end = try #require(Timestamp(iso8601: Fixture.sampleEnd))

        let reference = try await ingest(
            [events + cdrs], into: try directory.appendingPathComponent("one").creatingDirectory(), end: end,
            engine: engine)
        // Each connected event alone, then every event, then the CDRs.
        let piecemeal = try await ingest(
            connected.map { [$0] } + [events, cdrs],
            into: try directory.appendingPathComponent("pieces").creatingDirectory(), end: end, engine: engine)

        try leftovers(piecemeal)
        let found = differences(try dump(piecemeal), try dump(reference))
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")
    }

    enum Half: String, CaseIterable, Sendable {
        case freeswitch, asterisk
    }

    /// How the records are ordered before they are cut into batches.
    enum Arrival: String, CaseIterable, Sendable {
        /// Any order: the clock runs to the day's end with the first batches.
        case shuffled
        /// Roughly in time order, each record up to an hour late: the clock moves through the
        /// day, so obligations are decided on part of their records and later changed.
        case late
    }

    struct Shape: Sendable, CustomTestStringConvertible {
        var half: Half
        var arrival: Arrival
        var testDescription: String { "\(self.half.rawValue), \(self.arrival.rawValue)" }
        static let all = Half.allCases.flatMap { half in Arrival.allCases.map { Shape(half: half, arrival: $0) } }
    }

    @Test(
        "a simulated day's records shuffled into random batches store what one batch of them stores",
        arguments: [3, 17, 2_026] as [UInt64], Shape.all)
    func shuffledBatches(seed: UInt64, shape: Shape) async throws {
        let (half, arrival) = (shape.half, shape.arrival)
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let day = directory.appendingPathComponent("day")
        _ = try Simulator(configuration: engine.configuration).run(
            seed: seed, calls: 150, date: Self.date, outputDirectory: day.path,
            formats: [half == .freeswitch ? .freeswitch : .asterisk, .ivr])
        let paths = try (half == .freeswitch ? freeswitchFiles(day) : asteriskFiles(day)) + ivrFiles(day)
        let all = try records(of: paths, engine: engine)
        #expect(all.count > 300)
        let end = try #require(Timestamp(iso8601: Fixture.sampleEnd))

        let reference = try await ingest(
            [all], into: try directory.appendingPathComponent("one").creatingDirectory(), end: end, engine: engine)

        var generator = SeededGenerator(seed: seed)
        var shuffled: [IngestRecord]
        switch arrival {
        case .shuffled:
            shuffled = all.shuffled(using: &generator)
        case .late:
            shuffled = all.map { record -> (Int64, IngestRecord) in
                let time = if case .record(let call) = record { call.eventTime.seconds } else { Int64(0) }
                return (time + Int64.random(in: 0...3600, using: &generator), record)
            }.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var batches: [[IngestRecord]] = []
        while !shuffled.isEmpty {
            // Mostly small batches, as HTTP posts arrive, some larger.
            let size = Int.random(in: 1...(Bool.random(using: &generator) ? 8 : 120), using: &generator)
            batches.append(Array(shuffled.prefix(size)))
            shuffled.removeFirst(min(size, shuffled.count))
        }
        let batched = try await ingest(
            batches, into: try directory.appendingPathComponent("batches").creatingDirectory(), end: end,
            engine: engine)
        let expected = try dump(reference)
        #expect(expected["contact"]?.count ?? 0 > 100)
        #expect(expected["obligation"]?.count ?? 0 > 10)
        try leftovers(batched)
        let found = differences(try dump(batched), expected)
        #expect(found.isEmpty, "\(batches.count) batches:\n\(found.joined(separator: "\n"))")
    }
}
