import FirstContactCore
import Foundation
import GRDB
import Testing

/// The `firstcontact` binary as scripts use it: the forms SPEC "Outputs" spells out, and its exit codes.
@Suite("firstcontact command line", .serialized, .timeLimit(.scaled(minutes: 5)))
struct CLITests {
    let config = Fixture.sampleConfig

    @Test("--help explains every subcommand")
    func help() throws {
        let (status, output) = try Fixture.runBlocking(["--help"])
        #expect(status == 0)
        for command in [
            "ingest", "tick", "contacts", "obligations", "violations", "explain", "export", "check-config", "simulate",
        ] {
            #expect(output.contains(command), "help lacks \(command)")
        }
    }

    @Test("--help names every input format by its --format name")
    func helpNamesInputs() throws {
        let (status, output) = try Fixture.runBlocking(["--help"])
        #expect(status == 0)
        for format in InputFormat.allCases {
            #expect(output.contains(format.rawValue), "help lacks \(format.rawValue)")
        }
        for source in ["Master.csv", "queue_log", "mod_xml_cdr", "event-socket", "IVR", "Kamailio"] {
            #expect(output.contains(source), "help lacks \(source)")
        }
    }

    @Test("--version names the release and the schema a database it writes is at, for an admin about to upgrade")
    func version() throws {
        let (status, output) = try Fixture.runBlocking(["--version"])
        #expect(status == 0, "\(output)")
        #expect(output.hasPrefix("firstcontact \(Release.version)\n"), "\(output)")
        #expect(output.contains("PostgreSQL schema: v"), "\(output)")

        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("Master.csv")
        try Data().write(to: empty)
        let db = directory.appendingPathComponent("fc.sqlite").path
        let ingest = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--format", "asterisk-csv", empty.path,
        ])
        #expect(ingest.status == 0, "\(ingest.output)")
        // A new file's migrations are applied, and so recorded, in their order.
        let latest = try DatabaseQueue(path: db).read { db in
            try String.fetchOne(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1")
        }
        #expect(output.contains("SQLite schema: \(try #require(latest))\n"), "\(output)")
    }

    @Test(
        "an unknown command exits 64 and says so, with or without --help; it never prints the general help",
        arguments: [
            ["shred"], ["shred", "--help"], ["shred", "-h"], ["help", "shred"], ["obligations", "shred"],
            ["violations", "shred", "--help"],
        ])
    func unknownCommand(arguments: [String]) throws {
        let (status, output) = try Fixture.runBlocking(arguments)
        #expect(status == 64, "\(output)")
        #expect(output.contains("unknown command"), "\(output)")
        #expect(output.contains("shred"))
        #expect(!output.contains("OVERVIEW"), "\(output)")
    }

    @Test(
        "help on a command that exists still exits 0",
        arguments: [
            ["ingest", "--help"], ["help", "ingest"], ["obligations", "--help"], ["obligations", "ack", "--help"],
            ["simulate", "-h"],
        ])
    func knownCommandHelp(arguments: [String]) throws {
        let (status, output) = try Fixture.runBlocking(arguments)
        #expect(status == 0, "\(output)")
        #expect(output.contains("USAGE"))
        #expect(!output.contains("unknown command"))
    }

    @Test("an empty file without --format (a log just rotated) is read as nothing, not rejected")
    func emptyFileIsNoReject() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("Master.csv")
        try Data().write(to: empty)
        let result = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", directory.appendingPathComponent("fc.sqlite").path, empty.path,
        ])
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.output.contains("could not tell the file's format"), "\(result.output)")
        #expect(result.output.contains("0 rejected"), "\(result.output)")
    }

    @Test("an ingest that stores nothing says there are no records yet; the next one prints its watermark")
    func emptyIngestHasNoClock() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("Master.csv")
        try Data().write(to: empty)
        let db = directory.appendingPathComponent("fc.sqlite").path

        let text = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--format", "asterisk-csv", empty.path,
        ])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("Clock (event-time watermark): no records yet"), "\(text.output)")
        #expect(!text.output.contains("-146138510344"))
        let json = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--format", "asterisk-csv", "--json", empty.path,
        ])
        #expect(json.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(document["clock"] is NSNull, "\(json.output)")

        let day = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, Fixture.sampleDay.appendingPathComponent("asterisk").path,
        ])
        #expect(day.status == 0)
        #expect(day.output.contains("Clock (event-time watermark): 2026-11-2"), "\(day.output)")
    }

    @Test(
        "simulate writes what the demo reads by default (asterisk/, ivr/, expected.json); --formats chooses; an unknown format exits 64"
    )
    func simulateFormats() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manager = FileManager.default
        func simulate(_ out: URL, _ extra: [String] = []) throws -> (status: Int32, output: String) {
            try Fixture.runBlocking(
                [
                    "simulate", "--config", self.config, "--seed", "4", "--calls", "30", "--date", "2026-11-27",
                    "--out", out.path,
                ] + extra)
        }
        let standard = directory.appendingPathComponent("default")
        let first = try simulate(standard)
        #expect(first.status == 0, "\(first.output)")
        #expect(
            try manager.contentsOfDirectory(atPath: standard.path).sorted() == ["asterisk", "expected.json", "ivr"])
        #expect(first.output.contains("CDR rows") && first.output.contains("IVR events"))
        #expect(!first.output.contains("FreeSWITCH"))

        let freeswitch = directory.appendingPathComponent("freeswitch")
        let second = try simulate(freeswitch, ["--formats", "freeswitch"])
        #expect(second.status == 0, "\(second.output)")
        #expect(try manager.contentsOfDirectory(atPath: freeswitch.path).sorted() == ["expected.json", "freeswitch"])
        #expect(
            try manager.contentsOfDirectory(atPath: freeswitch.appendingPathComponent("freeswitch/xml_cdr").path).count
                > 30)
        #expect(
            try Data(contentsOf: freeswitch.appendingPathComponent("expected.json"))
                == Data(contentsOf: standard.appendingPathComponent("expected.json")))

        let everything = directory.appendingPathComponent("all")
        #expect(try simulate(everything, ["--formats", "asterisk,freeswitch,ivr"]).status == 0)
        #expect(
            try manager.contentsOfDirectory(atPath: everything.path).sorted() == [
                "asterisk", "expected.json", "freeswitch", "ivr",
            ])

        let unknown = try simulate(directory.appendingPathComponent("bad"), ["--formats", "asterisk,fax"])
        #expect(unknown.status == 64)
        #expect(unknown.output.contains("fax"))
        #expect(!manager.fileExists(atPath: directory.appendingPathComponent("bad").path))
    }

    @Test(
        "ingest --dry-run decodes and reports (records, ignored events, rejects with reasons) without creating a store")
    func dryRun() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = Fixture.corpus.appendingPathComponent("freeswitch-esl-plain/neventsocket_Example3.txt").path
        let broken = directory.appendingPathComponent("broken.log")
        try "Content-Length: 900\nContent-Type: text/event-plain\n\nEvent-Name: CUSTOM\n".write(
            to: broken, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("never.sqlite").path

        let clean = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--dry-run", "--json", capture,
        ])
        #expect(clean.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(clean.output.utf8)) as? [String: Any])
        #expect(document["records"] as? Int == 22)
        #expect(document["rejects"] as? Int == 0)
        let files = try #require(document["files"] as? [[String: Any]])
        #expect(files.first?["format"] as? String == "freeswitch-events")

        let rejected = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--dry-run", capture, broken.path,
        ])
        #expect(rejected.status == 2)
        #expect(rejected.output.contains("23 records (22 without call data), 1 rejected; nothing stored"))
        #expect(
            rejected.output.contains(
                "broken.log:1 (byte 0): FreeSWITCH event refused: Content-Length 900 runs past the end"))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("ingest exits 2 when records were rejected, 0 with --allow-rejects, and export --json works as written")
    func ingestExitCodesAndExport() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let master = Fixture.sampleDay.appendingPathComponent("asterisk/Master.csv")
        let lines = try String(contentsOf: master, encoding: .utf8).split(separator: "\n").prefix(20)
        let file = directory.appendingPathComponent("Master.csv")
        try ((lines + ["\"broken"]).joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("cli.sqlite").path

        let rejected = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--format", "asterisk-csv", file.path,
        ])
        #expect(rejected.status == 2)
        #expect(rejected.output.contains("Master.csv:21"))
        let allowed = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, "--allow-rejects", file.path,
        ])
        #expect(allowed.status == 0)
        #expect(allowed.output.contains("20 already stored"))

        let export = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
        #expect(export.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(export.output.utf8)) as? [String: Any])
        #expect((document["rejects"] as? [Any])?.count == 1)
        #expect(((document["contacts"] as? [Any])?.count ?? 0) > 0)
    }

    @Test("tick --now applies deadlines up to that time and never moves the clock back")
    func tick() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let db = directory.appendingPathComponent("tick.sqlite").path
        _ = try Fixture.runBlocking([
            "ingest", "--config", self.config, "--db", db, Fixture.sampleDay.appendingPathComponent("asterisk").path,
        ])
        let late = try Fixture.runBlocking([
            "tick", "--config", self.config, "--db", db, "--now", "2026-11-27T23:59:59+08:00",
        ])
        #expect(late.status == 0)
        #expect(late.output.contains("Clock 2026-11-27T15:59:59Z"))
        let earlier = try Fixture.runBlocking([
            "tick", "--config", self.config, "--db", db, "--now", "2026-11-27T12:00:00+08:00",
        ])
        #expect(earlier.output.contains("Clock 2026-11-27T15:59:59Z"))

        let contacts = try Fixture.runBlocking([
            "contacts", "--config", self.config, "--db", db, "--status", "awaiting_callback", "--json",
        ])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(contacts.output.utf8)) as? [[String: Any]])
        #expect(!list.isEmpty)
        #expect(list.allSatisfy { $0["status"] as? String == "awaiting_callback" })

        // Obligation filters are applied by the store: every row matches, none is missing.
        let breached = try Fixture.runBlocking([
            "obligations", "--config", self.config, "--db", db, "--state", "breached", "--kind", "callback", "--json",
        ])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(breached.output.utf8)) as? [[String: Any]])
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0["state"] as? String == "breached" && $0["kind"] as? String == "callback" })
        let export = try Fixture.runBlocking(["export", "--config", self.config, "--db", db, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(export.output.utf8)) as? [String: Any])
        let all = (document["contacts"] as? [[String: Any]] ?? []).flatMap {
            $0["obligations"] as? [[String: Any]] ?? []
        }
        #expect(
            rows.count
                == all.filter { $0["state"] as? String == "breached" && $0["kind"] as? String == "callback" }.count)

        let id = try #require(list.first?["id"] as? String)
        let explain = try Fixture.runBlocking(["explain", "--config", self.config, "--db", db, id])
        #expect(explain.status == 0)
        #expect(explain.output.contains("missed_call_callback"))
        #expect(explain.output.contains("Why:"))
    }

    @Test(
        "usage errors exit 64",
        arguments: [
            ["ingest", "--no-such-flag"],
            ["tick", "--now", "yesterday"],
            ["ingest", "--format", "excel", "x.csv"],
        ])
    func usageErrors(arguments: [String]) throws {
        let (status, _) = try Fixture.runBlocking(arguments)
        #expect(status == 64)
    }

    @Test("a configuration problem exits 1 and names the line and key")
    func badConfiguration() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        try """
        timezone: Asia/Shanghai
        departments:
          - {id: service, name: 客服, callback_sla: 30x}
        agents:
          - {id: "1001", name: 张敏, department: nowhere}
        """.write(to: file, atomically: true, encoding: .utf8)
        let (status, output) = try Fixture.runBlocking(["check-config", "--config", file.path])
        #expect(status == 1)
        #expect(output.contains("bad.yaml:3:"))
        #expect(output.contains("callback_sla"))
        #expect(output.contains("bad.yaml:5:"))
        #expect(output.contains("nowhere"))
        let missing = try Fixture.runBlocking([
            "ingest", "--config", directory.appendingPathComponent("none.yaml").path, "x",
        ])
        #expect(missing.status == 1)
        #expect(missing.output.contains("none.yaml"))
    }

    @Test("a PostgreSQL URL is refused clearly until that store exists")
    func postgresNotYet() throws {
        let (status, output) = try Fixture.runBlocking([
            "contacts", "--config", self.config, "--db", "postgres://localhost/fc",
        ])
        #expect(status == 1)
        #expect(output.contains("PostgreSQL"))
    }

    @Test(
        "serve refuses to start, exit 1, naming the variable, when a webhook's secret_env is unset; a bad webhook URL or max_attempts is a config error"
    )
    func serveNeedsWebhookSecret() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(contentsOfFile: self.config, encoding: .utf8)
        let file = directory.appendingPathComponent("hooks.yaml")
        try
            (sample
            + "\nwebhooks:\n  - {url: \"http://127.0.0.1:9/hooks\", secret_env: FC_TEST_SECRET_NEVER_SET_7F3A, max_attempts: 3}\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("s.sqlite").path
        let (status, output) = try Fixture.runBlocking(["serve", "--config", file.path, "--db", db, "--port", "0"])
        #expect(status == 1)
        #expect(output.contains("FC_TEST_SECRET_NEVER_SET_7F3A"))

        let bad = directory.appendingPathComponent("bad-hooks.yaml")
        try (sample + "\nwebhooks:\n  - {url: \"ftp://example/hooks\", secret_env: X, max_attempts: 0}\n")
            .write(to: bad, atomically: true, encoding: .utf8)
        let check = try Fixture.runBlocking(["check-config", "--config", bad.path])
        #expect(check.status == 1)
        #expect(check.output.contains("not an http:// or https:// URL"))
        #expect(check.output.contains("max_attempts"))
    }
}
