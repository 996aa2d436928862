import Foundation
import GRDB
import Testing

/// Issue 19 §3: a command that only reads opens the database read-only — no migration, no
/// write — so a backup, a copy or a read-only mount stays byte for byte what it was.
@Suite("reading commands never write", .serialized)
struct ReadOnlyCommandTests {
    let config = Fixture.sampleConfig

    /// SHA-256 of the database file and of its -wal and -shm when present, by file name.
    private func fingerprint(_ db: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: db + suffix) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            process.arguments = [db + suffix]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            result["db" + suffix] = String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init)
        }
        return result
    }

    @Test("export, contacts, obligations, violations and explain leave the database file and its -wal/-shm unchanged")
    func readingLeavesTheFileAlone() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("day.sqlite").path
        let ingest = try Fixture.runBlocking([
            "ingest", "--quiet", "--config", self.config, "--db", db,
            Fixture.sampleDay.appendingPathComponent("asterisk").path,
        ])
        #expect(ingest.status == 0)
        let written = try self.fingerprint(db)
        let listed = try Fixture.runBlocking([
            "contacts", "--config", self.config, "--db", db, "--json", "--limit", "1",
        ])
        // SQLite gives a WAL database's first reader an empty -wal and a -shm index when the last
        // writer removed them; the database file itself stays as the writer left it.
        #expect(try self.fingerprint(db)["db"] == written["db"])
        #expect((try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0 == 0)
        let contacts = try #require(
            try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]])
        let id = try #require(contacts.first?["id"] as? String)

        let before = try self.fingerprint(db)
        #expect(before["db"] != nil)
        let commands: [[String]] = [
            ["export", "--json"], ["contacts"], ["contacts", "--status", "awaiting_callback", "--json"],
            ["obligations"],
            ["obligations", "list", "--state", "breached", "--json"], ["violations"], ["violations", "list", "--json"],
            ["explain", id],
        ]
        for command in commands {
            let run = try Fixture.runBlocking(command + ["--config", self.config, "--db", db])
            #expect(run.status == 0, "\(command.joined(separator: " ")): \(run.output.prefix(300))")
            #expect(try self.fingerprint(db) == before, "\(command.joined(separator: " ")) changed the database")
        }
    }

    @Test("a reading command on a missing database says so and creates nothing (exit 1)")
    func missingDatabase() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("never.sqlite").path
        for command in [["contacts"], ["export", "--json"], ["explain", "C0"]] {
            let run = try Fixture.runBlocking(command + ["--config", self.config, "--db", db])
            #expect(run.status == 1)
            #expect(run.output.contains("no database at \(db); run ingest first"), "\(run.output.prefix(300))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test("a database from a newer release is refused by readers and writers alike, naming both versions (exit 1)")
    func newerDatabase() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("newer.sqlite").path
        let file = Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv").path
        #expect(try Fixture.runBlocking(["ingest", "--quiet", "--config", self.config, "--db", db, file]).status == 0)
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        let before = try self.fingerprint(db)["db"]
        let export = try Fixture.runBlocking(["export", "--json", "--config", self.config, "--db", db])
        #expect(try self.fingerprint(db)["db"] == before)
        let ingest = try Fixture.runBlocking(["ingest", "--quiet", file, "--config", self.config, "--db", db])
        for run in [export, ingest] {
            #expect(run.status == 1)
            #expect(run.output.contains("newer release (schema v99-from-the-future)"), "\(run.output.prefix(300))")
            #expect(run.output.contains("this build knows schema up to v"))
        }
    }
}
