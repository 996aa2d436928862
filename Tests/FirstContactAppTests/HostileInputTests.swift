import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Testing

/// Bad input costs at most what it weighs: ~1 MB of each format in the shape that once
/// amplified (a header quoted into every row's reason, a huge field, many short bad rows) is
/// decoded and stored in linear time and space.
@Suite("Hostile input: cost linear in input bytes", .serialized)
struct HostileInputTests {
    /// ~1 MB of `format` shaped to amplify: every row or element a reject.
    static func input(_ format: InputFormat) -> [UInt8] {
        func repeated(_ unit: String, _ count: Int) -> String { String(repeating: unit, count: count) }
        let text: String
        switch format {
        case .kamailioAcc:
            // The shape found from outside: a header of 100,008 columns, then rows `1:2`.
            text = repeated("c(s) ", 100_008) + "\n" + repeated("1:2\n", 125_000)
        case .asteriskCSV:
            // One line of 200,000 fields, then many short bad rows.
            text = repeated("x,", 200_000) + "\n" + repeated("1,2\n", 150_000)
        case .asteriskCEL:
            // One line of 100,000 quoted fields, then many short bad rows.
            text = repeated("\"x\",", 100_000) + "\n" + repeated("\"A\",\"1\"\n", 80_000)
        case .asteriskQueueLog:
            text = repeated("x|", 200_000) + "\n" + repeated("1|2\n", 150_000)
        case .freeswitchXMLCDR:
            // One document of 200,000 empty elements and no uuid: one reject, its raw capped.
            text = "<cdr>" + repeated("<x/>", 250_000) + "</cdr>"
        case .freeswitchEvents:
            // A 400 KB Event-Name, then many short frames without one.
            text = "Event-Name: " + repeated("N", 400_000) + "\n\n" + repeated("A: b\n\n", 100_000)
        case .ivrEvents:
            text =
                "<ivr-events xmlns=\"urn:firstcontact:ivr-events:1\">"
                + repeated("<ivr-event kind=\"zz\" at=\"x\"/>", 33_000) + "</ivr-events>"
        }
        return Array(text.utf8)
    }

    static func databaseBytes(_ directory: URL) throws -> Int {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.fileSizeKey])
            .filter { $0.lastPathComponent.hasPrefix("store.sqlite") }
            .reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
    }

    // Wall time is not asserted here: the suite runs beside ~90 others on 2 cores, where one shape
    // took 31 s that takes 1 s alone (BENCHMARKS.md, "Hostile input"). What amplified the issue's
    // input is deterministic and checked: stored bytes per input byte, reason and raw bounds, and
    // rejects past the cap counted instead of stored. The time limit catches a hang.
    @Test(
        "1 MB in the amplifying shape is stored within 2× its bytes, reasons and raw bytes bounded, rejects past the cap counted",
        .timeLimit(.scaled(minutes: 3)),
        arguments: InputFormat.allCases)
    func linearCost(format: InputFormat) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hostile.input")
        let input = Self.input(format)
        #expect(input.count > 900_000 && input.count < 1_300_000)
        try Data(input).write(to: file)
        let database = directory.appendingPathComponent("store.sqlite").path
        let engine = try Fixture.engine()
        let empty: Int
        do {
            _ = try SQLiteContactStore(path: database)
        }
        empty = try Self.databaseBytes(directory)
        var summary: IngestSummary?
        do {
            // Closed at the end of the scope, so the WAL is checkpointed into the file.
            let store = try SQLiteContactStore(path: database)
            summary = try await IngestPipeline(engine: engine, store: store).ingest(paths: [file.path], format: format)
        }
        let grown = try Self.databaseBytes(directory) - empty
        let batches = try #require(summary?.batches)
        #expect(batches.rejects > 0)
        #expect(grown <= 2 * input.count, "\(format.rawValue): the database grew \(grown) bytes for \(input.count)")

        let snapshot = try await SQLiteContactStore(readingAt: database).snapshot()
        #expect(
            snapshot.rejects.allSatisfy {
                $0.reason.count <= Reject.maxReasonLength && $0.raw.count <= Reject.maxKeptRawBytes
            })
        #expect(snapshot.rejects.count <= IngestOptions().maxRejectsPerSource)
        // Rejects at one position (a document's) are one row; the rest are stored or counted.
        #expect(snapshot.rejects.count + snapshot.rejectsDropped.values.reduce(0, +) <= batches.rejects)
        #expect(snapshot.rejectsDropped.values.reduce(0, +) == batches.rejectsDropped)
        let totals = try await SQLiteContactStore(readingAt: database).totals()
        #expect(totals.rejects == snapshot.rejects.count)
        #expect(totals.rejectsDropped == batches.rejectsDropped)
    }
}
