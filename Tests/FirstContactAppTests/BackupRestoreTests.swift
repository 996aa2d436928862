import FirstContactApp
import FirstContactCore
import FirstContactStore
import Foundation
import Testing

/// `firstcontact backup` and `restore` against the real `serve` binary under HTTP ingest (issue 15 §2).
@Suite("backup and restore", .serialized)
struct BackupRestoreTests {
    typealias Server = ServeFollowEndToEndTests.Server

    /// The sample configuration with its followed files moved into `directory` (they never
    /// exist: everything arrives over HTTP).
    static func configuration(in directory: URL) throws -> String {
        let config = directory.appendingPathComponent("fc.yaml")
        try String(contentsOfFile: Fixture.sampleConfig, encoding: .utf8)
            .replacingOccurrences(of: "/var/log/asterisk/", with: directory.path + "/absent/")
            .write(to: config, atomically: true, encoding: .utf8)
        return config.path
    }

    /// The sample day's Master.csv and queue_log cut into `count` bodies each, in posting order
    /// (CDR chunk, then queue_log chunk, per step).
    static func bodies(_ count: Int) throws -> [(format: String, text: String)] {
        let asterisk = Fixture.sampleDay.appendingPathComponent("asterisk")
        let cdr = try String(contentsOf: asterisk.appendingPathComponent("Master.csv"), encoding: .utf8).split(
            separator: "\n")
        let queue = try String(contentsOf: asterisk.appendingPathComponent("queue_log"), encoding: .utf8).split(
            separator: "\n")
        func slice(_ lines: [Substring], _ index: Int) -> String {
            lines[lines.count * index / count..<lines.count * (index + 1) / count].joined(separator: "\n") + "\n"
        }
        return (0..<count).flatMap { index in
            [("asterisk-csv", slice(cdr, index)), ("asterisk-queue-log", slice(queue, index))]
        }
    }

    static func post(_ body: (format: String, text: String), to server: Server) async throws -> Int {
        let (status, answer) = try await server.request(
            "/v1/ingest/\(body.format)", method: "POST", token: "demo-pbx", body: Data(body.text.utf8))
        try #require(status == 200, "\(answer)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        return try #require(result["new"] as? Int)
    }

    /// The export after every deadline up to 2030 has been applied (the service's wall-clock
    /// scheduler and a batch ingest then agree whatever time each reached).
    static func settledExport(config: String, db: String) throws -> String {
        let tick = try Fixture.runBlocking(["tick", "--config", config, "--db", db, "--now", "2030-01-01T00:00:00Z"])
        try #require(tick.status == 0, "\(tick.output)")
        let export = try Fixture.runBlocking(["export", "--config", config, "--db", db, "--json"])
        try #require(export.status == 0, "\(export.output)")
        return export.output
    }

    static func binary() throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
                "firstcontact"),
            Fixture.root.appendingPathComponent(".build/debug/firstcontact"),
        ]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw FixtureError("the firstcontact binary was not built next to the tests")
        }
        return executable
    }

    @Test(
        "a backup taken during HTTP ingest restores to exactly the records it holds; re-posting everything completes the restored copy"
    )
    func backupDuringIngest() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.configuration(in: directory)
        let db = directory.appendingPathComponent("serve.sqlite").path
        let copy = directory.appendingPathComponent("backup.sqlite").path
        let bodies = try Self.bodies(12)

        var server = try await Server(arguments: ["serve", "--config", config, "--db", db, "--port", "0"])
        // Whichever server runs when the test ends, even on a failed expectation, is stopped.
        defer { server.stop() }
        // The backup process starts after a third of the posts and runs while the next ones go in.
        var posted: [Int] = []
        let backup = Process()
        backup.executableURL = try Self.binary()
        backup.arguments = ["backup", "--db", db, "--to", copy]
        let backupOutput = Pipe()
        backup.standardOutput = backupOutput
        backup.standardError = backupOutput
        for (index, body) in bodies.enumerated() {
            if index == bodies.count / 3 { try backup.run() }
            posted.append(try await Self.post(body, to: server))
        }
        let backupText = String(decoding: backupOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        backup.waitUntilExit()
        #expect(backup.terminationStatus == 0, "\(backupText)")
        #expect(backupText.contains("records"), "\(backupText)")

        // Restoring over the database `serve` holds open is refused, whatever --force says.
        let refused = try await Fixture.run(["restore", "--from", copy, "--db", db, "--force"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("is open in process"), "\(refused.output)")
        server.stop()
        #expect(server.process.terminationStatus == 0)
        // A second backup onto the same file needs --force.
        let again = try await Fixture.run(["backup", "--db", db, "--to", copy])
        #expect(again.status != 0)
        #expect(again.output.contains("--force"), "\(again.output)")

        // The copy stands where a prefix of the posts (each one commit) had brought the source.
        let summary = try SQLiteContactStore.summary(of: copy)
        let prefix = try #require(
            (0...posted.count).first { posted.prefix($0).reduce(0, +) == summary.records },
            "the copy's \(summary.records) records are no prefix of the posts \(posted)")
        #expect(prefix >= bodies.count / 3, "the backup started after \(bodies.count / 3) posts had been answered")
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"), "the backup is one file")

        let restored = directory.appendingPathComponent("restored.sqlite").path
        let restore = try await Fixture.run(["restore", "--from", copy, "--db", restored])
        #expect(restore.status == 0, "\(restore.output)")
        let overwrite = try await Fixture.run(["restore", "--from", copy, "--db", restored])
        #expect(overwrite.status != 0, "an existing database is replaced only with --force")

        // Reference: a batch ingest of exactly the bodies the copy holds.
        let reference = directory.appendingPathComponent("reference")
        try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
        for format in ["asterisk-csv", "asterisk-queue-log"] {
            try bodies.prefix(prefix).filter { $0.format == format }.map(\.text).joined()
                .write(to: reference.appendingPathComponent(format), atomically: true, encoding: .utf8)
        }
        let referenceDB = directory.appendingPathComponent("reference.sqlite").path
        let ingest = try await Fixture.run(
            ["ingest", "--quiet", "--config", config, "--db", referenceDB]
                + ["asterisk-csv", "asterisk-queue-log"].map { reference.appendingPathComponent($0).path })
        #expect(ingest.status == 0, "\(ingest.output)")
        // Settled on a copy of the restored database: the restored one itself is served next.
        let check = directory.appendingPathComponent("check.sqlite").path
        #expect(try await Fixture.run(["backup", "--db", restored, "--to", check]).status == 0)
        #expect(
            try Self.settledExport(config: config, db: check) == Self.settledExport(config: config, db: referenceDB))

        // Everything posted again to the restored copy: what it had is skipped, the rest completes it.
        server = try await Server(arguments: ["serve", "--config", config, "--db", restored, "--port", "0"])
        var added = 0
        for body in bodies { added += try await Self.post(body, to: server) }
        server.stop()
        #expect(added == posted.dropFirst(prefix).reduce(0, +))
        let fullDB = directory.appendingPathComponent("full.sqlite").path
        let full = try await Fixture.run(
            [
                "ingest", "--quiet", "--config", config, "--db", fullDB,
                Fixture.sampleDay.appendingPathComponent("asterisk").path,
            ])
        #expect(full.status == 0, "\(full.output)")
        #expect(try Self.settledExport(config: config, db: restored) == Self.settledExport(config: config, db: fullDB))
    }

    @Test(
        "restore refuses a file that is not a FirstContact database or fails the integrity check, and leaves the database alone"
    )
    func restoreChecksTheCopy() async throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("fc.sqlite").path
        let store = try SQLiteContactStore(path: db)
        _ = try await IngestPipeline(engine: try Fixture.engine(), store: store)
            .ingest(paths: [Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv").path], format: nil)
        let before = try await store.totals()

        let garbage = directory.appendingPathComponent("garbage.sqlite").path
        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: DatabaseCopyError.self) {
            try SQLiteContactStore.restore(from: garbage, to: db, overwrite: true)
        }

        // A good backup with one page overwritten in the middle.
        let copy = directory.appendingPathComponent("copy.sqlite").path
        let summary = try SQLiteContactStore.backup(from: db, to: copy, overwrite: false)
        #expect(summary.records == before.records)
        #expect(summary.contacts == before.contacts)
        let damaged = directory.appendingPathComponent("damaged.sqlite").path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: copy))
        let page = 4096
        let middle = (bytes.count / page / 2) * page
        bytes.replaceSubrange(middle..<middle + page, with: Data(repeating: 0x5A, count: page))
        try bytes.write(to: URL(fileURLWithPath: damaged))
        #expect(throws: DatabaseCopyError.self) {
            try SQLiteContactStore.restore(from: damaged, to: db, overwrite: true)
        }
        #expect(try await store.totals() == before)

        // This process holds `db` open: the check for another process does not see itself.
        #expect(SQLiteContactStore.processHolding(db) == nil)
        #expect(throws: DatabaseCopyError.exists(copy)) {
            try SQLiteContactStore.backup(from: db, to: copy, overwrite: false)
        }
    }
}
