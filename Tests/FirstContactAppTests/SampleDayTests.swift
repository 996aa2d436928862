import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactSimulator
import FirstContactStore
import Foundation
import Testing

@Suite("The sample day, end to end")
struct SampleDayTests {
    let asterisk = Fixture.sampleDay.appendingPathComponent("asterisk")
    /// What the IVR posted: the PBX-neutral half of the day (SPEC: `asterisk/` + `ivr/`).
    let ivr = Fixture.sampleDay.appendingPathComponent("ivr")

    @Test(
        "ingesting the sample day (asterisk/ + ivr/) and ticking to 23:59:59 gives exactly the simulator's expected.json"
    )
    func sampleDayMatchesExpected() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (export, summary) = try await Fixture.export(
            ingesting: [[self.asterisk.path, self.ivr.path]], into: directory, tick: Fixture.sampleEnd)
        let expected = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("expected.json"), encoding: .utf8)
        #expect(summary?.batches.rejects == 0)
        #expect(summary?.totals.contacts ?? 0 > 2000)
        #expect(export == expected)
    }

    @Test(
        "customers derived in chunks and slices of any size — a slice computed on another thread while the next is read, or each in turn on the writer — give exactly the simulator's expected.json",
        arguments: [(10_000, 10_000), (10_000, 1), (10_000, 256), (300, 1_000), (50, 7), (7, 7)])
    func derivedInSlices(chunk: Int, slice: Int) async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (export, summary) = try await Fixture.export(
            ingesting: [[self.asterisk.path, self.ivr.path]], into: directory, tick: Fixture.sampleEnd,
            derivationChunk: chunk, derivationSlice: slice)
        let expected = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("expected.json"), encoding: .utf8)
        #expect(summary?.totals.contacts ?? 0 > 2000)
        #expect(export == expected)
    }

    @Test("re-ingesting the same files changes nothing, byte for byte")
    func reingestIsIdempotent() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (once, _) = try await Fixture.export(ingesting: [[self.asterisk.path, self.ivr.path]], into: directory)
        let (twice, summary) = try await Fixture.export(
            ingesting: [[self.asterisk.path, self.ivr.path]], into: directory)
        #expect(summary?.batches.newRecords == 0)
        #expect(summary?.batches.duplicates == summary.map { $0.batches.records - $0.batches.ignored })
        #expect(once == twice)
    }

    @Test(
        "committed in batches of a few hundred records, each stored while the next is decoded, the day is the same day"
    )
    func smallBatchesGiveSameDay() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = [[self.asterisk.path, self.ivr.path]]
        let (reference, whole) = try await Fixture.export(
            ingesting: paths, into: directory.appendingPathComponent("a", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd)
        let (batched, small) = try await Fixture.export(
            ingesting: paths, into: directory.appendingPathComponent("b", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd, batchSize: 333)
        let records = try #require(whole?.batches.records)
        #expect(records > 20 * 333)
        // Calls and customers touched count per batch (a call split over two batches is touched twice).
        let counted = { (summary: IngestSummary?) in
            summary.map {
                [
                    $0.batches.records, $0.batches.newRecords, $0.batches.duplicates, $0.batches.ignored,
                    $0.batches.rejects,
                ]
            }
        }
        #expect(counted(small) == counted(whole))
        #expect(small?.batches.maxEventTime == whole?.batches.maxEventTime)
        #expect(small?.files.map(\.records) == whole?.files.map(\.records))
        #expect(small?.unmatchedDevices == whole?.unmatchedDevices)
        #expect(batched == reference)
    }

    @Test(
        "the same records split into several files, ingested in another order and in several runs, give the same export"
    )
    func splitAndReorderedGivesSameExport() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (reference, _) = try await Fixture.export(
            ingesting: [[self.asterisk.path, self.ivr.path]],
            into: directory.appendingPathComponent("a", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd)

        // Deal the lines of both files into three shuffled parts each, then ingest them back to front.
        var generator = SeededGenerator(seed: 99)
        let split = try directory.appendingPathComponent("split", isDirectory: true).creatingDirectory()
        var parts: [String] = []
        for name in ["Master.csv", "queue_log"] {
            let lines = try String(contentsOf: self.asterisk.appendingPathComponent(name), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: true).shuffled(using: &generator)
            for part in 0..<3 {
                let url = split.appendingPathComponent("\(name)-part\(part)")
                let chunk = lines.enumerated().filter { $0.offset % 3 == part }.map(\.element).joined(separator: "\n")
                try (chunk + "\n").write(to: url, atomically: true, encoding: .utf8)
                parts.append(url.path)
            }
        }
        // The IVR's events come first, before any call record they belong to.
        let runs = [[self.ivr.path] + Array(parts.reversed().prefix(2)), Array(parts.reversed().dropFirst(2))]
        let (reordered, _) = try await Fixture.export(
            ingesting: runs, into: try directory.appendingPathComponent("b", isDirectory: true).creatingDirectory(),
            tick: Fixture.sampleEnd)
        #expect(reordered == reference)
    }
}

@Suite("Bad rows")
struct BadRowTests {
    @Test(
        "a malformed row in the middle of a file becomes a reject with its line and reason; every other row is ingested"
    )
    func malformedRowInTheMiddle() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv"), encoding: .utf8
        )
        .split(separator: "\n").prefix(9).map(String.init)
        let broken = "\"\",\"13800000000\",\"96116\",\"from-trunk\",\"unterminated"
        let file = directory.appendingPathComponent("Master.csv")
        try ((lines.prefix(4) + [broken] + lines.dropFirst(4)).joined(separator: "\n") + "\n")
            .write(to: file, atomically: true, encoding: .utf8)

        let (export, summary) = try await Fixture.export(ingesting: [[file.path]], into: directory)
        let summaryValue = try #require(summary)
        #expect(summaryValue.batches.rejects == 1)
        #expect(summaryValue.batches.newRecords == 9)
        let reject = try #require(summaryValue.rejects.first)
        #expect(reject.position.line == 5)
        #expect(reject.position.offset == Int64(lines.prefix(4).map { $0.utf8.count + 1 }.reduce(0, +)))
        #expect(reject.reason.contains("quote"))
        #expect(reject.raw == Array(broken.utf8))
        #expect(export.contains("\"line\": 5"))

        // Re-importing the file stores its reject once.
        let (again, second) = try await Fixture.export(ingesting: [[file.path]], into: directory)
        #expect(second?.totals.rejects == 1)
        #expect(again == export)
    }
}

/// A seeded generator so shuffles in tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}

@Suite("Simulator")
struct SimulatorTests {
    @Test("the same seed writes the same day byte for byte, and the committed sample is what seed 42 writes")
    func deterministic() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let engine = try Fixture.engine()
        let date = try #require(CivilDate(iso: "2026-11-27"))
        func files(_ dir: URL) throws -> [String] {
            try ["asterisk/Master.csv", "asterisk/queue_log", "ivr/events-0001.xml", "expected.json"].map {
                try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)
            }
        }
        let a = directory.appendingPathComponent("a")
        let b = directory.appendingPathComponent("b")
        let c = directory.appendingPathComponent("c")
        let sample = directory.appendingPathComponent("sample")
        _ = try Simulator(configuration: engine.configuration).run(
            seed: 7, calls: 300, date: date, outputDirectory: a.path)
        _ = try Simulator(configuration: engine.configuration).run(
            seed: 7, calls: 300, date: date, outputDirectory: b.path)
        _ = try Simulator(configuration: engine.configuration).run(
            seed: 8, calls: 300, date: date, outputDirectory: c.path, formats: [.asterisk, .ivr])
        #expect(try files(a) == files(b))
        #expect(try files(a)[0] != files(c)[0])

        let summary = try Simulator(configuration: engine.configuration).run(
            seed: 42, calls: 2500, date: date, outputDirectory: sample.path, formats: [.asterisk, .ivr])
        #expect(try files(sample) == files(Fixture.sampleDay))
        // A realistic mix: every kind of story occurs in the sample day.
        #expect(summary.storyKinds.count == 19)
        #expect(summary.ivrEvents > 2000)
    }

    @Test("days simulated from the same first customer share their customers; days given ranges apart share none")
    func customerRanges() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let simulator = Simulator(configuration: try Fixture.engine().configuration)
        let date = try #require(CivilDate(iso: "2026-11-27"))
        /// The day's callers as the last 8 digits of their numbers (a seed picks only the prefix);
        /// withheld callers have none.
        func customers(seed: UInt64, firstCustomer: Int) throws -> Set<String> {
            let out = directory.appendingPathComponent("\(seed)")
            _ = try simulator.run(
                seed: seed, calls: 400, date: date, outputDirectory: out.path, formats: [.asterisk],
                firstCustomer: firstCustomer)
            let expected = try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("expected.json")))
            let contacts = (expected as? [String: Any])?["contacts"] as? [[String: Any]] ?? []
            let numbers = contacts.compactMap { $0["customer_raw"] as? String }.filter { $0.allSatisfy(\.isNumber) }
            return Set(numbers.map { String($0.suffix(8)) })
        }
        let first = try customers(seed: 1, firstCustomer: 0)
        let again = try customers(seed: 2, firstCustomer: 0)
        let apart = try customers(seed: 3, firstCustomer: 400)
        #expect(first.count > 200 && apart.count > 200)
        #expect(first.intersection(again).count > first.count / 2)
        #expect(first.intersection(apart).isEmpty)
    }

    @Test("formats choose which files are written; each written file is the one a run writing everything writes")
    func formatsChooseFiles() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let simulator = Simulator(configuration: try Fixture.engine().configuration)
        let date = try #require(CivilDate(iso: "2026-11-27"))
        let all = directory.appendingPathComponent("all")
        let full = try simulator.run(seed: 3, calls: 80, date: date, outputDirectory: all.path)
        let manager = FileManager.default
        func listing(_ dir: URL) throws -> [String: Data] {
            var files: [String: Data] = [:]
            for name in try manager.subpathsOfDirectory(atPath: dir.path) {
                var isDirectory: ObjCBool = false
                if manager.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                {
                    files[name] = try Data(contentsOf: dir.appendingPathComponent(name))
                }
            }
            return files
        }
        let everything = try listing(all)
        for formats: Set<SimulatedFormat> in [[.asterisk], [.freeswitch], [.ivr], [.asterisk, .ivr], []] {
            let out = directory.appendingPathComponent(
                formats.map(\.rawValue).sorted().joined(separator: "-") + "-only")
            let summary = try simulator.run(seed: 3, calls: 80, date: date, outputDirectory: out.path, formats: formats)
            let written = try listing(out)
            let folders = Set(
                written.keys.compactMap {
                    $0.split(separator: "/").count > 1 ? String($0.split(separator: "/")[0]) : nil
                })
            #expect(folders == Set(formats.map(\.rawValue)), "\(formats)")
            #expect(written["expected.json"] == everything["expected.json"])
            for (name, data) in written { #expect(everything[name] == data, "\(name) differs from the full run") }
            #expect(
                written.count
                    == everything.keys.filter { name in
                        name == "expected.json" || formats.contains { name.hasPrefix($0.rawValue + "/") }
                    }.count)
            #expect(summary.contacts == full.contacts)
            #expect((summary.cdrRows > 0) == formats.contains(.asterisk))
            #expect((summary.freeswitchDocuments > 0) == formats.contains(.freeswitch))
            #expect((summary.ivrEvents > 0) == formats.contains(.ivr))
        }
    }
}
