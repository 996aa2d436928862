import FirstContactApp
import FirstContactCore
import FirstContactHTTP
import FirstContactStore
import Foundation
import Testing

@Suite(
    "Scheduler crash safety", .serialized, .tags(.slow), .enabled(if: SlowTests.enabled, SlowTests.skipped),
    .timeLimit(.scaled(minutes: 10)))
struct CrashTests {
    @Test(
        "a scheduler process killed with SIGKILL at random moments ends, after restarts, exactly where an uninterrupted run ends — no transition or notification twice"
    )
    func killedSchedulerResumes() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Lateness of two days: ingest fires nothing of the day, the scheduler fires it all.
        let config = directory.appendingPathComponent("late.yaml")
        try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
            .replacingOccurrences(of: "lateness: 10m", with: "lateness: 2d")
            .write(to: config, atomically: true, encoding: .utf8)
        let base = directory.appendingPathComponent("base.sqlite").path
        let ingest = try await Fixture.run([
            "ingest", "--quiet", "--config", config.path, "--db", base,
            Fixture.sampleDay.appendingPathComponent("asterisk").path,
            Fixture.sampleDay.appendingPathComponent("ivr").path,
        ])
        #expect(ingest.status == 0)
        func copyOfBase(_ name: String) throws -> String {
            let copy = directory.appendingPathComponent(name).path
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: base + suffix) {
                try FileManager.default.copyItem(atPath: base + suffix, toPath: copy + suffix)
            }
            return copy
        }
        let reference = try copyOfBase("reference.sqlite")
        var crashed = try copyOfBase("crashed.sqlite")
        let schedule = ["schedule", "--config", config.path, "--until", Fixture.sampleEnd]

        let uninterrupted = try await Fixture.run(schedule + ["--db", reference])
        #expect(uninterrupted.status == 0)

        // Kill each run right after it commits something new (seen from a second connection),
        // so the kills land while the scheduler works however fast or slow the machine is; the
        // pause before looking varies, so they land at different places in its work.
        var generator = SeededGenerator(seed: 2026)
        var observer = try SQLiteContactStore(path: crashed)
        var seen: Int64 = 0
        var kills = 0
        var rounds = 0
        while kills < 5, rounds < 40 {
            rounds += 1
            let process = try Fixture.start(schedule + ["--db", crashed])
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150, using: &generator)))
            var killed = false
            while process.isRunning {
                if let entry = try await observer.outbox(after: seen, limit: 1).first {
                    seen = entry.seq
                    kill(process.processIdentifier, SIGKILL)
                    (kills, killed) = (kills + 1, true)
                    break
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            process.waitUntilExit()
            // A loaded run (the whole suite under a sanitizer) can wake this test only after the
            // scheduler has finished its work: then nothing is left to kill it in, and a fresh
            // copy starts over.
            if !killed, kills == 0 {
                crashed = try copyOfBase("crashed-\(rounds).sqlite")
                observer = try SQLiteContactStore(path: crashed)
                seen = 0
            }
        }
        let finished = try await Fixture.run(schedule + ["--db", crashed])
        #expect(finished.status == 0)
        #expect(kills >= 1, "at least one kill should land while the scheduler works")

        let (a, b) = (try SQLiteContactStore(path: reference), try SQLiteContactStore(path: crashed))
        #expect(ExportDocument.render(try await b.snapshot()) == ExportDocument.render(try await a.snapshot()))
        let (outboxA, outboxB) = (
            try await a.outbox(after: 0, limit: 1_000_000), try await b.outbox(after: 0, limit: 1_000_000)
        )
        #expect(outboxB.map(\.key) == outboxA.map(\.key))
        #expect(Set(outboxB.map(\.key)).count == outboxB.count)
        #expect(outboxA.count > 500)
        // And the day the scheduler replayed is the day the simulator's story predicts.
        let expected = try String(
            contentsOf: Fixture.sampleDay.appendingPathComponent("expected.json"), encoding: .utf8)
        #expect(ExportDocument.render(try await a.snapshot()) == expected)
    }
}

extension Fixture {
    /// Starts the built `firstcontact` binary without waiting for it.
    static func start(_ arguments: [String]) throws -> Process {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "firstcontact")
        let candidates = [binary, Self.root.appendingPathComponent(".build/debug/firstcontact")]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw FixtureError("the firstcontact binary was not built next to the tests")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
