import Foundation
import Testing

/// The `firstcontact` binary as scripts use it: the forms SPEC "Outputs" spells out, and its exit codes.
@Suite("firstcontact command line", .serialized)
struct CLITests {
    let config = Fixture.sampleConfig

    @Test("--help explains every subcommand")
    func help() throws {
        let (status, output) = try Fixture.run(["--help"])
        #expect(status == 0)
        for command in ["ingest", "tick", "contacts", "obligations", "violations", "explain", "export", "check-config", "simulate"] {
            #expect(output.contains(command), "help lacks \(command)")
        }
    }

    @Test("ingest --dry-run decodes and reports (records, ignored events, rejects with reasons) without creating a store")
    func dryRun() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let capture = Fixture.corpus.appendingPathComponent("freeswitch-esl-plain/neventsocket_Example3.txt").path
        let broken = directory.appendingPathComponent("broken.log")
        try "Content-Length: 900\nContent-Type: text/event-plain\n\nEvent-Name: CUSTOM\n".write(
            to: broken, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("never.sqlite").path

        let clean = try Fixture.run(["ingest", "--config", self.config, "--db", db, "--dry-run", "--json", capture])
        #expect(clean.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(clean.output.utf8)) as? [String: Any])
        #expect(document["records"] as? Int == 22)
        #expect(document["rejects"] as? Int == 0)
        let files = try #require(document["files"] as? [[String: Any]])
        #expect(files.first?["format"] as? String == "freeswitch-events")

        let rejected = try Fixture.run(["ingest", "--config", self.config, "--db", db, "--dry-run", capture, broken.path])
        #expect(rejected.status == 2)
        #expect(rejected.output.contains("23 records (22 without call data), 1 rejected; nothing stored"))
        #expect(rejected.output.contains("broken.log:1 (byte 0): FreeSWITCH event refused: Content-Length 900 runs past the end"))
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

        let rejected = try Fixture.run(["ingest", "--config", self.config, "--db", db, "--format", "asterisk-csv", file.path])
        #expect(rejected.status == 2)
        #expect(rejected.output.contains("Master.csv:21"))
        let allowed = try Fixture.run(["ingest", "--config", self.config, "--db", db, "--allow-rejects", file.path])
        #expect(allowed.status == 0)
        #expect(allowed.output.contains("20 already stored"))

        let export = try Fixture.run(["export", "--config", self.config, "--db", db, "--json"])
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
        _ = try Fixture.run(["ingest", "--config", self.config, "--db", db, Fixture.sampleDay.appendingPathComponent("asterisk").path])
        let late = try Fixture.run(["tick", "--config", self.config, "--db", db, "--now", "2026-11-27T23:59:59+08:00"])
        #expect(late.status == 0)
        #expect(late.output.contains("Clock 2026-11-27T15:59:59Z"))
        let earlier = try Fixture.run(["tick", "--config", self.config, "--db", db, "--now", "2026-11-27T12:00:00+08:00"])
        #expect(earlier.output.contains("Clock 2026-11-27T15:59:59Z"))

        let contacts = try Fixture.run(["contacts", "--config", self.config, "--db", db, "--status", "awaiting_callback", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(contacts.output.utf8)) as? [[String: Any]])
        #expect(!list.isEmpty)
        #expect(list.allSatisfy { $0["status"] as? String == "awaiting_callback" })

        // Obligation filters are applied by the store: every row matches, none is missing.
        let breached = try Fixture.run(["obligations", "--config", self.config, "--db", db, "--state", "breached", "--kind", "callback", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(breached.output.utf8)) as? [[String: Any]])
        #expect(!rows.isEmpty)
        #expect(rows.allSatisfy { $0["state"] as? String == "breached" && $0["kind"] as? String == "callback" })
        let export = try Fixture.run(["export", "--config", self.config, "--db", db, "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(export.output.utf8)) as? [String: Any])
        let all = (document["contacts"] as? [[String: Any]] ?? []).flatMap { $0["obligations"] as? [[String: Any]] ?? [] }
        #expect(rows.count == all.filter { $0["state"] as? String == "breached" && $0["kind"] as? String == "callback" }.count)

        let id = try #require(list.first?["id"] as? String)
        let explain = try Fixture.run(["explain", "--config", self.config, "--db", db, id])
        #expect(explain.status == 0)
        #expect(explain.output.contains("missed_call_callback"))
        #expect(explain.output.contains("Why:"))
    }

    @Test("usage errors exit 64", arguments: [
        ["ingest", "--no-such-flag"],
        ["tick", "--now", "yesterday"],
        ["ingest", "--format", "excel", "x.csv"],
    ])
    func usageErrors(arguments: [String]) throws {
        let (status, _) = try Fixture.run(arguments)
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
        let (status, output) = try Fixture.run(["check-config", "--config", file.path])
        #expect(status == 1)
        #expect(output.contains("bad.yaml:3:"))
        #expect(output.contains("callback_sla"))
        #expect(output.contains("bad.yaml:5:"))
        #expect(output.contains("nowhere"))
        let missing = try Fixture.run(["ingest", "--config", directory.appendingPathComponent("none.yaml").path, "x"])
        #expect(missing.status == 1)
        #expect(missing.output.contains("none.yaml"))
    }

    @Test("a PostgreSQL URL is refused clearly until that store exists")
    func postgresNotYet() throws {
        let (status, output) = try Fixture.run(["contacts", "--config", self.config, "--db", "postgres://localhost/fc"])
        #expect(status == 1)
        #expect(output.contains("PostgreSQL"))
    }

    @Test("serve refuses to start, exit 1, naming the variable, when a webhook's secret_env is unset; a bad webhook URL or max_attempts is a config error")
    func serveNeedsWebhookSecret() throws {
        let directory = try Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let sample = try String(contentsOfFile: self.config, encoding: .utf8)
        let file = directory.appendingPathComponent("hooks.yaml")
        try (sample + "\nwebhooks:\n  - {url: \"http://127.0.0.1:9/hooks\", secret_env: FC_TEST_SECRET_NEVER_SET_7F3A, max_attempts: 3}\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let db = directory.appendingPathComponent("s.sqlite").path
        let (status, output) = try Fixture.run(["serve", "--config", file.path, "--db", db, "--port", "0"])
        #expect(status == 1)
        #expect(output.contains("FC_TEST_SECRET_NEVER_SET_7F3A"))

        let bad = directory.appendingPathComponent("bad-hooks.yaml")
        try (sample + "\nwebhooks:\n  - {url: \"ftp://example/hooks\", secret_env: X, max_attempts: 0}\n")
            .write(to: bad, atomically: true, encoding: .utf8)
        let check = try Fixture.run(["check-config", "--config", bad.path])
        #expect(check.status == 1)
        #expect(check.output.contains("not an http:// or https:// URL"))
        #expect(check.output.contains("max_attempts"))
    }
}
